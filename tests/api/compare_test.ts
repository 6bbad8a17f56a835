/** `GET /v1/compare`: alignment, naming, normalization, formats and every error. */
import assert from "node:assert/strict";
import { assertProblem } from "../helpers/assert_problem.ts";
import { createSettledReport, postReport, testApp, type TestWorld } from "../helpers/test_app.ts";

const DAY = 86400;
const JAN_1 = 1577836800;

const A_CSV = ["t,close", "2020-01-01,50", "2020-01-02,55", "2020-01-03,60", "2020-01-05,40"]
  .join("\n");
const B_CSV = [
  "t,close,volume",
  "2020-01-02T12:00:00Z,200,1",
  "2020-01-03,210,2",
  "2020-01-05,180,3",
]
  .join("\n");

async function upload(world: TestWorld, csv: string, name: string): Promise<string> {
  return (await createSettledReport(world, csv, { query: `?name=${name}` })).id;
}

Deno.test("GET /v1/compare aligns reports on common daily buckets and names columns", async () => {
  await using world = await testApp();
  const a = await upload(world, A_CSV, "A");
  const b = await upload(world, B_CSV, "B");
  const res = await world.app.request(`/v1/compare?ids=${a},${b}&every=1d`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    timestamps: [JAN_1 + DAY, JAN_1 + 2 * DAY, JAN_1 + 4 * DAY],
    columns: { "A.close": [55, 60, 40], "B.close": [200, 210, 180], "B.volume": [1, 2, 3] },
  });
});

Deno.test("GET /v1/compare ?normalize=first rebases every column to 100", async () => {
  await using world = await testApp();
  const a = await upload(world, A_CSV, "A");
  const b = await upload(world, B_CSV, "B");
  const body = await (await world.app.request(
    `/v1/compare?ids=${a},${b}&normalize=first&format=uplot`,
  )).json();
  assert.deepEqual(body[0], [JAN_1 + DAY, JAN_1 + 2 * DAY, JAN_1 + 4 * DAY]);
  assert.deepEqual(body[1], [100, 60 / 55 * 100, 40 / 55 * 100]);
  assert.deepEqual(body[2], [100, 105, 90]);
  assert.deepEqual(body[3], [100, 200, 300]);
});

Deno.test("GET /v1/compare answers CSV, cuts from/to and downsamples", async () => {
  await using world = await testApp();
  const a = await upload(world, A_CSV, "A");
  const b = await upload(world, B_CSV, "B");
  const csv = await (await world.app.request(
    `/v1/compare?ids=${a},${b}&format=csv&from=2020-01-03&agg=max`,
  )).text();
  assert.deepEqual(csv.trim().split("\n"), [
    "timestamp,A.close,B.close,B.volume",
    "2020-01-03T00:00:00.000Z,60,210,2",
    "2020-01-05T00:00:00.000Z,40,180,3",
  ]);
  const rows = Array.from({ length: 100 }, (_, i) => `${JAN_1 + i * 60},${Math.sin(i)}`);
  const c = await upload(world, ["t,v", ...rows].join("\n"), "C");
  const thin = await (await world.app.request(`/v1/compare?ids=${c}&every=1m&points=10`)).json();
  assert.equal(thin.timestamps.length, 10);
});

Deno.test("GET /v1/compare ?normalize=first&from= rebases at the first bucket of the window", async () => {
  await using world = await testApp();
  const a = await upload(world, A_CSV, "A");
  const body = await (await world.app.request(
    `/v1/compare?ids=${a}&normalize=first&from=2020-01-03`,
  )).json();
  assert.deepEqual(body, {
    timestamps: [JAN_1 + 2 * DAY, JAN_1 + 4 * DAY],
    columns: { "A.close": [100, 40 / 60 * 100] },
  });
});

Deno.test("GET /v1/compare tells two reports with one name apart by id", async () => {
  await using world = await testApp();
  const a = await upload(world, A_CSV, "Same");
  const b = await upload(world, A_CSV, "Same");
  const body = await (await world.app.request(`/v1/compare?ids=${a},${b}`)).json();
  assert.deepEqual(Object.keys(body.columns), [`Same (${a}).close`, `Same (${b}).close`]);
});

Deno.test("GET /v1/compare refuses bad ids, every, agg and normalize with a 400 naming them", async () => {
  await using world = await testApp();
  const a = await upload(world, A_CSV, "A");
  const eleven = Array.from({ length: 11 }, () => crypto.randomUUID()).join(",");
  const cases: [string, string, RegExp][] = [
    ["", "query.ids", /.+/],
    [`ids=${eleven}`, "query.ids", /at most 10 ids/],
    [`ids=${a},${a}`, "query.ids", /repeated/],
    [`ids=${a},`, "query.ids", /separated by commas/],
    [`ids=${a}&every=2d`, "query.every", /1m, 5m, 15m, 30m, 1h, 4h, 1d, 1w, 1mo/],
    [`ids=${a}&agg=ohlc`, "query.agg", /last, first, mean, sum, min, max, count$/],
    [`ids=${a}&normalize=last`, "query.normalize", /none, first/],
    [`ids=${a}&from=yesterday`, "query.from", /.+/],
  ];
  for (const [query, path, message] of cases) {
    const problem = await assertProblem(await world.app.request(`/v1/compare?${query}`), 400);
    const error = problem.errors?.find((candidate) => candidate.path === path);
    assert.ok(error !== undefined, `${query}: ${JSON.stringify(problem.errors)}`);
    assert.match(error.message, message, query);
  }
});

Deno.test("GET /v1/compare: unknown id 404, failed 422, not ready 409, each naming the id", async () => {
  await using world = await testApp({ startQueue: false });
  const unknown = "0190f5b8-0000-7000-8000-000000000000";
  const queued: string = (await (await postReport(world, A_CSV)).json()).id;
  const missing = await assertProblem(
    await world.app.request(`/v1/compare?ids=${queued},${unknown}`),
    404,
  );
  assert.match(missing.detail ?? "", new RegExp(unknown));
  const waiting = await world.app.request(`/v1/compare?ids=${queued}`);
  assert.ok(Number(waiting.headers.get("retry-after")) >= 1);
  const conflict = await assertProblem(waiting, 409);
  assert.match(conflict.detail ?? "", new RegExp(`${queued} is queued`));
  assert.equal(conflict.errors?.[0].path, "query.ids");
});

Deno.test("GET /v1/compare names a failed report with a 422", async () => {
  await using world = await testApp();
  const good = await upload(world, A_CSV, "A");
  const failed = (await createSettledReport(world, "t,v\nx,1\ny,2\n")).id;
  const problem = await assertProblem(
    await world.app.request(`/v1/compare?ids=${good},${failed}`),
    422,
  );
  assert.match(problem.detail ?? "", new RegExp(`${failed} failed`));
});

Deno.test("GET /v1/compare ?normalize=first refuses a column starting at or below 0", async () => {
  await using world = await testApp();
  const a = await upload(world, ["t,v", "2020-01-01,0", "2020-01-02,1"].join("\n"), "Zero");
  const problem = await assertProblem(
    await world.app.request(`/v1/compare?ids=${a}&normalize=first`),
    422,
  );
  assert.equal(problem.errors?.[0].path, "query.normalize");
  assert.match(problem.errors?.[0].message ?? "", /"Zero.v" is 0/);
});
