/**
 * What the URL fragment says the page shows, and back: a report with its
 * chart settings (`#/reports/<id>?every=1h&agg=ohlc&transform=rolling_mean:20&scale=log`)
 * or the comparison of several reports (`#/compare?ids=a,b&every=1d`). The
 * fragment carries the whole view, so a link shares it and reloading keeps it.
 *
 * Values the page does not know are dropped (the view falls back to its
 * default) rather than sent on: a hand-edited link shows the report, not an
 * error. The accepted values mirror the API's (services/series/resample.ts
 * and transforms.ts); tests/unit/web_view_state_test.ts fails if they drift.
 *
 * Pure: no DOM, so unit tests and the browser share it.
 *
 * @module
 */

/** Resampling intervals the series endpoint accepts (`every=`), shortest first. */
export const EVERY = ["1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w", "1mo"] as const;

/** A resampling interval. */
export type Every = (typeof EVERY)[number];

/** Aggregations the series endpoint accepts (`agg=`); `last` is its default. */
export const AGG = ["last", "first", "mean", "sum", "min", "max", "count", "ohlc"] as const;

/** An aggregation. */
export type Agg = (typeof AGG)[number];

/** Transforms without a parameter (`transform=`). */
export const PLAIN_TRANSFORMS = [
  "diff",
  "pct_change",
  "log_return",
  "cumsum",
  "drawdown",
  "zscore",
] as const;

/** Rolling transforms, written `<name>:<points>` with 2..10000 points. */
export const ROLLING_TRANSFORMS = [
  "rolling_mean",
  "rolling_std",
  "rolling_min",
  "rolling_max",
] as const;

/** Smallest and largest rolling window the API accepts. */
export const ROLLING_WINDOW = { min: 2, max: 10_000 } as const;

/** Seconds in each interval; a month counts as 30 days (for estimates only). */
export const EVERY_SECONDS: Record<Every, number> = {
  "1m": 60,
  "5m": 300,
  "15m": 900,
  "30m": 1_800,
  "1h": 3_600,
  "4h": 14_400,
  "1d": 86_400,
  "1w": 604_800,
  "1mo": 2_592_000,
};

/** The chart settings of a report view; absent fields are the defaults. */
export interface ChartView {
  /** Resample to this interval; absent for the points as stored. */
  every?: Every;
  /** How to aggregate each bucket (only with `every`); absent for `last`. */
  agg?: Agg;
  /** A transform, as the API writes it (`rolling_mean:20`); absent for none. */
  transform?: string;
  /** Log-scale y axes (where every value is positive). */
  log?: boolean;
}

/** What the fragment asks the page to show. */
export type Route =
  | { kind: "none" }
  | { kind: "report"; id: string; view: ChartView }
  | { kind: "compare"; ids: string[]; every?: Every };

/** Most reports the API compares at once. */
export const COMPARE_MAX = 10;

/**
 * Whether `text` is a transform the API accepts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isTransform } from "./view_state.ts";
 * assert.equal(isTransform("pct_change"), true);
 * assert.equal(isTransform("rolling_mean:20"), true);
 * assert.equal(isTransform("ewm_mean:0.5"), true);
 * assert.equal(isTransform("rolling_mean:1"), false);
 * assert.equal(isTransform("ewm_mean:0"), false);
 * assert.equal(isTransform("rm -rf"), false);
 * ```
 */
export function isTransform(text: string): boolean {
  if ((PLAIN_TRANSFORMS as readonly string[]).includes(text)) return true;
  const [name, argument, ...rest] = text.split(":");
  if (argument === undefined || rest.length > 0) return false;
  if ((ROLLING_TRANSFORMS as readonly string[]).includes(name)) {
    if (!/^\d{1,5}$/.test(argument)) return false;
    const points = Number(argument);
    return points >= ROLLING_WINDOW.min && points <= ROLLING_WINDOW.max;
  }
  if (name === "ewm_mean") {
    if (!/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(argument)) return false;
    const alpha = Number(argument);
    return alpha > 0 && alpha <= 1;
  }
  return false;
}

/**
 * Reads the fragment.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRoute } from "./view_state.ts";
 * assert.deepEqual(parseRoute("#/reports/abc?every=1h&agg=ohlc&scale=log"), {
 *   kind: "report",
 *   id: "abc",
 *   view: { every: "1h", agg: "ohlc", log: true },
 * });
 * assert.deepEqual(parseRoute("#/reports/abc?every=2h"), { kind: "report", id: "abc", view: {} });
 * assert.deepEqual(parseRoute("#/compare?ids=a,b&every=1d"), {
 *   kind: "compare",
 *   ids: ["a", "b"],
 *   every: "1d",
 * });
 * assert.deepEqual(parseRoute("#/"), { kind: "none" });
 * ```
 */
export function parseRoute(hash: string): Route {
  const [path, search = ""] = hash.replace(/^#/, "").split("?", 2);
  const query = new URLSearchParams(search);
  const every = oneOf(EVERY, query.get("every"));
  if (path === "/compare") {
    const ids = (query.get("ids") ?? "").split(",").map((id) => id.trim()).filter((id) =>
      id !== ""
    );
    const unique = [...new Set(ids)].slice(0, COMPARE_MAX);
    return every === undefined
      ? { kind: "compare", ids: unique }
      : { kind: "compare", ids: unique, every };
  }
  const match = /^\/reports\/([^/]+)$/.exec(path);
  if (match === null) return { kind: "none" };
  let id: string;
  try {
    id = decodeURIComponent(match[1]);
  } catch {
    return { kind: "none" };
  }
  const view: ChartView = {};
  if (every !== undefined) {
    view.every = every;
    const agg = oneOf(AGG, query.get("agg"));
    if (agg !== undefined && agg !== "last") view.agg = agg;
  }
  const transform = query.get("transform");
  if (transform !== null && isTransform(transform)) view.transform = transform;
  if (query.get("scale") === "log") view.log = true;
  return { kind: "report", id, view };
}

/**
 * The fragment of a report view: only what differs from the defaults, in a
 * fixed order, so equal views have equal links.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reportHash } from "./view_state.ts";
 * assert.equal(reportHash("a b", {}), "#/reports/a%20b");
 * assert.equal(
 *   reportHash("id", { every: "1d", agg: "mean", transform: "rolling_mean:5", log: true }),
 *   "#/reports/id?every=1d&agg=mean&transform=rolling_mean%3A5&scale=log",
 * );
 * ```
 */
export function reportHash(id: string, view: ChartView): string {
  const query = viewQuery(view);
  if (view.log) query.set("scale", "log");
  return `#/reports/${encodeURIComponent(id)}${queryString(query)}`;
}

/**
 * The fragment of a comparison.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareHash } from "./view_state.ts";
 * assert.equal(compareHash(["a", "b"], "1d"), "#/compare?ids=a%2Cb&every=1d");
 * ```
 */
export function compareHash(ids: string[], every?: Every): string {
  const query = new URLSearchParams();
  if (ids.length > 0) query.set("ids", ids.join(","));
  if (every !== undefined) query.set("every", every);
  return `#/compare${queryString(query)}`;
}

/**
 * The series endpoint's query parameters for a view (the log scale is the
 * page's business, not the API's).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { viewQuery } from "./view_state.ts";
 * assert.equal(String(viewQuery({ agg: "sum" })), "");
 * assert.equal(String(viewQuery({ every: "1h", agg: "sum", log: true })), "every=1h&agg=sum");
 * ```
 */
export function viewQuery(view: ChartView): URLSearchParams {
  const query = new URLSearchParams();
  if (view.every !== undefined) {
    query.set("every", view.every);
    if (view.agg !== undefined && view.agg !== "last") query.set("agg", view.agg);
  }
  if (view.transform !== undefined) query.set("transform", view.transform);
  return query;
}

/**
 * The column names a view's series has: `ohlc` turns each column `c` into
 * `c_open`, `c_high`, `c_low`, `c_close` (in that order, as the API does).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { viewColumns } from "./view_state.ts";
 * assert.deepEqual(viewColumns(["v"], { every: "1h", agg: "ohlc" }), [
 *   "v_open", "v_high", "v_low", "v_close",
 * ]);
 * assert.deepEqual(viewColumns(["v"], { agg: "ohlc" }), ["v"]);
 * ```
 */
export function viewColumns(columns: string[], view: ChartView): string[] {
  if (view.every === undefined || view.agg !== "ohlc") return columns;
  return columns.flatMap((column) =>
    ["open", "high", "low", "close"].map((part) => `${column}_${part}`)
  );
}

function queryString(query: URLSearchParams): string {
  const text = query.toString();
  return text === "" ? "" : `?${text}`;
}

function oneOf<T extends string>(values: readonly T[], value: string | null): T | undefined {
  return values.find((candidate) => candidate === value);
}
