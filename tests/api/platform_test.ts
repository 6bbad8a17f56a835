import assert from "node:assert/strict";
import { closeDatabase } from "../../db/mod.ts";
import { assertProblem } from "../helpers/assert_problem.ts";
import { createSettledReport, SAMPLE_CSV, testApp } from "../helpers/test_app.ts";

Deno.test("GET /healthz and /readyz answer 200 when the database answers", async () => {
  await using world = await testApp();
  for (const path of ["/healthz", "/readyz"]) {
    const res = await world.app.request(path);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: "ok" });
  }
});

Deno.test("GET /readyz answers 503 once the database is gone, /healthz stays 200", async () => {
  await using world = await testApp();
  await closeDatabase(world.db);
  await assertProblem(await world.app.request("/readyz"), 503);
  assert.equal((await world.app.request("/healthz")).status, 200);
});

Deno.test("GET /readyz answers 503 as soon as shutdown begins", async () => {
  let shuttingDown = false;
  await using world = await testApp({ isShuttingDown: () => shuttingDown });
  assert.equal((await world.app.request("/readyz")).status, 200);
  shuttingDown = true;
  const problem = await assertProblem(await world.app.request("/readyz"), 503);
  assert.match(problem.detail ?? "", /shutting down/i);
});

Deno.test("A storage failure answers 503 with Retry-After and no internals", async () => {
  await using world = await testApp();
  await createSettledReport(world, SAMPLE_CSV);
  await closeDatabase(world.db);
  // A listing always reads the database (single finished reports may come from memory).
  const failed = await world.app.request("/v1/reports");
  assert.equal(failed.headers.get("retry-after"), "5");
  const problem = await assertProblem(failed, 503);
  assert.doesNotMatch(JSON.stringify(problem), /sqlite|SELECT|reportd\.db/i);
});

Deno.test("Unknown routes answer a 404 problem", async () => {
  await using world = await testApp();
  const problem = await assertProblem(await world.app.request("/v2/nothing"), 404);
  assert.equal(problem.instance, "/v2/nothing");
});

Deno.test("Wrong methods answer a 405 problem with Allow", async (t) => {
  await using world = await testApp();
  const cases: [string, string, string][] = [
    ["PUT", "/v1/reports", "GET, HEAD, POST"],
    ["PATCH", "/v1/reports/0190f5b8-3c4e-7a1b-8f00-5c2d9e6b1a20", "GET, HEAD, DELETE"],
    ["POST", "/healthz", "GET, HEAD"],
  ];
  for (const [method, path, allow] of cases) {
    await t.step(`${method} ${path}`, async () => {
      const res = await world.app.request(path, { method });
      assert.deepEqual(
        res.headers.get("allow")?.split(", ").sort(),
        allow.split(", ").sort(),
      );
      await assertProblem(res, 405);
    });
  }
});

Deno.test("Every response carries security headers, errors included", async () => {
  await using world = await testApp();
  for (const path of ["/healthz", "/v2/nothing"]) {
    const res = await world.app.request(path);
    await res.body?.cancel();
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(res.headers.get("x-frame-options"), "SAMEORIGIN");
    assert.equal(res.headers.get("referrer-policy"), "no-referrer");
    assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'self'/);
  }
});

Deno.test("X-Request-Id is echoed when safe, replaced when not, and quoted in problems", async () => {
  await using world = await testApp();
  const echoed = await world.app.request("/healthz", { headers: { "x-request-id": "abc-123" } });
  assert.equal(echoed.headers.get("x-request-id"), "abc-123");
  const unsafe = await world.app.request("/v2/x", { headers: { "x-request-id": 'a b"c' } });
  const generated = unsafe.headers.get("x-request-id") ?? "";
  assert.match(generated, /^[0-9a-f-]{36}$/);
  assert.equal((await unsafe.json()).request_id, generated);
});

Deno.test("GET /openapi.json is an OpenAPI 3.1 document covering every operation", async () => {
  await using world = await testApp();
  const res = await world.app.request("/openapi.json");
  assert.equal(res.status, 200);
  const doc = await res.json();
  assert.equal(doc.openapi, "3.1.0");
  assert.equal(doc.info.license.name, "MIT");
  const operations = Object.values(doc.paths as Record<string, Record<string, unknown>>)
    .flatMap((item) => Object.values(item) as { operationId: string }[])
    .map((operation) => operation.operationId)
    .sort();
  assert.deepEqual(operations, [
    "compareReports",
    "createReport",
    "deleteReport",
    "getHealth",
    "getReadiness",
    "getReport",
    "getReportSeries",
    "listReports",
  ]);
  const create = doc.paths["/v1/reports"].post;
  assert.ok(create.requestBody.content["text/csv"]);
  assert.ok(create.requestBody.content["application/json"]);
  assert.ok(create.responses["415"].content["application/problem+json"]);
  assert.ok(doc.components.schemas.Problem);
});

Deno.test("GET /docs serves Swagger UI from this server under a strict CSP", async () => {
  await using world = await testApp();
  const page = await world.app.request("/docs");
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /\/docs\/assets\/swagger-ui-bundle\.js/);
  assert.doesNotMatch(html, /<script>[^<]/, "No inline scripts");
  assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'self'/);
  const script = await world.app.request("/docs/assets/swagger-ui-bundle.js");
  assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.ok((await script.text()).length > 100_000);
  await assertProblem(await world.app.request("/docs/assets/missing.js"), 404);
});

Deno.test("Problem type URIs resolve to their description", async () => {
  await using world = await testApp();
  const res = await world.app.request("/problems/payload-too-large");
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.status, 413);
  assert.equal(body.title, "Payload too large");
  await assertProblem(await world.app.request("/problems/constructor"), 404);
});
