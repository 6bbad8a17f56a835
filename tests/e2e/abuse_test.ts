/**
 * Abuse resistance against a real `main.ts serve` under the production
 * permission set: slow-loris clients on real sockets, a body that trickles,
 * garbage bytes, a flood from one client while another is served, and the
 * keys command creating and revoking the key a live server checks.
 *
 * @module
 */
import assert from "node:assert/strict";
import { rawClient, trickle } from "../helpers/raw_http.ts";
import { runCli, startServer } from "../helpers/server_process.ts";

const CSV = "timestamp,value\n2020-01-10,1.5\n2020-01-11,1.7\n";
const SLOW_HEAD = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nUser-Agent: slowloris\r\n" +
  "Accept: */*\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";

async function assertUploadAccepted(baseUrl: string): Promise<void> {
  const upload = await fetch(`${baseUrl}/v1/reports`, {
    method: "POST",
    headers: { "content-type": "text/csv" },
    body: CSV,
  });
  assert.equal(upload.status, 202);
  await upload.body?.cancel();
}

Deno.test("e2e: slow-loris clients are cut off while others are served", async () => {
  await using server = await startServer({
    env: { REPORTD_HEADERS_TIMEOUT: "1s", REPORTD_IDLE_TIMEOUT: "30s" },
  });
  // Twenty clients send a request head a byte every 50 ms: it would take
  // them about 6 s each; the server gives a head 1 s.
  const slow = await Promise.all(Array.from({ length: 20 }, () => rawClient(server.port)));
  const trickling = slow.map((client) => trickle(client, SLOW_HEAD, 50));
  try {
    // Meanwhile the server answers everyone else, uploads included.
    for (let i = 0; i < 5; i++) {
      const health = await fetch(`${server.baseUrl}/healthz`);
      assert.equal(health.status, 200);
      await health.body?.cancel();
    }
    await assertUploadAccepted(server.baseUrl);

    const sent = await Promise.all(trickling);
    for (const [index, client] of slow.entries()) {
      assert.ok(sent[index] < SLOW_HEAD.length, `Client ${index} sent its whole head`);
      assert.equal(await client.readToEnd(), "", `Client ${index} got an answer`);
    }
  } finally {
    for (const client of slow) await client[Symbol.asyncDispose]();
  }
  const after = await fetch(`${server.baseUrl}/readyz`);
  assert.equal(after.status, 200, "Still serving");
  await after.body?.cancel();
});

Deno.test("e2e: a body that trickles gets 408 and frees its upload slot", async () => {
  await using server = await startServer({
    env: {
      REPORTD_BODY_TIMEOUT: "1s",
      REPORTD_BODY_MIN_RATE: "1000000",
      REPORTD_MAX_INFLIGHT_UPLOADS: "1",
    },
  });
  await using client = await rawClient(server.port);
  await client.send(
    "POST /v1/reports HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/csv\r\n" +
      "Content-Length: 1000\r\n\r\ntimestamp,value\n",
  );
  // A byte every 100 ms: far below the minimum rate, so the deadline stays at 1 s.
  const trickling = trickle(client, "2".repeat(200), 100);
  const text = await client.readUntil("did not arrive in time");
  assert.match(text, /^HTTP\/1.1 408 /);
  await client[Symbol.asyncDispose]();
  assert.ok(await trickling < 200, "The whole body went out");
  // The only upload slot is free again.
  await assertUploadAccepted(server.baseUrl);
});

Deno.test("e2e: garbage on the socket is refused and the server stays up", async () => {
  await using server = await startServer();
  const garbage = [
    new Uint8Array(4096).map((_, i) => (i * 7919) % 256),
    new TextEncoder().encode("GET / HTTP/9.9\r\n\r\n"),
    new TextEncoder().encode(`GET /${"a".repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`),
    new TextEncoder().encode("POST /v1/reports HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
    new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"),
  ];
  for (const bytes of garbage) {
    await using client = await rawClient(server.port);
    await client.send(bytes);
    const text = await client.readToEnd(64 * 1024);
    assert.ok(text === "" || /^HTTP\/1.1 4\d\d /.test(text), text.slice(0, 80));
  }
  const health = await fetch(`${server.baseUrl}/healthz`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
});

Deno.test("e2e: a flood from one client gets 429s while another client is served", async () => {
  const noisy = "n".repeat(40);
  const quiet = "q".repeat(40);
  await using server = await startServer({
    env: {
      REPORTD_API_KEYS: `noisy:${noisy}:read+write,quiet:${quiet}:read+write`,
      REPORTD_RATE_READ_PER_S: "5",
      REPORTD_RATE_READ_BURST: "10",
    },
  });
  const get = (key: string) =>
    fetch(`${server.baseUrl}/v1/reports`, { headers: { authorization: `Bearer ${key}` } });
  const flood = Array.from({ length: 60 }, () => get(noisy));
  const quietAnswers = Array.from({ length: 5 }, () => get(quiet));
  const floodStatuses = await Promise.all(flood.map(async (response) => {
    await response.then((res) => res.body?.cancel());
    return (await response).status;
  }));
  const refused = floodStatuses.filter((status) => status === 429).length;
  assert.ok(refused >= 40, `Only ${refused} of 60 flood requests were refused`);
  for (const response of await Promise.all(quietAnswers)) {
    assert.equal(response.status, 200, "The quiet client is served during the flood");
    await response.body?.cancel();
  }
  const last = await get(noisy);
  if (last.status === 429) {
    assert.match(last.headers.get("retry-after") ?? "", /^\d+$/);
    assert.equal(last.headers.get("ratelimit-limit"), "10");
  }
  await last.body?.cancel();
});

Deno.test("e2e: keys create, list and revoke manage the keys a live server checks", async () => {
  await using server = await startServer();
  const env = { REPORTD_DB: `${server.dataDir}/reportd.db` };
  // Open mode: one warning line at start.
  const openLines = server.logs.filter((line) => line.includes("Open mode"));
  assert.equal(openLines.length, 1);
  assert.match(JSON.parse(openLines[0]).level, /^WARN/);

  const created = await runCli(["keys", "create", "--scopes", "read,write", "--name", "ci"], {
    env,
  });
  assert.equal(created.code, 0, created.stderr);
  const key = created.stdout.trim();
  assert.match(key, /^rk_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/);
  const id = key.slice(3, 15);

  const listed = await runCli(["keys", "list"], { env });
  assert.match(listed.stdout, new RegExp(`${id} +ci +read,write`));
  assert.ok(!listed.stdout.includes(key), "list never prints a key");

  // The first key ends open mode at once, without a restart.
  const anonymous = await fetch(`${server.baseUrl}/v1/reports`, { method: "POST", body: CSV });
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.headers.get("www-authenticate"), 'Bearer realm="reportd"');
  await anonymous.body?.cancel();
  const withKey = await fetch(`${server.baseUrl}/v1/reports`, {
    method: "POST",
    headers: { "content-type": "text/csv", authorization: `Bearer ${key}` },
    body: CSV,
  });
  assert.equal(withKey.status, 202);
  await withKey.body?.cancel();

  const revoked = await runCli(["keys", "revoke", id], { env });
  assert.equal(revoked.code, 0, revoked.stderr);
  const afterRevoke = await fetch(`${server.baseUrl}/v1/reports`, {
    headers: { authorization: `Bearer ${key}` },
  });
  assert.equal(afterRevoke.status, 401);
  await afterRevoke.body?.cancel();

  await server.stop();
  assert.ok(!server.logs.join("\n").includes(key.slice(16)), "A key reached the log");
});

Deno.test("e2e: a keys file outside ./data is refused at start with a clear line", async () => {
  const started = startServer({
    env: { REPORTD_API_KEYS_FILE: "/etc/passwd" },
    startTimeoutMs: 20_000,
  });
  // The log line is JSON, so its quotes arrive escaped.
  await assert.rejects(
    started,
    /Cannot use REPORTD_API_KEYS_FILE=\\?"\/etc\/passwd\\?": .*reads only \.\/data/,
  );
});
