/**
 * `GET /v1/reports/{id}/series` with `every`, `agg` and `transform`: every
 * parameter, its errors and every output format.
 */
import assert from "node:assert/strict";
import { assertProblem } from "../helpers/assert_problem.ts";
import { createSettledReport, testApp, type TestWorld } from "../helpers/test_app.ts";

const HOUR = 3600;
const JAN_1 = 1577836800; // 2020-01-01T00:00:00Z, a Wednesday

/** Minute data over three hours (the second hour has a missing cell and a gap). */
const MINUTES_CSV = [
  "timestamp,price,volume",
  `${JAN_1},10,1`,
  `${JAN_1 + 60},12,2`,
  `${JAN_1 + 120},11,3`,
  `${JAN_1 + HOUR},20,`,
  `${JAN_1 + HOUR + 60},18,5`,
  `${JAN_1 + 3 * HOUR + 30},30,6`,
].join("\n");

async function worldWith(csv: string) {
  const world = await testApp();
  const id: string = (await createSettledReport(world, csv)).id;
  return { world, id, [Symbol.asyncDispose]: () => world[Symbol.asyncDispose]() };
}

async function getJson(world: TestWorld, url: string) {
  const res = await world.app.request(url);
  assert.equal(res.status, 200, await res.clone().text());
  return await res.json();
}

Deno.test("GET series ?every=1h resamples with last by default and omits empty buckets", async () => {
  await using fixture = await worldWith(MINUTES_CSV);
  const body = await getJson(fixture.world, `/v1/reports/${fixture.id}/series?every=1h`);
  assert.deepEqual(body, {
    timestamps: [JAN_1, JAN_1 + HOUR, JAN_1 + 3 * HOUR],
    columns: { price: [11, 18, 30], volume: [3, 5, 6] },
  });
});

Deno.test("GET series ?agg= computes each aggregate over the present values", async () => {
  await using fixture = await worldWith(MINUTES_CSV);
  const expected: Record<string, { price: number[]; volume: (number | null)[] }> = {
    first: { price: [10, 20, 30], volume: [1, 5, 6] },
    mean: { price: [11, 19, 30], volume: [2, 5, 6] },
    sum: { price: [33, 38, 30], volume: [6, 5, 6] },
    min: { price: [10, 18, 30], volume: [1, 5, 6] },
    max: { price: [12, 20, 30], volume: [3, 5, 6] },
    count: { price: [3, 2, 1], volume: [3, 1, 1] },
  };
  for (const [agg, columns] of Object.entries(expected)) {
    const url = `/v1/reports/${fixture.id}/series?every=1h&agg=${agg}`;
    assert.deepEqual((await getJson(fixture.world, url)).columns, columns, agg);
  }
});

Deno.test("GET series ?agg=ohlc names four columns per column, in every format", async () => {
  await using fixture = await worldWith(MINUTES_CSV);
  const base = `/v1/reports/${fixture.id}/series?every=1h&agg=ohlc`;
  const json = await getJson(fixture.world, base);
  assert.deepEqual(Object.keys(json.columns), [
    "price_open",
    "price_high",
    "price_low",
    "price_close",
    "volume_open",
    "volume_high",
    "volume_low",
    "volume_close",
  ]);
  assert.deepEqual(json.columns.price_open, [10, 20, 30]);
  assert.deepEqual(json.columns.price_high, [12, 20, 30]);
  assert.deepEqual(json.columns.price_low, [10, 18, 30]);
  assert.deepEqual(json.columns.price_close, [11, 18, 30]);
  const uplot = await getJson(fixture.world, `${base}&format=uplot`);
  assert.equal(uplot.length, 9);
  assert.deepEqual(uplot[0], [JAN_1, JAN_1 + HOUR, JAN_1 + 3 * HOUR]);
  assert.deepEqual(uplot[1], [10, 20, 30]);
  const csv = await (await fixture.world.app.request(`${base}&format=csv`)).text();
  assert.deepEqual(csv.trim().split("\n").slice(0, 2), [
    "timestamp,price_open,price_high,price_low,price_close," +
    "volume_open,volume_high,volume_low,volume_close",
    "2020-01-01T00:00:00.000Z,10,12,10,11,1,3,1,3",
  ]);
});

Deno.test("GET series ?every=1w starts weeks on Monday and ?every=1mo months on the 1st", async () => {
  // 2020-01-01 (Wed), 2020-01-05 (Sun), 2020-01-06 (Mon), 2020-02-03 (Mon).
  const csv = ["t,v", "2020-01-01,1", "2020-01-05,2", "2020-01-06,3", "2020-02-03,4"].join("\n");
  await using fixture = await worldWith(csv);
  const weeks = await getJson(fixture.world, `/v1/reports/${fixture.id}/series?every=1w&agg=sum`);
  assert.deepEqual(weeks.timestamps, [
    Date.UTC(2019, 11, 30) / 1000,
    Date.UTC(2020, 0, 6) / 1000,
    Date.UTC(2020, 1, 3) / 1000,
  ]);
  assert.deepEqual(weeks.columns.v, [3, 3, 4]);
  const months = await getJson(
    fixture.world,
    `/v1/reports/${fixture.id}/series?every=1mo&agg=count`,
  );
  assert.deepEqual(months.timestamps, [Date.UTC(2020, 0, 1) / 1000, Date.UTC(2020, 1, 1) / 1000]);
  assert.deepEqual(months.columns.v, [3, 1]);
});

Deno.test("GET series ?transform= applies each transform, nulls where undefined", async () => {
  const csv = ["t,v", "2020-01-01,4", "2020-01-02,2", "2020-01-03,", "2020-01-04,8", "2020-01-05,6"]
    .join("\n");
  await using fixture = await worldWith(csv);
  const expected: Record<string, (number | null)[]> = {
    diff: [null, -2, null, null, -2],
    pct_change: [null, -0.5, null, null, -0.25],
    log_return: [null, Math.log(0.5), null, null, Math.log(0.75)],
    cumsum: [4, 6, null, 14, 20],
    drawdown: [0, -0.5, null, 0, -0.25],
    "rolling_mean:2": [null, 3, null, null, 7],
    "rolling_min:2": [null, 2, null, null, 6],
    "rolling_max:2": [null, 4, null, null, 8],
    "rolling_std:2": [null, Math.SQRT2, null, null, Math.SQRT2],
    "ewm_mean:1": [4, 2, 2, 8, 6],
  };
  for (const [transform, values] of Object.entries(expected)) {
    const url = `/v1/reports/${fixture.id}/series?transform=${transform}`;
    assert.deepEqual((await getJson(fixture.world, url)).columns.v, values, transform);
  }
  const z = (await getJson(fixture.world, `/v1/reports/${fixture.id}/series?transform=zscore`))
    .columns.v;
  assert.equal(z[2], null);
  assert.ok(Math.abs(z[0] + z[1] + z[3] + z[4]) < 1e-12, "z-scores sum to 0");
});

Deno.test("GET series applies the transform after resampling and before from/to and points", async () => {
  const rows = Array.from({ length: 48 }, (_, i) => `${JAN_1 + i * HOUR},${i}`);
  await using fixture = await worldWith(["t,v", ...rows].join("\n"));
  const url = `/v1/reports/${fixture.id}/series?every=4h&agg=sum&transform=diff` +
    `&from=${JAN_1 + 8 * HOUR}&to=${JAN_1 + 16 * HOUR}`;
  const body = await getJson(fixture.world, url);
  // 4-hour sums grow by 16 per bucket; the window was full before `from`.
  assert.deepEqual(body, {
    timestamps: [JAN_1 + 8 * HOUR, JAN_1 + 12 * HOUR, JAN_1 + 16 * HOUR],
    columns: { v: [16, 16, 16] },
  });
  const thin = await getJson(
    fixture.world,
    `/v1/reports/${fixture.id}/series?every=1h&transform=cumsum&points=5&format=json`,
  );
  assert.equal(thin.timestamps.length, 5);
  assert.equal(thin.columns.v[4], (47 * 48) / 2);
  // The same again comes from the cached view; a zoomed one is cut before LTTB.
  assert.deepEqual(
    await getJson(
      fixture.world,
      `/v1/reports/${fixture.id}/series?every=1h&transform=cumsum&points=5`,
    ),
    thin,
  );
  const zoomed = await getJson(
    fixture.world,
    `/v1/reports/${fixture.id}/series?every=1h&transform=cumsum&points=3` +
      `&from=${JAN_1 + 10 * HOUR}&to=${JAN_1 + 20 * HOUR}`,
  );
  assert.equal(zoomed.timestamps.length, 3);
  assert.equal(zoomed.timestamps[0], JAN_1 + 10 * HOUR);
  assert.equal(zoomed.timestamps[2], JAN_1 + 20 * HOUR);
  zoomed.timestamps.forEach((t: number, i: number) => {
    const hour = (t - JAN_1) / HOUR;
    assert.equal(zoomed.columns.v[i], (hour * (hour + 1)) / 2);
  });
});

Deno.test("GET series rejects bad every, agg and transform with a 400 naming them", async () => {
  await using fixture = await worldWith(MINUTES_CSV);
  const cases: [string, string, RegExp][] = [
    ["every=2h", "query.every", /1m, 5m, 15m, 30m, 1h, 4h, 1d, 1w, 1mo/],
    ["every=1h&agg=median", "query.agg", /last, first, mean, sum, min, max, count, ohlc/],
    ["agg=sum", "query.agg", /every/],
    ["transform=rolling_mean:1", "query.transform", /from 2 to 10000/],
    ["transform=rolling_mean:10001", "query.transform", /from 2 to 10000/],
    ["transform=rolling_std", "query.transform", /window N/],
    ["transform=ewm_mean:0", "query.transform", /0 < ALPHA <= 1/],
    ["transform=ewm_mean:1.5", "query.transform", /0 < ALPHA <= 1/],
    ["transform=diff:3", "query.transform", /takes no parameter/],
    ["transform=median", "query.transform", /not a transform.*diff, pct_change/],
  ];
  for (const [query, path, message] of cases) {
    const res = await fixture.world.app.request(`/v1/reports/${fixture.id}/series?${query}`);
    const problem = await assertProblem(res, 400);
    const error = problem.errors?.find((candidate) => candidate.path === path);
    assert.ok(error !== undefined, `${query}: ${JSON.stringify(problem.errors)}`);
    assert.match(error.message, message, query);
  }
});

Deno.test("GET series ETags differ per every, agg and transform and answer 304", async () => {
  await using fixture = await worldWith(MINUTES_CSV);
  const base = `/v1/reports/${fixture.id}/series`;
  const etags = new Set<string>();
  for (const query of ["", "?every=1h", "?every=1h&agg=sum", "?every=1h&transform=diff"]) {
    const res = await fixture.world.app.request(base + query);
    await res.body?.cancel();
    etags.add(res.headers.get("etag") ?? "");
    const again = await fixture.world.app.request(base + query, {
      headers: { "if-none-match": res.headers.get("etag") ?? "" },
    });
    assert.equal(again.status, 304, query);
  }
  assert.equal(etags.size, 4);
});

Deno.test("GET series serves a deleted report's resample as 404, not from the series cache", async () => {
  await using fixture = await worldWith(MINUTES_CSV);
  const url = `/v1/reports/${fixture.id}/series?every=1h`;
  await getJson(fixture.world, url);
  const deleted = await fixture.world.app.request(`/v1/reports/${fixture.id}`, {
    method: "DELETE",
  });
  assert.equal(deleted.status, 204);
  await assertProblem(await fixture.world.app.request(url), 404);
});
