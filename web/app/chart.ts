/// <reference lib="dom" />
/**
 * The interactive chart of a ready report, drawn by uPlot.
 *
 * The page never asks for more points than it can draw: the first request is
 * `?format=uplot&points=<chart width in px>`, which the API downsamples with
 * LTTB, so a five-million-point report arrives as a few hundred rows and draws
 * at once. Zooming (drag across the plot, or the buttons) asks again for just
 * the visible range: at full resolution when that range holds few enough
 * points (`FULL_RESOLUTION_MAX` in chart_plan.ts), otherwise downsampled to the width
 * again, which still shows more detail than the overview did. Double-click or
 * "Reset zoom" returns to the overview, which is kept.
 *
 * The view (resampling, transform, log scale; view_state.ts) goes with every
 * request. Columns of very different scale get y axes of their own
 * (`scaleGroups` in chart_plan.ts), and lines break where the report found a
 * gap (`breakAtGaps`), rather than draw a straight line across it.
 *
 * The uPlot pieces it shares with the other charts are in plot.ts.
 *
 * @module
 */
import type uPlot from "uplot";
import { apiJson } from "./api.ts";
import {
  breakAtGaps,
  columnRanges,
  type GapSpan,
  type PlanContext,
  planSeries,
  scaleGroups,
  secondAxisColumn,
  type SeriesPlan,
  seriesUrl,
  type TimeRange,
  type ValueRange,
} from "./chart_plan.ts";
import { h } from "./dom.ts";
import { formatNumber, plural } from "./format.ts";
import {
  legendValue,
  PALETTE,
  timeAxis,
  timeSeries,
  uPlotClass,
  utcDates,
  valueAxis,
} from "./plot.ts";
import type { Report, Summary, UplotData } from "./types.ts";
import { type ChartView, EVERY_SECONDS, viewColumns } from "./view_state.ts";

/** uPlot's distribution number of a logarithmic scale. */
const LOG_DISTRIBUTION = 3;

/** Options of {@linkcode ReportChart}. */
export interface ReportChartOptions {
  /** Resampling, transform and scale; the stored points, linear, when absent. */
  view?: ChartView;
  /** Told the visible time range after every zoom (undefined: the whole series). */
  onRange?(range: TimeRange | undefined): void;
}

/** The chart of one report, with its toolbar; {@linkcode ReportChart.destroy} when done. */
export class ReportChart {
  readonly #report: Report & { summary: Summary };
  readonly #columns: string[];
  readonly #canvas: HTMLElement;
  readonly #status: HTMLElement;
  #full: TimeRange;
  readonly #view: ChartView;
  readonly #gaps: GapSpan[];
  readonly #onRange: ((range: TimeRange | undefined) => void) | undefined;
  #plot: uPlot | undefined;
  #linearOnly: string[] = [];
  /** Rows of nulls each drawn dataset got at gaps (not points of the series). */
  readonly #breaks = new WeakMap<UplotData, number>();
  #overview: UplotData | undefined;
  #loadedKey = "";
  #aborter: AbortController | undefined;
  #debounce: ReturnType<typeof setTimeout> | undefined;
  #resize: ResizeObserver | undefined;
  #destroyed = false;

  /** Builds the figure inside `container`; call {@linkcode ReportChart.load} to draw. */
  constructor(
    container: HTMLElement,
    report: Report & { summary: Summary },
    options: ReportChartOptions = {},
  ) {
    this.#report = report;
    this.#view = options.view ?? {};
    this.#onRange = options.onRange;
    this.#columns = viewColumns(Object.keys(report.summary.columns), this.#view);
    this.#gaps = report.summary.gaps.largest.map((gap) => ({
      from: Date.parse(gap.from) / 1000,
      to: Date.parse(gap.to) / 1000,
    }));
    this.#full = {
      min: Date.parse(report.summary.start) / 1000,
      max: Date.parse(report.summary.end) / 1000,
    };
    this.#canvas = h("div", { class: "chart-canvas", id: "chart-canvas" });
    this.#status = h("p", { class: "chart-status", id: "chart-status" });
    const toolbar = h(
      "div",
      { class: "chart-toolbar", role: "group", "aria-label": "Zoom" },
      button("Zoom in", () => this.#zoom(0.5)),
      button("Zoom out", () => this.#zoom(2)),
      button("Reset zoom", () => this.reset()),
    );
    container.replaceChildren(
      h(
        "figure",
        { class: "chart", "aria-labelledby": "chart-caption" },
        toolbar,
        this.#canvas,
        h(
          "figcaption",
          { id: "chart-caption" },
          `${plural(this.#columns.length, "column")} over time (UTC). Drag across the plot to ` +
            "zoom, double-click to reset; select a legend entry to hide or show its line. The " +
            "statistics table below has the numbers.",
        ),
        this.#status,
      ),
    );
  }

  /** Fetches the overview and draws it. */
  async load(): Promise<void> {
    const plan = planSeries(this.#full, this.#context());
    const data = await this.#fetch(plan);
    if (data === undefined || this.#destroyed) return;
    // Resampled buckets are stamped with their start, which lies before the
    // first point and the last (a week starts on Monday): the whole range is
    // the overview's, or a zoom test would take it for a zoomed one.
    const times = data[0];
    if (times.length > 0) this.#full = { min: times[0], max: times[times.length - 1] };
    this.#overview = data;
    this.#plot = this.#create(data);
    this.#show(data, plan);
    this.#resize = new ResizeObserver(() => this.#fit());
    this.#resize.observe(this.#canvas);
  }

  /** Back to the whole series. */
  reset(): void {
    const plot = this.#plot;
    if (plot === undefined || this.#overview === undefined) return;
    this.#aborter?.abort();
    this.#loadedKey = this.#url(planSeries(this.#full, this.#context()));
    plot.setData(this.#overview, false);
    plot.setScale("x", { ...this.#full });
    this.#show(this.#overview, { points: this.#width() });
    this.#onRange?.(undefined);
  }

  /** Stops requests and observers and removes the plot. */
  destroy(): void {
    this.#destroyed = true;
    this.#aborter?.abort();
    clearTimeout(this.#debounce);
    this.#resize?.disconnect();
    this.#plot?.destroy();
  }

  #context(): PlanContext {
    const { summary } = this.#report;
    const every = this.#view.every;
    if (every === undefined) {
      return {
        full: this.#full,
        totalPoints: summary.points,
        intervalSeconds: summary.interval_median_s,
        width: this.#width(),
      };
    }
    // Resampled: at most one point per bucket, and no more than stored.
    const seconds = EVERY_SECONDS[every];
    const buckets = Math.floor((this.#full.max - this.#full.min) / seconds) + 1;
    return {
      full: this.#full,
      totalPoints: Math.min(summary.points, buckets),
      intervalSeconds: Math.max(seconds, summary.interval_median_s ?? 0),
      width: this.#width(),
    };
  }

  #url(plan: SeriesPlan): string {
    return seriesUrl(this.#report.id, plan, this.#view);
  }

  #width(): number {
    return Math.max(200, Math.floor(this.#canvas.clientWidth));
  }

  #height(): number {
    // Wide screens get a landscape plot; a phone a shorter one that still
    // leaves room for the legend and toolbar.
    return Math.round(Math.min(420, Math.max(220, this.#width() * 0.45)));
  }

  async #fetch(plan: SeriesPlan): Promise<UplotData | undefined> {
    this.#aborter?.abort();
    const aborter = new AbortController();
    this.#aborter = aborter;
    const url = this.#url(plan);
    this.#loadedKey = url;
    this.#canvas.setAttribute("aria-busy", "true");
    try {
      const data = await apiJson<UplotData>(url, { signal: aborter.signal });
      // The median-interval threshold only describes the points as stored.
      const stored = plan.points === undefined && this.#view.every === undefined;
      const broken = breakAtGaps(data, {
        gaps: this.#gaps,
        thresholdSeconds: stored ? this.#report.summary.gaps.threshold_s : null,
      });
      this.#breaks.set(broken, broken[0].length - data[0].length);
      return broken;
    } catch (error) {
      if (aborter.signal.aborted) return undefined;
      this.#status.textContent = (error as Error).message;
      this.#loadedKey = "";
      return undefined;
    } finally {
      if (this.#aborter === aborter) this.#canvas.removeAttribute("aria-busy");
    }
  }

  #create(data: UplotData): uPlot {
    const UPlot = uPlotClass();
    // Bars from zero suit raw volumes; a transformed volume can be negative.
    const bars = this.#view.transform === undefined ? secondAxisColumn(this.#columns) : undefined;
    const ranges = columnRanges(data);
    const groups = scaleGroups(this.#columns, ranges);
    const scaleOf = new Map<number, string>();
    groups.forEach((members, group) => members.forEach((index) => scaleOf.set(index, `y${group}`)));
    // Returns and drawdowns are fractions: read as percentages.
    const percent = this.#view.transform === "pct_change" || this.#view.transform === "drawdown";
    const series: uPlot.Series[] = [
      timeSeries(),
      ...this.#columns.map((column, index): uPlot.Series => {
        const colour = PALETTE[index % PALETTE.length];
        const onBars = column === bars;
        return {
          label: column,
          stroke: colour,
          width: onBars ? 0 : 1.5,
          scale: scaleOf.get(index),
          fill: onBars ? `${colour}55` : undefined,
          paths: onBars ? UPlot.paths.bars?.({ size: [0.6, 24] }) : undefined,
          points: { show: false },
          value: legendValue(percent),
        };
      }),
    ];
    const { axes, scales, logScales, linearOnly } = yAxes(this.#columns, {
      groups,
      ranges,
      bars,
      log: this.#view.log === true,
      percent,
    });
    this.#canvas.dataset.scales = groups
      .map((members) => members.map((index) => this.#columns[index]).join(","))
      .join("|");
    this.#canvas.dataset.logScales = logScales.join(",");
    this.#linearOnly = linearOnly;
    const options: uPlot.Options = {
      width: this.#width(),
      height: this.#height(),
      series,
      axes,
      scales,
      // Times are UTC throughout the page, as the API returns them.
      tzDate: utcDates(UPlot),
      cursor: {
        drag: { x: true, y: false },
        // The drawdown chart below shows the cursor at the same time.
        sync: { key: `report-${this.#report.id}` },
        // uPlot's own double-click resets to the data it holds, which after a
        // zoom is only the zoomed range; reset to the overview instead.
        bind: {
          dblclick: () => () => {
            this.reset();
            return null;
          },
        },
      },
      legend: { live: true },
      hooks: {
        setScale: [(_plot, key) => {
          if (key === "x") this.#scheduleRangeFetch();
        }],
        setSeries: [() => this.#syncLegend()],
      },
    };
    const plot = new UPlot(options, data as uPlot.AlignedData, this.#canvas);
    this.#makeLegendKeyboardOperable(plot);
    return plot;
  }

  /**
   * uPlot's legend entries toggle their series on click only; make them
   * buttons that a keyboard can reach and press, and that say their state.
   */
  #makeLegendKeyboardOperable(plot: uPlot): void {
    const rows = plot.root.querySelectorAll<HTMLTableRowElement>(".u-legend .u-series");
    rows.forEach((row, index) => {
      if (index === 0) return; // the time column
      const label = row.querySelector("th");
      if (label === null) return;
      label.setAttribute("role", "button");
      label.setAttribute("tabindex", "0");
      label.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          label.click();
        }
      });
    });
    this.#syncLegend();
  }

  #syncLegend(): void {
    const plot = this.#plot;
    const root = plot?.root ?? this.#canvas;
    root.querySelectorAll(".u-legend .u-series").forEach((row, index) => {
      const label = row.querySelector("th");
      if (index === 0 || label === null) return;
      const shown = plot?.series[index]?.show ?? true;
      label.setAttribute("aria-pressed", String(shown));
      label.setAttribute(
        "aria-label",
        `${this.#columns[index - 1]}: ${shown ? "shown" : "hidden"}; press to toggle`,
      );
    });
  }

  #zoom(factor: number): void {
    const plot = this.#plot;
    const visible = visibleRange(plot);
    if (plot === undefined || visible === undefined) return;
    const middle = (visible.min + visible.max) / 2;
    const half = Math.max(((visible.max - visible.min) / 2) * factor, 0.5);
    plot.setScale("x", {
      min: Math.max(this.#full.min, middle - half),
      max: Math.min(this.#full.max, middle + half),
    });
  }

  #scheduleRangeFetch(): void {
    clearTimeout(this.#debounce);
    // Drags and button presses come in bursts; ask once they settle.
    this.#debounce = setTimeout(() => void this.#fetchVisible(), 120);
  }

  async #fetchVisible(): Promise<void> {
    const plot = this.#plot;
    const visible = visibleRange(plot);
    if (plot === undefined || visible === undefined) return;
    const plan = planSeries(visible, this.#context());
    this.#onRange?.(plan.from === undefined ? undefined : visible);
    if (this.#url(plan) === this.#loadedKey) return;
    if (plan.from === undefined && this.#overview !== undefined) {
      this.reset();
      return;
    }
    const data = await this.#fetch(plan);
    if (data === undefined || this.#destroyed) return;
    plot.setData(data as uPlot.AlignedData, false);
    // setData without resetting scales does not redraw; setting the same x
    // range does, and lets the y axes fit the visible data.
    plot.setScale("x", visible);
    this.#show(data, plan);
  }

  #show(data: UplotData, plan: SeriesPlan): void {
    const breaks = this.#breaks.get(data) ?? 0;
    const shown = data[0].length - breaks;
    this.#canvas.dataset.breaks = String(breaks);
    const total = this.#report.summary.points;
    const full = plan.points === undefined || shown >= total;
    const how = full ? "full resolution" : "downsampled to the chart width";
    this.#canvas.dataset.points = String(shown);
    this.#canvas.dataset.resolution = full ? "full" : "downsampled";
    this.#canvas.dataset.range = plan.from === undefined ? "all" : `${plan.from}/${plan.to}`;
    const resampled = this.#view.every === undefined
      ? ""
      : ` Resampled to ${this.#view.every} (${this.#view.agg ?? "last"}).`;
    const transformed = this.#view.transform === undefined
      ? ""
      : ` Transform: ${this.#view.transform}.`;
    const linear = this.#linearOnly.length === 0
      ? ""
      : ` Linear scale for ${this.#linearOnly.join(", ")}: a log scale needs values above zero.`;
    this.#status.textContent = `Showing ${formatNumber(shown)} of ${
      plural(total, "point")
    } (${how}).${resampled}${transformed}${linear}`;
  }

  #fit(): void {
    const plot = this.#plot;
    if (plot === undefined) return;
    const width = this.#width();
    if (Math.abs(width - plot.width) < 2) return;
    plot.setSize({ width, height: this.#height() });
  }
}

/** The y axes and scales of the scale groups, and which of them are logarithmic. */
function yAxes(
  columns: string[],
  options: {
    groups: number[][];
    ranges: ValueRange[];
    bars: string | undefined;
    log: boolean;
    percent: boolean;
  },
): { axes: uPlot.Axis[]; scales: uPlot.Scales; logScales: string[]; linearOnly: string[] } {
  const { groups, ranges, bars, log, percent } = options;
  const axes: uPlot.Axis[] = [timeAxis()];
  const scales: uPlot.Scales = { x: { time: true } };
  const logScales: string[] = [];
  const linearOnly: string[] = [];
  groups.forEach((members, group) => {
    const key = `y${group}`;
    const names = members.map((index) => columns[index]);
    const isBars = members.length === 1 && columns[members[0]] === bars;
    const positive = members.every((index) => (ranges[index]?.min ?? 0) > 0);
    if (isBars) {
      // Bars start at zero, or their heights would not compare.
      scales[key] = { range: (_plot, _min, max) => [0, max * 1.05] };
    } else if (log && positive) {
      scales[key] = { distr: LOG_DISTRIBUTION, log: 10 };
      logScales.push(key);
    } else {
      scales[key] = {};
      if (log) linearOnly.push(...names);
    }
    axes.push(valueAxis({
      percent,
      log: logScales.includes(key),
      axis: {
        scale: key,
        // The first axis on the left, the second on the right, and so on.
        side: group % 2 === 0 ? 3 : 1,
        grid: { show: group === 0 },
        label: groups.length > 1 ? names.join(", ") : undefined,
        labelSize: 18,
        stroke: groups.length > 1 ? PALETTE[members[0] % PALETTE.length] : undefined,
      },
    }));
  });
  return { axes, scales, logScales, linearOnly };
}

function visibleRange(plot: uPlot | undefined): TimeRange | undefined {
  const scale = plot?.scales.x;
  if (typeof scale?.min !== "number" || typeof scale.max !== "number") return undefined;
  return { min: scale.min, max: scale.max };
}

function button(label: string, onClick: () => void): HTMLButtonElement {
  const element = h("button", { type: "button", class: "secondary" }, label);
  element.addEventListener("click", onClick);
  return element;
}
