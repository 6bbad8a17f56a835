import assert from "node:assert/strict";
import { closeDatabase, type Database } from "../../db/mod.ts";
import type { SecurityOptions } from "../../routes/mod.ts";
import {
  ApiKeys,
  createApiKey,
  parseKeyEntries,
  revokeKey,
} from "../../services/security/api_keys.ts";
import { startTelemetry } from "../../services/telemetry/mod.ts";
import { assertProblem } from "../helpers/assert_problem.ts";
import {
  createSettledReport,
  postReport,
  SAMPLE_CSV,
  settled,
  testApp,
  type TestWorld,
} from "../helpers/test_app.ts";

const READER = "r".repeat(32);
const WRITER = "w".repeat(32);
const OTHER_WRITER = "o".repeat(32);
const ADMIN = "A".repeat(32);

const KEYS = parseKeyEntries(
  `reader:${READER}:read,writer:${WRITER}:write+read,other:${OTHER_WRITER}:write,` +
    `admin:${ADMIN}:admin`,
  { separator: "," },
);

function withKeys(extra: Partial<SecurityOptions> = {}): (db: Database) => SecurityOptions {
  return (db) => ({ keys: new ApiKeys({ db, configured: KEYS, required: true }), ...extra });
}

function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

// createSettledReport reads the report back without a key; here every request needs one.
async function uploadAs(world: TestWorld, key: string): Promise<{ id: string; status: string }> {
  const res = await postReport(world, SAMPLE_CSV, { headers: bearer(key) });
  assert.equal(res.status, 202);
  const { id } = await res.json();
  const done = settled(world.queue, id);
  // The job may have settled before the listener was attached.
  const now = await (await world.app.request(`/v1/reports/${id}`, { headers: bearer(ADMIN) }))
    .json();
  if (now.status === "ready" || now.status === "failed") return { id, status: now.status };
  return { id, status: (await done).status };
}

Deno.test("Without a key nobody can write, delete or read when keys are configured", async () => {
  await using world = await testApp({ security: withKeys() });
  const requests: [string, string][] = [
    ["POST", "/v1/reports"],
    ["DELETE", "/v1/reports/0190f5b8-3c4e-7a1b-8f00-5c2d9e6b1a20"],
    ["GET", "/v1/reports"],
    ["GET", "/v1/reports/0190f5b8-3c4e-7a1b-8f00-5c2d9e6b1a20/series"],
    ["PUT", "/v1/reports"],
    ["GET", "/v1/nothing-here"],
  ];
  for (const [method, path] of requests) {
    const res = await world.app.request(path, {
      method,
      headers: { "content-type": "text/csv" },
      body: method === "POST" ? SAMPLE_CSV : undefined,
    });
    assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="reportd"', path);
    const problem = await assertProblem(res, 401);
    assert.equal(problem.type, "/problems/unauthorized");
  }
  const listed = await (await world.app.request("/v1/reports", { headers: bearer(ADMIN) })).json();
  assert.deepEqual(listed.items, [], "Nothing was created");
});

Deno.test("A wrong, revoked or malformed key is a 401 with error=invalid_token", async () => {
  await using world = await testApp({ security: withKeys() });
  const revoked = await createApiKey(world.db, { name: "old", scopes: ["admin"] });
  await revokeKey(world.db, revoked.id);
  for (
    const authorization of [
      `Bearer ${READER.slice(1)}`,
      `Bearer ${revoked.key}`,
      `Basic ${btoa(`user:${READER}`)}`,
      `Bearer ${READER} extra`,
      `Bearer ${"x".repeat(600)}`,
      "Bearer",
    ]
  ) {
    const res = await world.app.request("/v1/reports", { headers: { authorization } });
    assert.equal(
      res.headers.get("www-authenticate"),
      'Bearer realm="reportd", error="invalid_token"',
      authorization.slice(0, 40),
    );
    assert.equal(res.headers.get("cache-control"), "no-store");
    const problem = await assertProblem(res, 401);
    assert.ok(!JSON.stringify(problem).includes(READER.slice(1)), "The key is not echoed");
  }
});

Deno.test("A key without the scope is a 403 naming the scope", async () => {
  await using world = await testApp({ security: withKeys() });
  const upload = await postReport(world, SAMPLE_CSV, { headers: bearer(READER) });
  assert.equal(
    upload.headers.get("www-authenticate"),
    'Bearer realm="reportd", error="insufficient_scope", scope="write"',
  );
  const problem = await assertProblem(upload, 403);
  assert.match(problem.detail ?? "", /needs the write scope; the key "reader" has read/);

  const listing = await world.app.request("/v1/reports", { headers: bearer(OTHER_WRITER) });
  assert.match((await assertProblem(listing, 403)).detail ?? "", /needs the read scope/);
  // Scopes match case-sensitively on the key, but the scheme name is case-insensitive.
  const lower = await world.app.request("/v1/reports", {
    headers: { authorization: `bearer ${READER}` },
  });
  assert.equal(lower.status, 200);
});

Deno.test("Scopes allow what they name: read reads, write creates, admin does everything", async () => {
  await using world = await testApp({ security: withKeys() });
  const created = await uploadAs(world, WRITER);
  assert.equal(created.status, "ready");
  for (const key of [READER, WRITER, ADMIN]) {
    const res = await world.app.request(`/v1/reports/${created.id}/series`, {
      headers: bearer(key),
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  }
  const byAdmin = await postReport(world, SAMPLE_CSV, { headers: bearer(ADMIN) });
  assert.equal(byAdmin.status, 202);
  await byAdmin.body?.cancel();
});

Deno.test("Deleting needs write on the key that created the report, or admin", async () => {
  await using world = await testApp({ security: withKeys() });
  const mine = await uploadAs(world, WRITER);
  const theirs = await uploadAs(world, WRITER);

  const refused = await world.app.request(`/v1/reports/${mine.id}`, {
    method: "DELETE",
    headers: bearer(OTHER_WRITER),
  });
  assert.match((await assertProblem(refused, 403)).detail ?? "", /created this report/);
  const byReader = await world.app.request(`/v1/reports/${mine.id}`, {
    method: "DELETE",
    headers: bearer(READER),
  });
  await assertProblem(byReader, 403);

  const byOwner = await world.app.request(`/v1/reports/${mine.id}`, {
    method: "DELETE",
    headers: bearer(WRITER),
  });
  assert.equal(byOwner.status, 204);
  const byAdmin = await world.app.request(`/v1/reports/${theirs.id}`, {
    method: "DELETE",
    headers: bearer(ADMIN),
  });
  assert.equal(byAdmin.status, 204);
  const gone = await world.app.request(`/v1/reports/${mine.id}`, {
    method: "DELETE",
    headers: bearer(OTHER_WRITER),
  });
  await assertProblem(gone, 404);
});

Deno.test("A report made in open mode can only be deleted by an admin once keys exist", async () => {
  await using world = await testApp({
    security: (db) => ({ keys: new ApiKeys({ db, configured: [], required: false }) }),
  });
  const open = await createSettledReport(world, SAMPLE_CSV);
  const { key } = await createApiKey(world.db, { name: "ci", scopes: ["write", "read"] });
  const refused = await world.app.request(`/v1/reports/${open.id}`, {
    method: "DELETE",
    headers: bearer(key),
  });
  await assertProblem(refused, 403);
  const admin = await createApiKey(world.db, { name: "ops", scopes: ["admin"] });
  const deleted = await world.app.request(`/v1/reports/${open.id}`, {
    method: "DELETE",
    headers: bearer(admin.key),
  });
  assert.equal(deleted.status, 204);
});

Deno.test("Open mode admits everyone until the first key is created", async () => {
  await using world = await testApp({
    security: (db) => ({ keys: new ApiKeys({ db, configured: [], required: false }) }),
  });
  const before = await world.app.request("/v1/reports", { headers: bearer("anything") });
  assert.equal(before.status, 200, "Open mode ignores the header");
  await before.body?.cancel();
  const { key } = await createApiKey(world.db, { name: "ci", scopes: ["read"] });
  await assertProblem(await world.app.request("/v1/reports"), 401);
  const withKey = await world.app.request("/v1/reports", { headers: bearer(key) });
  assert.equal(withKey.status, 200);
  await withKey.body?.cancel();
});

Deno.test("Health, readiness, docs, the page and problem types stay public", async () => {
  await using world = await testApp({ security: withKeys() });
  for (
    const path of ["/healthz", "/readyz", "/openapi.json", "/docs", "/problems/unauthorized", "/"]
  ) {
    const res = await world.app.request(path, { headers: bearer("wrong-key") });
    assert.ok(res.status < 400, `${path} answered ${res.status}`);
    await res.body?.cancel();
  }
});

Deno.test("REPORTD_PUBLIC_READ opens reading, not writing", async () => {
  await using world = await testApp({ security: withKeys({ publicRead: true }) });
  const list = await world.app.request("/v1/reports");
  assert.equal(list.status, 200);
  await list.body?.cancel();
  await assertProblem(await postReport(world, SAMPLE_CSV), 401);
});

Deno.test("/metrics needs admin unless REPORTD_PUBLIC_METRICS", async () => {
  await using telemetry = startTelemetry({ serviceName: "test", serviceVersion: "0" });
  {
    await using world = await testApp({ security: withKeys(), telemetry });
    await assertProblem(await world.app.request("/metrics"), 401);
    await assertProblem(await world.app.request("/metrics", { headers: bearer(READER) }), 403);
    const scraped = await world.app.request("/metrics", { headers: bearer(ADMIN) });
    assert.equal(scraped.status, 200);
    await scraped.body?.cancel();
  }
  {
    await using world = await testApp({ security: withKeys({ publicMetrics: true }), telemetry });
    const scraped = await world.app.request("/metrics");
    assert.equal(scraped.status, 200);
    await scraped.body?.cancel();
  }
});

Deno.test("Idempotency keys are per API key", async () => {
  await using world = await testApp({ security: withKeys() });
  const headers = { "idempotency-key": "batch-1" };
  const first = await postReport(world, SAMPLE_CSV, { headers: { ...headers, ...bearer(WRITER) } });
  assert.equal(first.status, 202);
  const other = await postReport(world, SAMPLE_CSV, {
    headers: { ...headers, ...bearer(OTHER_WRITER) },
  });
  assert.equal(other.status, 202, "Another key's same Idempotency-Key is a new upload");
  assert.notEqual((await first.json()).id, (await other.json()).id);
  const replay = await postReport(world, SAMPLE_CSV, {
    headers: { ...headers, ...bearer(WRITER) },
  });
  assert.equal(replay.status, 200);
  await replay.body?.cancel();
});

Deno.test("The OpenAPI document declares the bearer scheme and each operation's scope", async () => {
  await using world = await testApp({ security: withKeys() });
  const document = await (await world.app.request("/openapi.json")).json();
  assert.deepEqual(document.components.securitySchemes.bearerAuth.type, "http");
  assert.equal(document.components.securitySchemes.bearerAuth.scheme, "bearer");
  assert.deepEqual(document.security, [{ bearerAuth: [] }]);
  const paths = document.paths;
  assert.deepEqual(paths["/v1/reports"].post.security, [{ bearerAuth: ["write"] }]);
  assert.deepEqual(paths["/v1/reports"].get.security, [{ bearerAuth: ["read"] }]);
  assert.deepEqual(paths["/v1/reports/{id}"].delete.security, [{ bearerAuth: ["write"] }]);
  assert.deepEqual(paths["/healthz"].get.security, []);
  for (const status of ["401", "403", "429"]) {
    assert.ok(paths["/v1/reports"].post.responses[status], status);
  }
  assert.equal(paths["/healthz"].get.responses["429"], undefined, "Probes are not limited");
});

Deno.test("/healthz stays 200 with keys configured when the database is gone", async () => {
  await using world = await testApp({
    security: (db) => ({ keys: new ApiKeys({ db, configured: [], required: false }) }),
  });
  await closeDatabase(world.db);
  const health = await world.app.request("/healthz", { headers: bearer(READER) });
  assert.equal(health.status, 200, "Liveness does not depend on the database");
  await health.body?.cancel();
  await assertProblem(await world.app.request("/readyz"), 503);
  await assertProblem(await world.app.request("/v1/reports", { headers: bearer(READER) }), 503);
});
