import assert from "node:assert/strict";
import { isPublicAddress } from "../../services/providers/addresses.ts";
import { CircuitBreaker } from "../../services/providers/breaker.ts";
import { checkUrl, parseRetryAfter, UpstreamError } from "../../services/providers/http_client.ts";

Deno.test("isPublicAddress refuses every non-public range, IPv4 and IPv6", () => {
  const blocked = [
    "0.0.0.0",
    "10.1.2.3",
    "100.64.0.1",
    "127.0.0.1",
    "169.254.169.254",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "192.0.0.1",
    "198.18.0.1",
    "224.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "[::1]",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "::ffff:10.0.0.1",
    "::ffff:127.0.0.1",
    "64:ff9b::a00:1",
    "2001:db8::1",
    "not-an-ip",
    "1.2.3",
    "256.1.1.1",
  ];
  for (const address of blocked) assert.equal(isPublicAddress(address), false, address);
  const allowed = ["93.184.216.34", "8.8.8.8", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8"];
  for (const address of allowed) assert.equal(isPublicAddress(address), true, address);
});

Deno.test("CircuitBreaker: closed, open after the threshold, one half-open probe, closed again", () => {
  let now = 0;
  const breaker = new CircuitBreaker({ failureThreshold: 5, coolDownMs: 30_000, now: () => now });
  for (let i = 0; i < 4; i++) {
    assert.equal(breaker.tryAcquire(), true);
    breaker.recordFailure();
  }
  assert.equal(breaker.state, "closed");
  breaker.recordFailure();
  assert.equal(breaker.state, "open");
  assert.equal(breaker.tryAcquire(), false);
  assert.equal(breaker.retryAfterSeconds, 30);
  now = 29_999;
  assert.equal(breaker.tryAcquire(), false);
  now = 30_000;
  assert.equal(breaker.state, "half_open");
  assert.equal(breaker.tryAcquire(), true);
  assert.equal(breaker.tryAcquire(), false, "Only one probe at a time");
  breaker.recordFailure();
  assert.equal(breaker.state, "open", "A failed probe re-opens the circuit");
  now = 60_000;
  assert.equal(breaker.tryAcquire(), true);
  breaker.recordSuccess();
  assert.equal(breaker.state, "closed");
  assert.equal(breaker.retryAfterSeconds, 0);
});

Deno.test("A success resets the count of consecutive failures", () => {
  const breaker = new CircuitBreaker({ failureThreshold: 2 });
  breaker.recordFailure();
  breaker.recordSuccess();
  breaker.recordFailure();
  assert.equal(breaker.state, "closed");
});

Deno.test("parseRetryAfter reads seconds and HTTP dates", () => {
  assert.equal(parseRetryAfter("0"), 0);
  assert.equal(parseRetryAfter(" 7 "), 7000);
  assert.equal(parseRetryAfter(null), undefined);
  const date = new Date(Date.now() + 60_000).toUTCString();
  const ms = parseRetryAfter(date)!;
  assert.ok(ms > 55_000 && ms <= 60_000);
  assert.equal(parseRetryAfter(new Date(0).toUTCString()), 0);
});

Deno.test("checkUrl refuses plain http, credentials and private addresses", async () => {
  const strict = { allowPrivate: false, allowHttp: false };
  const cases: [string, RegExp][] = [
    ["http://example.org/a.csv", /Only https/],
    ["ftp://example.org/a.csv", /Only https/],
    ["https://user:pw@example.org/a.csv", /credentials/],
    ["https://127.0.0.1/a.csv", /non-public/],
    ["https://[::1]/a.csv", /non-public/],
    ["https://localhost/a.csv", /non-public/],
  ];
  for (const [url, message] of cases) {
    await assert.rejects(checkUrl(new URL(url), strict), (error) => {
      assert.ok(error instanceof UpstreamError);
      assert.equal(error.failure, "forbidden");
      assert.match(error.message, message);
      return true;
    });
  }
  await checkUrl(new URL("http://127.0.0.1/a.csv"), { allowPrivate: true, allowHttp: true });
});
