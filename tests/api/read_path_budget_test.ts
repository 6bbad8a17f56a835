/**
 * Regression guards for the read path's speed that time nothing (timings
 * belong in bench/read_path.ts): what a cached read must not do, and how many
 * layers sit in front of every handler.
 *
 * @module
 */
import assert from "node:assert/strict";
import { closeDatabase } from "../../db/mod.ts";
import { startTelemetry } from "../../services/telemetry/mod.ts";
import { ApiKeys } from "../../services/security/api_keys.ts";
import { createSettledReport, SAMPLE_CSV, testApp } from "../helpers/test_app.ts";

Deno.test("A finished report, once read, is answered again without the database", async () => {
  await using world = await testApp();
  const report = await createSettledReport(world, SAMPLE_CSV);
  const first = await world.app.request(`/v1/reports/${report.id}`);
  assert.equal(first.status, 200);
  const body = await first.text();
  // Nothing below the cache can answer now: the database is closed.
  await world.queue.drain(1000);
  closeDatabase(world.db);
  const again = await world.app.request(`/v1/reports/${report.id}`);
  assert.equal(again.status, 200, "The cached read went to the database");
  assert.equal(await again.text(), body);
  assert.equal(again.headers.get("etag"), first.headers.get("etag"));
});

Deno.test("Every request passes at most 10 middleware layers with every option on", async () => {
  await using telemetry = startTelemetry({ serviceName: "test", serviceVersion: "0" });
  await using world = await testApp({
    telemetry,
    security: (db) => ({
      keys: new ApiKeys({ db, configured: [], required: true }),
      rateLimits: { read: { perSecond: 1, burst: 5 }, write: { perSecond: 1, burst: 2 } },
      handlerTimeoutMs: 30_000,
      body: { timeoutMs: 30_000, minBytesPerSecond: 16_384 },
    }),
  });
  const global = world.app.routes.filter((route) => route.path === "/*");
  // request id, telemetry, security headers, request-line caps, authentication,
  // rate limit, authorization, handler timeout, 405: nine, and one more for
  // the Host check issue 12 adds. Each layer costs every request a closure, a
  // promise and a turn of Hono's dispatcher (docs/benchmarks.md): fuse before
  // adding.
  assert.ok(global.length <= 10, `${global.length} middleware layers`);
});
