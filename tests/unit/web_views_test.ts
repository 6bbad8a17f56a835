/** The page's pure decisions for issue 14: number formats, scale groups, gaps, the view in the link. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { breakAtGaps, columnRanges, SCALE_FACTOR, scaleGroups } from "../../web/app/chart_plan.ts";
import { formatNumber, formatPercent } from "../../web/app/format.ts";
import { RESAMPLE_AGG, RESAMPLE_EVERY } from "../../services/series/resample.ts";
import {
  parseTransform,
  ROLLING_TRANSFORMS as API_ROLLING,
  ROLLING_WINDOW_RANGE,
  SIMPLE_TRANSFORMS,
} from "../../services/series/transforms.ts";
import { formatStatistic, STATISTIC_ROWS } from "../../web/app/statistics.ts";
import {
  AGG,
  type ChartView,
  EVERY,
  isTransform,
  parseRoute,
  PLAIN_TRANSFORMS,
  reportHash,
  ROLLING_TRANSFORMS,
  ROLLING_WINDOW,
} from "../../web/app/view_state.ts";

// The page keeps its own copy of what the series endpoint accepts (it is
// bundled without the server's modules); these keep the copy honest.
Deno.test("the page offers exactly the intervals, aggregates and transforms the API accepts", () => {
  assert.deepEqual([...EVERY], [...RESAMPLE_EVERY]);
  assert.deepEqual([...AGG], [...RESAMPLE_AGG]);
  assert.deepEqual([...PLAIN_TRANSFORMS], [...SIMPLE_TRANSFORMS]);
  assert.deepEqual([...ROLLING_TRANSFORMS], [...API_ROLLING]);
  assert.deepEqual({ ...ROLLING_WINDOW }, { ...ROLLING_WINDOW_RANGE });
});

Deno.test("isTransform agrees with the API's parseTransform on every form", () => {
  const names = [...SIMPLE_TRANSFORMS, ...API_ROLLING, "ewm_mean", "nope"];
  const argument = fc.oneof(
    fc.integer({ min: -5, max: 20_000 }).map(String),
    fc.double({ min: -1, max: 2, noNaN: true }).map(String),
    fc.constantFrom("", ".5", "1.0", "1.00", "0", "0.", "1e-1", "01", " 3"),
    fc.string({ maxLength: 6 }),
  );
  const text = fc.oneof(
    fc.constantFrom(...names),
    fc.tuple(fc.constantFrom(...names), argument).map(([name, arg]) => `${name}:${arg}`),
    fc.string({ maxLength: 20 }),
  );
  fc.assert(
    fc.property(text, (candidate) => {
      assert.equal(isTransform(candidate), parseTransform(candidate).ok, candidate);
    }),
    { numRuns: 2_000 },
  );
});

Deno.test("formatNumber: every safe integer is shown exactly, grouped", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
      (n) => {
        assert.equal(formatNumber(n, "en-US").replaceAll(",", ""), String(n));
      },
    ),
  );
});

Deno.test("formatNumber: a non-integer keeps every digit of its integer part", () => {
  fc.assert(fc.property(fc.double({ min: 1, max: 1e15, noNaN: true }), (value) => {
    fc.pre(!Number.isInteger(value));
    const shown = Number(formatNumber(value, "en-US").replaceAll(",", ""));
    // Rounded at most in the last kept digit: never off by a whole unit.
    assert.ok(Math.abs(shown - value) <= 1, `${value} shown as ${shown}`);
  }));
});

Deno.test("formatPercent and the statistic kinds: a percentage reads as one", () => {
  assert.equal(formatPercent(-0.00342295, "en-US"), "-0.34%");
  assert.equal(formatStatistic("percent", -0.342295, { locale: "en-US" }), "-0.34%");
  assert.equal(formatStatistic("count", 1_616_830, { locale: "en-US" }), "1,616,830");
  assert.equal(formatStatistic("value", 3_382_703, { locale: "en-US" }), "3,382,703");
  assert.equal(formatStatistic("coefficient", 0.98765, { locale: "en-US" }), "0.988");
  // Every analytics row explains itself; the old rows are self-evident.
  const analytics = STATISTIC_ROWS.slice(
    STATISTIC_ROWS.findIndex((row) => row.path === "return_total"),
  );
  assert.ok(analytics.length >= 8);
  for (const row of analytics) assert.ok((row.tip ?? "").length > 20, row.path);
});

Deno.test("scaleGroups: each column spans at least 1/SCALE_FACTOR of its axis", () => {
  const range = fc.tuple(
    fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    fc.double({ min: 0.001, max: 1e6, noNaN: true }),
  )
    .map(([min, height]) => ({ min, max: min + height }));
  fc.assert(fc.property(fc.array(range, { minLength: 1, maxLength: 8 }), (ranges) => {
    const columns = ranges.map((_, i) => `c${i}`);
    const groups = scaleGroups(columns, ranges);
    assert.deepEqual(groups.flat().sort((a, b) => a - b), columns.map((_, i) => i));
    for (const group of groups) {
      const min = Math.min(...group.map((i) => ranges[i].min));
      const max = Math.max(...group.map((i) => ranges[i].max));
      for (const i of group) {
        const own = ranges[i].max - ranges[i].min;
        assert.ok(max - min <= SCALE_FACTOR * own * (1 + 1e-9), `column ${i} in ${group}`);
      }
    }
  }));
});

Deno.test("scaleGroups: volume gets its own axis, columns without values join the first", () => {
  const price = { min: 1, max: 2 };
  assert.deepEqual(scaleGroups(["close", "volume"], [price, price]), [[0], [1]]);
  assert.deepEqual(scaleGroups(["volume"], [price]), [[0]]);
  assert.deepEqual(scaleGroups(["a", "b"], [price, null]), [[0, 1]]);
  assert.deepEqual(columnRanges([[1, 2], [null, null]]), [null]);
});

Deno.test("breakAtGaps: one null row per gap, points and order kept", () => {
  fc.assert(fc.property(
    fc.uniqueArray(fc.integer({ min: 0, max: 10_000 }), { minLength: 2, maxLength: 60 }),
    fc.integer({ min: 1, max: 500 }),
    (raw, threshold) => {
      const times = raw.sort((a, b) => a - b);
      const data = [times, times.map((t) => t * 2)];
      const broken = breakAtGaps(data, { gaps: [], thresholdSeconds: threshold });
      let expectedBreaks = 0;
      for (let i = 1; i < times.length; i++) {
        if (times[i] - times[i - 1] > threshold) expectedBreaks++;
      }
      assert.equal(broken[0].length, times.length + expectedBreaks);
      // Still increasing in time, and every original point is there once.
      for (let i = 1; i < broken[0].length; i++) assert.ok(broken[0][i]! > broken[0][i - 1]!);
      assert.deepEqual(broken[1].filter((v) => v !== null), times.map((t) => t * 2));
    },
  ));
});

Deno.test("breakAtGaps: a listed gap breaks a downsampled line only where no point is inside it", () => {
  const data = [[0, 100, 500, 900], [1, 2, 3, 4]];
  // The gap 120..480 lies between the points 100 and 500: broken there.
  assert.deepEqual(breakAtGaps(data, { gaps: [{ from: 120, to: 480 }] })[1], [1, 2, null, 3, 4]);
  // A gap that has a drawn point inside it is not one in this data.
  assert.deepEqual(breakAtGaps(data, { gaps: [{ from: 50, to: 600 }] })[1], [1, 2, 3, 4]);
});

Deno.test("the view survives the link: reportHash then parseRoute gives it back", () => {
  const view = fc.record({
    every: fc.option(fc.constantFrom(...EVERY), { nil: undefined }),
    agg: fc.option(fc.constantFrom(...AGG.filter((agg) => agg !== "last")), { nil: undefined }),
    transform: fc.option(
      fc.oneof(
        fc.constantFrom("diff", "pct_change", "log_return", "cumsum", "drawdown", "zscore"),
        fc.integer({ min: 2, max: 10_000 }).map((n) => `rolling_std:${n}`),
        fc.integer({ min: 1, max: 100 }).map((n) => `ewm_mean:${n / 100}`),
      ),
      { nil: undefined },
    ),
    log: fc.option(fc.constant(true), { nil: undefined }),
  }, { requiredKeys: [] });
  fc.assert(fc.property(view, fc.string({ minLength: 1, maxLength: 20 }), (raw, id) => {
    const expected: ChartView = {};
    if (raw.every !== undefined) {
      expected.every = raw.every;
      if (raw.agg !== undefined) expected.agg = raw.agg;
    }
    if (raw.transform !== undefined) expected.transform = raw.transform;
    if (raw.log) expected.log = true;
    assert.deepEqual(parseRoute(reportHash(id, raw)), { kind: "report", id, view: expected });
  }));
});

Deno.test("parseRoute: what the API would refuse is dropped, not sent", () => {
  assert.deepEqual(parseRoute("#/reports/x?every=1y&agg=median&transform=rolling_mean:1"), {
    kind: "report",
    id: "x",
    view: {},
  });
  assert.deepEqual(parseRoute("#/reports/%E0%A4%A"), { kind: "none" });
  assert.equal(isTransform("rolling_mean:10001"), false);
  assert.equal(isTransform("ewm_mean:1.5"), false);
  const many = Array.from({ length: 12 }, (_, i) => `r${i}`).join(",");
  const compare = parseRoute(`#/compare?ids=${many},r0`);
  assert.equal(compare.kind === "compare" && compare.ids.length, 10);
});
