import assert from "node:assert/strict";
import type { Database } from "../../db/mod.ts";
import type { SecurityOptions } from "../../routes/mod.ts";
import { ApiKeys, parseKeyEntries } from "../../services/security/api_keys.ts";
import { assertProblem } from "../helpers/assert_problem.ts";
import { postReport, SAMPLE_CSV, testApp, type TestWorld } from "../helpers/test_app.ts";

const NOISY = "n".repeat(32);
const QUIET = "q".repeat(32);

function limited(extra: Partial<SecurityOptions> = {}): (db: Database) => SecurityOptions {
  return (db) => ({
    keys: new ApiKeys({
      db,
      configured: parseKeyEntries(`noisy:${NOISY}:admin,quiet:${QUIET}:admin`, {
        separator: ",",
      }),
      required: true,
    }),
    rateLimits: { read: { perSecond: 1, burst: 5 }, write: { perSecond: 1, burst: 2 } },
    ...extra,
  });
}

// In-process requests have no socket; the env Deno.serve would pass carries the peer.
function fromAddress(world: TestWorld, path: string, address: string, init: RequestInit = {}) {
  return world.app.request(path, init, { remoteAddr: { hostname: address, port: 40000 } });
}

/** Spends the 5-read burst from `address`, with the headers request `i` gets. */
async function spendReads(
  world: TestWorld,
  address: string,
  headers: (i: number) => Record<string, string>,
): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const res = await fromAddress(world, "/v1/reports", address, { headers: headers(i) });
    await res.body?.cancel();
  }
}

Deno.test("A flood from one key gets 429s while another key is served", async () => {
  await using world = await testApp({ security: limited() });
  const noisy = { authorization: `Bearer ${NOISY}` };
  const statuses: number[] = [];
  let refused: Response | undefined;
  for (let i = 0; i < 8; i++) {
    const res = await world.app.request("/v1/reports", { headers: noisy });
    statuses.push(res.status);
    if (res.status === 429) refused = res;
    else await res.body?.cancel();
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
  assert.ok(refused);
  assert.equal(refused.headers.get("retry-after"), "1");
  assert.equal(refused.headers.get("ratelimit-limit"), "5");
  assert.equal(refused.headers.get("ratelimit-remaining"), "0");
  assert.match(refused.headers.get("ratelimit-reset") ?? "", /^[1-5]$/);
  assert.match((await assertProblem(refused, 429)).detail ?? "", /Too many reads/);

  const quiet = await world.app.request("/v1/reports", {
    headers: { authorization: `Bearer ${QUIET}` },
  });
  assert.equal(quiet.status, 200);
  assert.equal(quiet.headers.get("ratelimit-remaining"), "4");
  await quiet.body?.cancel();
});

Deno.test("Reads and writes are budgeted apart", async () => {
  await using world = await testApp({ security: limited() });
  const headers = { authorization: `Bearer ${NOISY}` };
  const writes = [];
  for (let i = 0; i < 3; i++) {
    const res = await postReport(world, SAMPLE_CSV, { headers });
    writes.push(res.status);
    await res.body?.cancel();
  }
  assert.deepEqual(writes, [202, 202, 429]);
  const read = await world.app.request("/v1/reports", { headers });
  assert.equal(read.status, 200, "The read budget is untouched");
  await read.body?.cancel();
});

Deno.test("Anonymous clients are limited per address; bad keys count against it", async () => {
  await using world = await testApp({ security: limited({ publicRead: true }) });
  await spendReads(world, "192.0.2.1", (i) => ({ authorization: `Bearer made-up-key-${i}` }));
  await assertProblem(await fromAddress(world, "/v1/reports", "192.0.2.1"), 429);
  const other = await fromAddress(world, "/v1/reports", "192.0.2.2");
  assert.equal(other.status, 200, "Another address is served");
  await other.body?.cancel();
});

Deno.test("X-Forwarded-For is believed only with trustProxy, and only its last entry", async () => {
  {
    await using world = await testApp({ security: limited({ publicRead: true }) });
    await spendReads(world, "10.0.0.1", (i) => ({ "x-forwarded-for": `198.51.100.${i}` }));
    const spoofed = await fromAddress(world, "/v1/reports", "10.0.0.1", {
      headers: { "x-forwarded-for": "198.51.100.99" },
    });
    await assertProblem(spoofed, 429);
  }
  {
    await using world = await testApp({
      security: limited({ publicRead: true, trustProxy: true }),
    });
    // The client prepends whatever it likes; the proxy appends the real address.
    await spendReads(world, "10.0.0.1", (i) => ({
      "x-forwarded-for": `203.0.113.${i}, 198.51.100.7`,
    }));
    const same = await fromAddress(world, "/v1/reports", "10.0.0.1", {
      headers: { "x-forwarded-for": "203.0.113.200, 198.51.100.7" },
    });
    await assertProblem(same, 429);
    const other = await fromAddress(world, "/v1/reports", "10.0.0.1", {
      headers: { "x-forwarded-for": "198.51.100.8" },
    });
    assert.equal(other.status, 200);
    await other.body?.cancel();
  }
});

Deno.test("Health and readiness probes are never rate-limited", async () => {
  await using world = await testApp({ security: limited() });
  for (let i = 0; i < 20; i++) {
    const res = await world.app.request("/healthz");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("ratelimit-limit"), null);
    await res.body?.cancel();
  }
});
