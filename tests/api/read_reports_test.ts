import assert from "node:assert/strict";
import { assertProblem } from "../helpers/assert_problem.ts";
import {
  createSettledReport,
  postReport,
  SAMPLE_CSV,
  testApp,
  type TestWorld,
} from "../helpers/test_app.ts";

async function createReport(world: TestWorld, name: string): Promise<string> {
  const report = await createSettledReport(world, SAMPLE_CSV, { query: `?name=${name}` });
  assert.equal(report.status, "ready");
  return report.id;
}

Deno.test("GET /v1/reports/{id} returns the stored report", async () => {
  await using world = await testApp();
  const id = await createReport(world, "one");
  const res = await world.app.request(`/v1/reports/${id}`);
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.id, id);
  assert.equal(body.name, "one");
  assert.equal(body.summary.points, 4);
});

Deno.test("GET /v1/reports/{id} answers 404 for unknown and malformed ids", async () => {
  await using world = await testApp();
  for (
    const id of ["0190f5b8-3c4e-7a1b-8f00-5c2d9e6b1a20", "nope", "'%20OR%201=1--", "x".repeat(300)]
  ) {
    const problem = await assertProblem(await world.app.request(`/v1/reports/${id}`), 404);
    assert.equal(problem.type, "/problems/not-found");
  }
});

Deno.test("GET /v1/reports lists newest first and pages with an opaque cursor", async () => {
  await using world = await testApp();
  const ids = [];
  for (const name of ["a", "b", "c"]) ids.push(await createReport(world, name));
  const first = await world.app.request("/v1/reports?limit=2");
  assert.equal(first.status, 200);
  const page1 = await first.json();
  assert.deepEqual(page1.items.map((item: { id: string }) => item.id), [ids[2], ids[1]]);
  assert.equal(typeof page1.next_cursor, "string");
  assert.equal(
    first.headers.get("link"),
    `</v1/reports?limit=2&cursor=${page1.next_cursor}>; rel="next"`,
  );
  const second = await world.app.request(`/v1/reports?limit=2&cursor=${page1.next_cursor}`);
  const page2 = await second.json();
  assert.deepEqual(page2.items.map((item: { id: string }) => item.id), [ids[0]]);
  assert.equal(page2.next_cursor, null);
  assert.equal(second.headers.get("link"), null);
});

Deno.test("GET /v1/reports defaults to 20 items and filters by status", async () => {
  await using world = await testApp();
  await createReport(world, "ready one");
  const all = await (await world.app.request("/v1/reports")).json();
  assert.equal(all.items.length, 1);
  const failed = await (await world.app.request("/v1/reports?status=failed")).json();
  assert.deepEqual(failed, { items: [], next_cursor: null });
  const ready = await (await world.app.request("/v1/reports?status=ready")).json();
  assert.equal(ready.items.length, 1);
});

Deno.test("GET /v1/reports answers 400 naming the bad parameter", async (t) => {
  await using world = await testApp();
  const cases: [string, string][] = [
    ["limit=0", "query.limit"],
    ["limit=101", "query.limit"],
    ["limit=ten", "query.limit"],
    ["status=done", "query.status"],
    ["cursor=not-a-cursor", "query.cursor"],
  ];
  for (const [query, path] of cases) {
    await t.step(query, async () => {
      const problem = await assertProblem(await world.app.request(`/v1/reports?${query}`), 400);
      assert.equal(problem.errors?.[0].path, path);
    });
  }
});

Deno.test("DELETE /v1/reports/{id} answers 204, then the report is gone", async () => {
  await using world = await testApp();
  const id = await createReport(world, "doomed");
  const res = await world.app.request(`/v1/reports/${id}`, { method: "DELETE" });
  assert.equal(res.status, 204);
  assert.equal(await res.text(), "");
  await assertProblem(await world.app.request(`/v1/reports/${id}`), 404);
  await assertProblem(await world.app.request(`/v1/reports/${id}/series`), 404);
  await assertProblem(await world.app.request(`/v1/reports/${id}`, { method: "DELETE" }), 404);
});

Deno.test("Names that look like SQL are stored and returned literally", async () => {
  await using world = await testApp();
  const name = "x'); DROP TABLE reports; --";
  const id = await createReport(world, encodeURIComponent(name));
  const body = await (await world.app.request(`/v1/reports/${id}`)).json();
  assert.equal(body.name, name);
});

Deno.test("A deleted report is not served from the read cache", async () => {
  await using world = await testApp();
  const id = await createReport(world, "cached");
  assert.equal((await world.app.request(`/v1/reports/${id}`)).status, 200);
  assert.equal((await world.app.request(`/v1/reports/${id}`, { method: "DELETE" })).status, 204);
  await assertProblem(await world.app.request(`/v1/reports/${id}`), 404);
});

Deno.test("GET /v1/reports/{id} of a finished report has a strong ETag and answers 304", async () => {
  await using world = await testApp();
  const id = await createReport(world, "etag");
  const first = await world.app.request(`/v1/reports/${id}`);
  const etag = first.headers.get("etag");
  assert.equal(etag, `"${id}.ready"`);
  assert.equal(first.headers.get("cache-control"), "private, no-cache");
  const again = await world.app.request(`/v1/reports/${id}`, {
    headers: { "if-none-match": etag! },
  });
  assert.equal(again.status, 304);
  assert.equal(await again.text(), "");
  assert.deepEqual(await first.json(), await (await world.app.request(`/v1/reports/${id}`)).json());
});

Deno.test("GET /v1/reports/{id} of a queued report is never cached", async () => {
  await using world = await testApp({ startQueue: false });
  const { id } = await (await postReport(world, SAMPLE_CSV)).json();
  const res = await world.app.request(`/v1/reports/${id}`);
  assert.equal(res.headers.get("etag"), null);
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.equal((await res.json()).status, "queued");
});
