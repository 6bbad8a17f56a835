/**
 * The fast lane (routes/fast_lane.ts) against the app behind it, both served
 * by a real `Deno.serve` on loopback from the handler `main.ts` serves. A
 * query string sends the same read through the app (the report route ignores
 * queries), so each pair below is the same request answered both ways.
 */
import assert from "node:assert/strict";
import type { Database } from "../../db/mod.ts";
import type { SecurityOptions } from "../../routes/mod.ts";
import {
  ApiKeys,
  createApiKey,
  parseKeyEntries,
  revokeKey,
} from "../../services/security/api_keys.ts";
import { startTelemetry, type Telemetry } from "../../services/telemetry/mod.ts";
import { assertProblem } from "../helpers/assert_problem.ts";
import { captureLogs } from "../helpers/log_capture.ts";
import { createSettledReport, SAMPLE_CSV, testApp, type TestWorld } from "../helpers/test_app.ts";

/** Headers that differ between any two responses, whoever answers. */
const PER_RESPONSE = new Set(["date", "x-request-id", "ratelimit-remaining"]);

function testTelemetry(): Telemetry {
  return startTelemetry({ serviceName: "reportd-test", serviceVersion: "0.0.0-test" });
}

/** Serves the world's handler on a free loopback port. */
function serve(world: TestWorld): Deno.HttpServer<Deno.NetAddr> & { base: string } {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    world.handler,
  );
  return Object.assign(server, { base: `http://127.0.0.1:${server.addr.port}` });
}

async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: string }> {
  const response = await fetch(url, { headers });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/**
 * Uploads a report (with `headers`), waits until it is ready and reads it once
 * through the served handler, which puts it in the cache the lane answers
 * from. Returns its URL on `server`.
 */
async function cachedReport(
  world: TestWorld,
  server: { base: string },
  headers: Record<string, string> = {},
): Promise<string> {
  const report = await createSettledReport(world, SAMPLE_CSV, { headers });
  assert.equal(report.status, "ready");
  const url = `${server.base}/v1/reports/${report.id}`;
  await (await fetch(url, { headers })).body?.cancel();
  return url;
}

function stableHeaders(headers: Headers): [string, string][] {
  return [...headers].filter(([name]) => !PER_RESPONSE.has(name));
}

/**
 * Asserts that `url` answered by the lane equals `url?via=app` answered by
 * the app, both sent with `headers`.
 */
async function assertSameBothWays(
  world: TestWorld,
  url: string,
  headers: Record<string, string> = {},
): Promise<void> {
  const before = world.handler.answered;
  const fast = await get(url, headers);
  assert.equal(world.handler.answered, before + 1, `${url} was not answered by the fast lane`);
  const slow = await get(`${url}?via=app`, headers);
  assert.equal(world.handler.answered, before + 1, `${url}?via=app did not go to the app`);
  assert.equal(fast.status, slow.status);
  assert.equal(fast.body, slow.body);
  assert.deepEqual(stableHeaders(fast.headers), stableHeaders(slow.headers));
  for (const name of PER_RESPONSE) {
    assert.equal(fast.headers.has(name), slow.headers.has(name), `${name} on one side only`);
  }
}

const READER = "r".repeat(32);
const WRITER = "w".repeat(32);
const PUSHER = "p".repeat(32);
const KEYS = parseKeyEntries(
  `reader:${READER}:read,writer:${WRITER}:write+read,pusher:${PUSHER}:write`,
  { separator: "," },
);
const READ = { authorization: `Bearer ${READER}` };
const WRITE = { authorization: `Bearer ${WRITER}` };

const LIMITS: SecurityOptions["rateLimits"] = {
  read: { perSecond: 1000, burst: 1000 },
  write: { perSecond: 1000, burst: 1000 },
};

for (
  const [label, security] of [
    ["defaults (keys possible, rate limits on)", (db: Database): SecurityOptions => ({
      keys: new ApiKeys({ db, configured: [], required: false }),
      rateLimits: LIMITS,
    })],
    ["HSTS on, no rate limits, no keys", (): SecurityOptions => ({ hsts: true })],
    ["proxy trusted, rate limits on", (): SecurityOptions => ({
      trustProxy: true,
      rateLimits: LIMITS,
    })],
    ["keys required, read with a valid key", (db: Database): SecurityOptions => ({
      keys: new ApiKeys({ db, configured: KEYS, required: true }),
      rateLimits: LIMITS,
    })],
    ["keys required, public reads", (db: Database): SecurityOptions => ({
      keys: new ApiKeys({ db, configured: KEYS, required: true }),
      publicRead: true,
      rateLimits: LIMITS,
    })],
  ] as const
) {
  Deno.test(`Fast lane, ${label}: a cached report and /healthz answer exactly as the app does`, async () => {
    await using telemetry = testTelemetry();
    await using world = await testApp({ telemetry, security });
    await using server = serve(world);
    const report = await createSettledReport(world, SAMPLE_CSV, { headers: WRITE });
    assert.equal(report.status, "ready");
    // The first read through the handler's own app puts the report in its cache.
    await (await fetch(`${server.base}/v1/reports/${report.id}?warm`, { headers: READ }))
      .body?.cancel();
    await assertSameBothWays(world, `${server.base}/v1/reports/${report.id}`, READ);
    await assertSameBothWays(world, `${server.base}/healthz`);
  });
}

Deno.test("Fast lane: request ids are echoed when safe and made when not, as by the app", async () => {
  await using world = await testApp();
  await using server = serve(world);
  const echoed = await get(`${server.base}/healthz`, { "x-request-id": "probe-1" });
  assert.equal(echoed.headers.get("x-request-id"), "probe-1");
  const replaced = await get(`${server.base}/healthz`, { "x-request-id": "not safe" });
  assert.match(replaced.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
  assert.equal(world.handler.answered, 2);
});

/** Sends a raw HTTP/1.1 request (fetch will not send a malformed Host) and returns the head. */
async function rawHead(port: number, request: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(request));
  const text = await new Response(conn.readable).text();
  return text.slice(0, text.indexOf("\r\n\r\n")).toLowerCase();
}

Deno.test("Fast lane: what it is not sure of goes to the app", async () => {
  await using world = await testApp();
  await using server = serve(world);
  const url = await cachedReport(world, server);
  const answered = world.handler.answered;

  const etag = (await get(url)).headers.get("etag") ?? "";
  assert.equal(world.handler.answered, answered + 1);
  const revalidated = await fetch(url, { headers: { "if-none-match": etag } });
  assert.equal(revalidated.status, 304);
  await revalidated.body?.cancel();
  const head = await fetch(url, { method: "HEAD" });
  assert.equal(head.status, 200);
  const series = await get(`${url}/series`);
  assert.equal(series.status, 200);
  const missing = await get(`${server.base}/v1/reports/${crypto.randomUUID()}`);
  assert.equal(missing.status, 404);
  const badHost = await rawHead(
    server.addr.port,
    "GET /healthz HTTP/1.1\r\nHost: x/metrics?\r\nConnection: close\r\n\r\n",
  );
  assert.match(badHost, /^http\/1\.1 400 /);
  assert.match(badHost, /content-type: application\/problem\+json/);
  assert.equal(world.handler.answered, answered + 1, "one of these took the fast lane");
});

Deno.test("Fast lane: with CORS on, every request goes to the app", async () => {
  await using world = await testApp({
    security: () => ({ corsOrigins: ["https://app.example"] }),
  });
  await using server = serve(world);
  const report = await createSettledReport(world, SAMPLE_CSV);
  const url = `${server.base}/v1/reports/${report.id}`;
  for (let i = 0; i < 2; i++) {
    const read = await get(url);
    assert.equal(read.status, 200);
    // The app's CORS layer answers Vary: Origin even without an Origin.
    assert.equal(read.headers.get("vary"), "Origin");
  }
  assert.equal((await get(`${server.base}/healthz`)).status, 200);
  assert.equal(world.handler.answered, 0);
});

Deno.test("Fast lane: a read the limiter would refuse gets the app's 429, and spends one token", async () => {
  await using world = await testApp({
    security: () => ({
      rateLimits: { read: { perSecond: 0.001, burst: 3 }, write: { perSecond: 0, burst: 1 } },
    }),
  });
  await using server = serve(world);
  const report = await createSettledReport(world, SAMPLE_CSV);
  const url = `${server.base}/v1/reports/${report.id}`;
  const first = await get(url); // the app: the report enters the handler's cache
  assert.equal(first.headers.get("ratelimit-remaining"), "2");
  const second = await get(url);
  assert.equal(second.headers.get("ratelimit-remaining"), "1");
  const third = await get(url);
  assert.equal(third.headers.get("ratelimit-remaining"), "0");
  assert.equal(world.handler.answered, 2);
  const refused = await fetch(url);
  assert.match((await assertProblem(refused, 429)).type, /too-many-requests/);
  assert.equal(refused.headers.get("ratelimit-remaining"), "0");
  assert.equal(world.handler.answered, 2);
});

Deno.test("Fast lane: the first API key closes open mode at once, as in the app", async () => {
  await using world = await testApp({
    security: (db) => ({ keys: new ApiKeys({ db, configured: [], required: false }) }),
  });
  await using server = serve(world);
  const url = await cachedReport(world, server);
  assert.equal((await get(url)).status, 200);
  assert.equal(world.handler.answered, 1);
  const created = await createApiKey(world.db, { name: "ops", scopes: ["read"] });
  const refused = await fetch(url);
  assert.match((await assertProblem(refused, 401)).type, /unauthorized/);
  const allowed = await get(url, { authorization: `Bearer ${created.key}` });
  assert.equal(allowed.status, 200);
  assert.equal(world.handler.answered, 2, "a read with a valid key takes the lane");
});

Deno.test("Fast lane: with keys required, a missing, invalid or write-only key gets the app's 401 or 403", async () => {
  await using world = await testApp({
    security: (db) => ({
      keys: new ApiKeys({ db, configured: KEYS, required: true }),
      rateLimits: { read: { perSecond: 0.001, burst: 3 }, write: { perSecond: 0, burst: 1 } },
    }),
  });
  await using server = serve(world);
  const url = await cachedReport(world, server, WRITE);
  await assertProblem(await fetch(url), 401);
  await assertProblem(await fetch(url, { headers: { authorization: "Bearer nope" } }), 401);
  await assertProblem(await fetch(url, { headers: { authorization: `Bearer ${PUSHER}` } }), 403);
  assert.equal(world.handler.answered, 0);
  // The reader's budget is its own (the writer's read above spent the
  // writer's): three reads, then a 429.
  for (const remaining of ["2", "1", "0"]) {
    assert.equal((await get(url, READ)).headers.get("ratelimit-remaining"), remaining);
  }
  assert.equal(world.handler.answered, 3);
  await assertProblem(await fetch(url, { headers: READ }), 429);
});

/** `http.server.request.duration`'s count of 200 answers to `GET /v1/reports/{id}`. */
async function readCount(telemetry: Telemetry): Promise<number> {
  const line = (await telemetry.renderPrometheus()).split("\n").find((text) =>
    text.startsWith("http_server_request_duration_count{") &&
    text.includes('http_route="/v1/reports/:id"') && text.includes('status_code="200"')
  );
  return Number(line?.split(" ").at(-1) ?? 0);
}

Deno.test("Fast lane: access lines and request metrics are those the app writes", async () => {
  await using logs = await captureLogs();
  await using telemetry = testTelemetry();
  await using world = await testApp({ telemetry });
  await using server = serve(world);
  const url = await cachedReport(world, server);
  const before = logs.records().filter((line) => line.logger === "reportd.http.access").length;
  const readsBefore = await readCount(telemetry);
  const fast = await get(url, { "x-request-id": "fast-1" });
  const slow = await get(`${url}?via=app`, { "x-request-id": "slow-1" });
  assert.equal(world.handler.answered, 1);
  const lines = logs.records().filter((line) => line.logger === "reportd.http.access")
    .slice(before);
  assert.equal(lines.length, 2);
  const [fastLine, slowLine] = lines;
  const varying = new Set(["@timestamp", "request_id", "duration_ms", "trace_id", "span_id"]);
  const stable = (line: Record<string, unknown>) =>
    Object.entries(line).filter(([name]) => !varying.has(name));
  assert.deepEqual(stable(fastLine), stable(slowLine));
  assert.equal(fastLine.request_id, "fast-1");
  assert.equal(fastLine.bytes_out, new TextEncoder().encode(fast.body).byteLength);
  assert.equal(slowLine.bytes_out, new TextEncoder().encode(slow.body).byteLength);
  assert.match(String(fastLine.trace_id), /^[0-9a-f]{32}$/);
  // One more each for the fast read and the read through the app.
  assert.equal(await readCount(telemetry), readsBefore + 2);
});

Deno.test("Fast lane: a deleted report is gone from it at once", async () => {
  await using world = await testApp();
  await using server = serve(world);
  const url = await cachedReport(world, server);
  assert.equal((await get(url)).status, 200);
  assert.equal(world.handler.answered, 1);
  const deleted = await fetch(url, { method: "DELETE" });
  assert.equal(deleted.status, 204);
  await assertProblem(await fetch(url), 404);
  assert.equal(world.handler.answered, 1);
});

/** A GET of `url` handed straight to the served handler, as `Deno.serve` calls it. */
function directRead(
  world: TestWorld,
  url: URL,
  headers: Record<string, string> = {},
): () => Response | Promise<Response> {
  const info = {
    remoteAddr: { transport: "tcp" as const, hostname: "127.0.0.1", port: 1 },
    completed: Promise.resolve(),
  };
  return () => world.handler(new Request(url, { headers: { host: url.host, ...headers } }), info);
}

/** Reads until the handler answers without a promise; each turn is one real read. */
async function untilSynchronous(
  read: () => Response | Promise<Response>,
  what: string,
): Promise<Response> {
  let answer = read();
  for (let turn = 0; answer instanceof Promise; turn++) {
    assert.ok(turn < 500, `${what} never became synchronous`);
    await (await answer).body?.cancel();
    answer = read();
  }
  return answer;
}

Deno.test("Fast lane: in open mode a cached read is answered synchronously, with no promise to await", async () => {
  await using world = await testApp({
    security: (db) => ({ keys: new ApiKeys({ db, configured: [], required: false }) }),
  });
  await using server = serve(world);
  const url = new URL(await cachedReport(world, server));
  const read = directRead(world, url);
  // On PostgreSQL the engine learns "no key" from a query made once its
  // LISTEN is in place (db/postgres/keys_watch.ts): each turn is one such query.
  const answer = await untilSynchronous(read, "an open-mode read");
  assert.equal(answer.status, 200);
  assert.equal(JSON.parse(await answer.text()).status, "ready");
  // The first key makes the next read ask again (and wait for the answer):
  // stored through this process, it is known here at once on both engines.
  await createApiKey(world.db, { name: "ops", scopes: ["read"] });
  const asked = read();
  assert.ok(asked instanceof Promise, "with a key in the database the read must check it");
  assert.equal((await asked).status, 401);
});

Deno.test("Fast lane: a read with a database key the engine knows is answered synchronously, and refused once revoked", async () => {
  await using world = await testApp({
    security: (db) => ({ keys: new ApiKeys({ db, configured: [], required: false }) }),
  });
  await using server = serve(world);
  const created = await createApiKey(world.db, { name: "ops", scopes: ["read", "write"] });
  const authorization = { authorization: `Bearer ${created.key}` };
  const url = new URL(await cachedReport(world, server, authorization));
  const read = directRead(world, url, authorization);
  // On PostgreSQL the engine keeps a key's record from a lookup made once
  // its LISTEN is in place (db/postgres/keys_watch.ts): each turn is one.
  const answer = await untilSynchronous(read, "a keyed read");
  assert.equal(answer.status, 200);
  assert.equal(JSON.parse(await answer.text()).id, url.pathname.split("/").at(-1));
  // Revoked through this process: forgotten here at once on both engines.
  assert.equal(await revokeKey(world.db, created.id), true);
  const refused = await read();
  await assertProblem(refused, 401);
});
