import assert from "node:assert/strict";
import { assertProblem } from "../helpers/assert_problem.ts";
import { createSettledReport, SAMPLE_CSV, testApp } from "../helpers/test_app.ts";

async function worldWithReport() {
  const world = await testApp();
  const id: string = (await createSettledReport(world, SAMPLE_CSV)).id;
  return { world, id, [Symbol.asyncDispose]: () => world[Symbol.asyncDispose]() };
}

const DAY = 86400;
const JAN_1 = 1577836800;

Deno.test("GET series returns columnar JSON with epoch seconds and nulls", async () => {
  await using fixture = await worldWithReport();
  const res = await fixture.world.app.request(`/v1/reports/${fixture.id}/series`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  assert.deepEqual(await res.json(), {
    timestamps: [JAN_1, JAN_1 + DAY, JAN_1 + 2 * DAY, JAN_1 + 9 * DAY],
    columns: { value: [1, 2, 4, 5], volume: [100, null, 400, 500] },
  });
});

Deno.test("GET series returns CSV for Accept: text/csv and for ?format=csv", async () => {
  await using fixture = await worldWithReport();
  const expected = [
    "timestamp,value,volume",
    "2020-01-01T00:00:00.000Z,1,100",
    "2020-01-02T00:00:00.000Z,2,",
    "2020-01-03T00:00:00.000Z,4,400",
    "2020-01-10T00:00:00.000Z,5,500",
  ];
  const requests: { path: string; headers: Record<string, string> }[] = [
    { path: "", headers: { accept: "text/csv" } },
    { path: "?format=csv", headers: {} },
  ];
  for (const init of requests) {
    const res = await fixture.world.app.request(
      `/v1/reports/${fixture.id}/series${init.path}`,
      { headers: init.headers },
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/csv; charset=utf-8");
    assert.deepEqual((await res.text()).trim().split(/\r?\n/), expected);
  }
});

Deno.test("GET series ?format=uplot returns arrays in column order", async () => {
  await using fixture = await worldWithReport();
  const res = await fixture.world.app.request(`/v1/reports/${fixture.id}/series?format=uplot`);
  assert.deepEqual(await res.json(), [
    [JAN_1, JAN_1 + DAY, JAN_1 + 2 * DAY, JAN_1 + 9 * DAY],
    [1, 2, 4, 5],
    [100, null, 400, 500],
  ]);
});

Deno.test("GET series ?from=&to= cuts an inclusive range in any timestamp form", async () => {
  await using fixture = await worldWithReport();
  const url = `/v1/reports/${fixture.id}/series?from=2020-01-02&to=${(JAN_1 + 2 * DAY) * 1000}`;
  const body = await (await fixture.world.app.request(url)).json();
  assert.deepEqual(body.timestamps, [JAN_1 + DAY, JAN_1 + 2 * DAY]);
});

Deno.test("GET series ?points=3 downsamples with LTTB keeping first and last", async () => {
  await using world = await testApp();
  const rows = Array.from({ length: 100 }, (_, i) => `${JAN_1 + i * 60},${Math.sin(i / 5)}`);
  const id = (await createSettledReport(world, ["t,v", ...rows].join("\n"))).id;
  const body = await (await world.app.request(`/v1/reports/${id}/series?points=3`)).json();
  assert.equal(body.timestamps.length, 3);
  assert.equal(body.timestamps[0], JAN_1);
  assert.equal(body.timestamps[2], JAN_1 + 99 * 60);
});

Deno.test("GET series sends a strong ETag, Cache-Control and answers 304", async () => {
  await using fixture = await worldWithReport();
  const url = `/v1/reports/${fixture.id}/series`;
  const res = await fixture.world.app.request(url);
  await res.body?.cancel();
  const etag = res.headers.get("etag");
  assert.match(etag ?? "", /^"[^"]+"$/, "A strong ETag is quoted and has no W/ prefix");
  assert.match(res.headers.get("cache-control") ?? "", /immutable/);
  const again = await fixture.world.app.request(url, { headers: { "if-none-match": etag! } });
  assert.equal(again.status, 304);
  assert.equal(await again.text(), "");
  const csv = await fixture.world.app.request(`${url}?format=csv`);
  await csv.body?.cancel();
  assert.notEqual(csv.headers.get("etag"), etag, "Each representation has its own ETag");
});

Deno.test("GET series answers 400 for bad parameters", async (t) => {
  await using fixture = await worldWithReport();
  const cases: [string, string][] = [
    ["points=2", "query.points"],
    ["format=xml", "query.format"],
    ["from=yesterday", "query.from"],
    ["to=2020-13-01", "query.to"],
  ];
  for (const [query, path] of cases) {
    await t.step(query, async () => {
      const problem = await assertProblem(
        await fixture.world.app.request(`/v1/reports/${fixture.id}/series?${query}`),
        400,
      );
      assert.equal(problem.errors?.[0].path, path);
    });
  }
});
