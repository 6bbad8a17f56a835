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
 * uPlot itself is loaded by its own `<script>` (a separately cached asset)
 * and found on `globalThis`; only its types are imported here.
 *
 * @module
 */
import type uPlot from "uplot";
import { apiJson } from "./api.ts";
import {
  type PlanContext,
  planSeries,
  secondAxisColumn,
  type SeriesPlan,
  seriesUrl,
  type TimeRange,
} from "./chart_plan.ts";
import { h } from "./dom.ts";
import { formatCompact, formatNumber, formatTick, plural } from "./format.ts";
import type { Report, Summary, UplotData } from "./types.ts";

/** Colours that stay distinct for the common kinds of colour blindness (Okabe and Ito). */
const PALETTE = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000"];

function uPlotClass(): typeof uPlot {
  const constructor = (globalThis as unknown as { uPlot?: typeof uPlot }).uPlot;
  if (constructor === undefined) throw new Error("uPlot did not load");
  return constructor;
}

/** The chart of one report, with its toolbar; {@linkcode ReportChart.destroy} when done. */
export class ReportChart {
  readonly #report: Report & { summary: Summary };
  readonly #columns: string[];
  readonly #canvas: HTMLElement;
  readonly #status: HTMLElement;
  readonly #full: TimeRange;
  #plot: uPlot | undefined;
  #overview: UplotData | undefined;
  #loadedKey = "";
  #aborter: AbortController | undefined;
  #debounce: ReturnType<typeof setTimeout> | undefined;
  #resize: ResizeObserver | undefined;
  #destroyed = false;

  /** Builds the figure inside `container`; call {@linkcode ReportChart.load} to draw. */
  constructor(container: HTMLElement, report: Report & { summary: Summary }) {
    this.#report = report;
    this.#columns = Object.keys(report.summary.columns);
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
    this.#loadedKey = seriesUrl(this.#report.id, planSeries(this.#full, this.#context()));
    plot.setData(this.#overview, false);
    plot.setScale("x", { ...this.#full });
    this.#show(this.#overview, { points: this.#width() });
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
    return {
      full: this.#full,
      totalPoints: this.#report.summary.points,
      intervalSeconds: this.#report.summary.interval_median_s,
      width: this.#width(),
    };
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
    const url = seriesUrl(this.#report.id, plan);
    this.#loadedKey = url;
    this.#canvas.setAttribute("aria-busy", "true");
    try {
      return await apiJson<UplotData>(url, { signal: aborter.signal });
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
    const second = secondAxisColumn(this.#columns);
    const series: uPlot.Series[] = [
      { label: "Time (UTC)" },
      ...this.#columns.map((column, index): uPlot.Series => {
        const colour = PALETTE[index % PALETTE.length];
        const onSecond = column === second;
        return {
          label: column,
          stroke: colour,
          width: onSecond ? 0 : 1.5,
          scale: onSecond ? "second" : "y",
          fill: onSecond ? `${colour}55` : undefined,
          paths: onSecond ? UPlot.paths.bars?.({ size: [0.6, 24] }) : undefined,
          points: { show: false },
          value: (_plot, value) => value === null ? "--" : formatNumber(value),
        };
      }),
    ];
    const axes: uPlot.Axis[] = [
      {
        space: 64,
        values: (_plot, splits, _axis, _space, increment) =>
          splits.map((split, index) => formatTick(split, { increment, first: index === 0 })),
      },
      { scale: "y", values: compactValues },
    ];
    if (second !== undefined) {
      axes.push({ scale: "second", side: 1, grid: { show: false }, values: compactValues });
    }
    const options: uPlot.Options = {
      width: this.#width(),
      height: this.#height(),
      series,
      axes,
      scales: {
        x: { time: true },
        // Bars start at zero, or their heights would not compare.
        second: { range: (_plot, _min, max) => [0, max * 1.05] },
      },
      // Times are UTC throughout the page, as the API returns them.
      tzDate: (seconds) => UPlot.tzDate(new Date(seconds * 1000), "Etc/UTC"),
      cursor: {
        drag: { x: true, y: false },
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
    if (seriesUrl(this.#report.id, plan) === this.#loadedKey) return;
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
    const shown = data[0].length;
    const total = this.#report.summary.points;
    const full = plan.points === undefined || shown >= total;
    const how = full ? "full resolution" : "downsampled to the chart width";
    this.#canvas.dataset.points = String(shown);
    this.#canvas.dataset.resolution = full ? "full" : "downsampled";
    this.#canvas.dataset.range = plan.from === undefined ? "all" : `${plan.from}/${plan.to}`;
    this.#status.textContent = `Showing ${formatNumber(shown)} of ${
      plural(total, "point")
    } (${how}).`;
  }

  #fit(): void {
    const plot = this.#plot;
    if (plot === undefined) return;
    const width = this.#width();
    if (Math.abs(width - plot.width) < 2) return;
    plot.setSize({ width, height: this.#height() });
  }
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

function compactValues(_plot: uPlot, splits: number[]): string[] {
  return splits.map((value) => formatCompact(value));
}
