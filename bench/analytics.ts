/**
 * Analytics benchmarks (issue 14), against a real `main.ts serve` process
 * holding one 1,000,000-point report (minute data, about 1.9 years):
 *
 * 1. Series reads with resampling and transforms: p50/p90 over sequential
 *    requests after one cold read, with the series cache on (the default)
 *    and off (`REPORTD_SERIES_CACHE_MB=0`), so the cache's share is visible.
 * 2. What the summary additions cost: in-process, the median time of
 *    `processUpload` on the same 1M-row CSV beside the median time of
 *    `analyzeSeries` alone, and their ratio (the +20% budget).
 *
 * Usage: deno task bench:analytics [--runs N] [--part reads|summary].
 * Results: docs/benchmarks.md.
 * Timings belong here, never in tests.
 *
 * @module
 */
import { analyzeSeries } from "../services/series/analytics.ts";
import { processUpload } from "../services/series/process.ts";
import { percentiles } from "../services/series/stats.ts";
import { generateCsv } from "../tests/helpers/generate.ts";
import { pollReport } from "../tests/helpers/poll.ts";
import { makeDataDir, startServer } from "../tests/helpers/server_process.ts";

const ROWS = 1_000_000;

/** The reads measured, as the issue and the page ask for them. */
const READS: Record<string, string> = {
  "every=1h&agg=ohlc&format=uplot": "every=1h&agg=ohlc&format=uplot",
  "transform=rolling_mean:1000&format=uplot&points=1200":
    "transform=rolling_mean:1000&format=uplot&points=1200",
  "transform=rolling_mean:1000&format=uplot (1M points out)":
    "transform=rolling_mean:1000&format=uplot",
  "every=1d&transform=drawdown&format=uplot": "every=1d&transform=drawdown&format=uplot",
  "format=uplot&points=1200 (no analytics)": "format=uplot&points=1200",
};

/** Issue 15, goal 7: zooming in, a window of 1% of the span that moves each run. */
const ZOOM_LABEL = "format=uplot&points=1200&from&to (1% of the span, moving)";

function zoomQuery(start: number, end: number, run: number): string {
  const width = (end - start) / 100;
  // Walk the window across the series so that no two runs ask the same range.
  const from = start + ((run * 7) % 99) * width;
  const iso = (ms: number) => new Date(ms).toISOString();
  return `format=uplot&points=1200&from=${iso(from)}&to=${iso(from + width)}`;
}

function runsOption(args: string[]): number {
  const at = args.indexOf("--runs");
  return at === -1 ? 30 : Number(args[at + 1]);
}

function ms(value: number): number {
  return +value.toFixed(1);
}

async function timedGet(url: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(url);
  if (response.status !== 200) {
    throw new Error(`${url}: ${response.status} ${await response.text()}`);
  }
  // The body is read in full: a client has not got the answer before that.
  await response.arrayBuffer();
  return performance.now() - started;
}

async function reads(csv: Uint8Array<ArrayBuffer>, cacheMb: string, runs: number) {
  const dataDir = await makeDataDir();
  try {
    await using server = await startServer({
      dataDir,
      env: {
        REPORTD_MAX_POINTS: String(ROWS * 2),
        REPORTD_MAX_BODY_BYTES: String(64 << 20),
        REPORTD_SERIES_CACHE_MB: cacheMb,
      },
    });
    const created = await fetch(`${server.baseUrl}/v1/reports`, {
      method: "POST",
      body: csv,
      headers: { "content-type": "text/csv" },
    });
    const { id } = await created.json();
    const report = await pollReport(server.baseUrl, id, { intervalMs: 20, timeoutMs: 180_000 });
    if (report.status !== "ready") throw new Error(`The report failed: ${JSON.stringify(report)}`);
    const rows: Record<string, Record<string, number>> = {};
    for (const [label, query] of Object.entries(READS)) {
      const url = `${server.baseUrl}/v1/reports/${id}/series?${query}`;
      const cold = await timedGet(url);
      const times: number[] = [];
      for (let i = 0; i < runs; i++) times.push(await timedGet(url));
      const [p50, p90] = percentiles(Float64Array.from(times), [0.5, 0.9]);
      rows[label] = { "first ms": ms(cold), "p50 ms": ms(p50), "p90 ms": ms(p90), runs };
    }
    const start = Date.parse(report.summary.start);
    const end = Date.parse(report.summary.end);
    const url = (run: number) =>
      `${server.baseUrl}/v1/reports/${id}/series?${zoomQuery(start, end, run)}`;
    const cold = await timedGet(url(0));
    const times: number[] = [];
    for (let i = 1; i <= runs; i++) times.push(await timedGet(url(i)));
    const [p50, p90] = percentiles(Float64Array.from(times), [0.5, 0.9]);
    rows[ZOOM_LABEL] = { "first ms": ms(cold), "p50 ms": ms(p50), "p90 ms": ms(p90), runs };
    return rows;
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

/**
 * The analytics' share of processing, in-process: each run times
 * `processUpload` (which includes them) and then `analyzeSeries` alone on its
 * result; the ratio is taken per run, so that load from other processes,
 * which drifts over seconds, mostly cancels out.
 */
async function summaryCost(csv: Uint8Array, runs: number): Promise<Record<string, number>> {
  const total: number[] = [];
  const analytics: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const { series, summary } = await processUpload(csv, { format: "csv", maxPoints: ROWS * 2 });
    const totalMs = performance.now() - started;
    // As process.ts calls it: the summary's medians are reused.
    const medians = Object.fromEntries(
      Object.entries(summary.columns).map(([name, stats]) => [name, stats.p50]),
    );
    const t0 = performance.now();
    analyzeSeries(series, { medianIntervalMs: (summary.interval_median_s ?? 0) * 1000, medians });
    const analyticsMs = performance.now() - t0;
    total.push(totalMs);
    analytics.push(analyticsMs);
    ratios.push(analyticsMs / (totalMs - analyticsMs));
  }
  const median = (values: number[]) => percentiles(Float64Array.from(values), [0.5])[0];
  return {
    "processUpload (with analytics) p50 ms": ms(median(total)),
    "analyzeSeries alone p50 ms": ms(median(analytics)),
    "added over processing without analytics, median of runs %": +(100 * median(ratios)).toFixed(1),
    runs,
  };
}

if (import.meta.main) {
  const runs = runsOption(Deno.args);
  // --part reads | summary runs one half (both by default).
  const part = Deno.args.includes("--part") ? Deno.args[Deno.args.indexOf("--part") + 1] : "all";
  const csv = new TextEncoder().encode(generateCsv(ROWS));
  if (part !== "summary") {
    console.log(
      `## Series reads on a ${ROWS.toLocaleString("en")}-point report, cache on (256 MiB)`,
    );
    console.table(await reads(csv, "256", runs));
    console.log("## The same reads with the series cache off (REPORTD_SERIES_CACHE_MB=0)");
    console.table(await reads(csv, "0", Math.max(5, Math.round(runs / 3))));
  }
  if (part !== "reads") {
    console.log("## Summary additions: share of processing time (in-process, 1M rows)");
    console.table(await summaryCost(csv, 9));
  }
}
