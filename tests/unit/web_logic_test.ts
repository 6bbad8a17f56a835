/** The page's DOM-free decisions: what the chart fetches, which providers the form offers. */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  FULL_RESOLUTION_MAX,
  planSeries,
  secondAxisColumn,
  seriesUrl,
} from "../../web/app/chart_plan.ts";
import { formatDuration, formatInstant } from "../../web/app/format.ts";
import { symbolProviders } from "../../web/app/providers.ts";

const FULL = { min: 1_000_000, max: 2_000_000 };

Deno.test("planSeries: a zoomed range is fetched padded and inside the series", () => {
  fc.assert(fc.property(
    fc.integer({ min: FULL.min, max: FULL.max - 2 }),
    fc.integer({ min: 1, max: FULL.max - FULL.min }),
    fc.integer({ min: 2, max: 10_000_000 }),
    (start, length, totalPoints) => {
      const visible = { min: start, max: Math.min(FULL.max, start + length) };
      const plan = planSeries(visible, {
        full: FULL,
        totalPoints,
        intervalSeconds: 60,
        width: 640,
      });
      if (visible.min === FULL.min && visible.max === FULL.max) {
        assert.deepEqual(plan, { points: 640 });
        return;
      }
      const from = Date.parse(plan.from!) / 1000;
      const to = Date.parse(plan.to!) / 1000;
      assert.ok(from <= visible.min && to >= visible.max, "covers the visible range");
      assert.ok(from >= FULL.min && to <= FULL.max, "stays inside the series");
      const estimate = totalPoints * ((to - from) / (FULL.max - FULL.min));
      // Unsampled exactly when the estimate is small enough (allowing for ms rounding).
      if (plan.points === undefined) assert.ok(estimate <= FULL_RESOLUTION_MAX + 1);
      else assert.ok(estimate >= FULL_RESOLUTION_MAX - 1 && plan.points === 640);
    },
  ));
});

Deno.test("planSeries: a tiny width still asks for at least 3 points (the API's minimum)", () => {
  const plan = planSeries(FULL, { full: FULL, totalPoints: 10, intervalSeconds: null, width: 1 });
  assert.deepEqual(plan, { points: 3 });
});

Deno.test("seriesUrl: always uPlot arrays, with the plan's range and points", () => {
  assert.equal(
    seriesUrl("a b", { points: 800 }),
    "/v1/reports/a%20b/series?format=uplot&points=800",
  );
  assert.equal(
    seriesUrl("id", { from: "2020-01-01T00:00:00.000Z", to: "2020-02-01T00:00:00.000Z" }),
    "/v1/reports/id/series?format=uplot&from=2020-01-01T00%3A00%3A00.000Z" +
      "&to=2020-02-01T00%3A00%3A00.000Z",
  );
});

Deno.test("secondAxisColumn: only volume, and only beside something else", () => {
  assert.equal(secondAxisColumn(["close", "volume"]), "volume");
  assert.equal(secondAxisColumn(["close", "value"]), undefined);
  assert.equal(secondAxisColumn([]), undefined);
});

Deno.test("symbolProviders: reads the providers list defensively", () => {
  const providers = symbolProviders({
    items: [
      null,
      "stooq",
      { name: 42, parameters: { symbol: "x" } },
      { name: "down", parameters: { symbol: "x" }, reachable: false, retry_after_s: 12 },
      { name: "bare", parameters: { symbol: "x" } },
    ],
  });
  assert.deepEqual(providers, [
    { name: "down", description: "", reachable: false, retryAfterSeconds: 12 },
    { name: "bare", description: "", reachable: true, retryAfterSeconds: 0 },
  ]);
  assert.deepEqual(symbolProviders(null), []);
  assert.deepEqual(symbolProviders({ items: "nope" }), []);
});

Deno.test("format: durations use at most two consecutive units; bad instants pass through", () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 10 * 365 * 86_400 }), (seconds) => {
    const parts = formatDuration(seconds).split(" ");
    assert.ok(parts.length === 2 || parts.length === 4, formatDuration(seconds));
  }));
  assert.equal(formatDuration(3_600 + 59), "1 h");
  assert.equal(formatInstant("not a time"), "not a time");
});
