/// <reference lib="dom" />
/**
 * The drawdown chart under a price chart: how far each price-like column
 * (`priceLikeColumns` in chart_plan.ts: every value positive, not volume;
 * `close` alone when there is one) stood below its running high, from 0 down
 * to -100%.
 *
 * It asks the series endpoint for `transform=drawdown` (the API computes it
 * on every stored point, or on the resampled buckets, before downsampling to
 * the chart's width), follows the price chart's zoom, and shares its cursor.
 *
 * @module
 */
import type uPlot from "uplot";
import { apiJson } from "./api.ts";
import { breakAtGaps, seriesUrl, type TimeRange } from "./chart_plan.ts";
import { h } from "./dom.ts";
import { legendValue, timeAxis, timeSeries, uPlotClass, utcDates, valueAxis } from "./plot.ts";
import type { Report, Summary, UplotData } from "./types.ts";
import type { ChartView } from "./view_state.ts";

/** Colour of the drawdown area (Okabe and Ito vermillion). */
const COLOUR = "#d55e00";

/** The drawdown figure of one report; {@linkcode DrawdownChart.destroy} when done. */
export class DrawdownChart {
  readonly #report: Report & { summary: Summary };
  readonly #columns: string[];
  readonly #view: ChartView;
  readonly #canvas: HTMLElement;
  readonly #status: HTMLElement;
  #plot: uPlot | undefined;
  #aborter: AbortController | undefined;
  #resize: ResizeObserver | undefined;
  #destroyed = false;

  /** Builds the figure in `container` for `columns` (price-like ones). */
  constructor(
    container: HTMLElement,
    report: Report & { summary: Summary },
    options: { columns: string[]; view?: ChartView },
  ) {
    this.#report = report;
    this.#columns = options.columns;
    // Drawdown is of the prices themselves: resample by last price, no other transform.
    const every = options.view?.every;
    this.#view = every === undefined ? { transform: "drawdown" } : { every, transform: "drawdown" };
    this.#canvas = h("div", { class: "chart-canvas drawdown-canvas", id: "drawdown-canvas" });
    this.#status = h("p", { class: "chart-status", id: "drawdown-status" });
    container.replaceChildren(
      h(
        "figure",
        { class: "chart drawdown", "aria-labelledby": "drawdown-caption" },
        h("h3", { id: "drawdown-title" }, "Drawdown"),
        this.#canvas,
        h(
          "figcaption",
          { id: "drawdown-caption" },
          `How far ${this.#columns.join(", ")} stood below ${
            this.#columns.length === 1 ? "its" : "their"
          } highest value so far (0% at a new high). Shown because every value is above zero, ` +
            "as prices are.",
        ),
        this.#status,
      ),
    );
  }

  /** Fetches the drawdown series and draws it. */
  async load(): Promise<void> {
    this.#aborter = new AbortController();
    const width = this.#width();
    const url = seriesUrl(this.#report.id, { points: width }, this.#view);
    let data: UplotData;
    try {
      data = await apiJson<UplotData>(url, { signal: this.#aborter.signal });
    } catch (error) {
      if (!this.#aborter.signal.aborted) this.#status.textContent = (error as Error).message;
      return;
    }
    if (this.#destroyed) return;
    const all = Object.keys(this.#report.summary.columns);
    const picked: UplotData = [
      data[0],
      ...this.#columns.map((column) => data[all.indexOf(column) + 1] ?? []),
    ];
    const gaps = this.#report.summary.gaps.largest.map((gap) => ({
      from: Date.parse(gap.from) / 1000,
      to: Date.parse(gap.to) / 1000,
    }));
    const drawn = breakAtGaps(picked, { gaps });
    this.#plot = this.#create(drawn);
    this.#canvas.dataset.points = String(data[0].length);
    this.#canvas.dataset.columns = this.#columns.join(",");
    this.#canvas.dataset.range = "all";
    this.#canvas.dataset.min = String(Math.min(
      0,
      ...picked.slice(1).flatMap((values) =>
        (values as (number | null)[]).filter((value): value is number => value !== null)
      ),
    ));
    this.#resize = new ResizeObserver(() => {
      const plot = this.#plot;
      if (plot !== undefined && Math.abs(this.#width() - plot.width) >= 2) {
        plot.setSize({ width: this.#width(), height: this.#height() });
      }
    });
    this.#resize.observe(this.#canvas);
  }

  /** Shows `range` (the price chart's zoom), or everything when undefined. */
  showRange(range: TimeRange | undefined): void {
    const plot = this.#plot;
    if (plot === undefined) return;
    const times = plot.data[0];
    plot.setScale("x", range ?? { min: times[0], max: times[times.length - 1] });
    this.#canvas.dataset.range = range === undefined ? "all" : `${range.min}/${range.max}`;
  }

  /** Stops the request and removes the plot. */
  destroy(): void {
    this.#destroyed = true;
    this.#aborter?.abort();
    this.#resize?.disconnect();
    this.#plot?.destroy();
  }

  #width(): number {
    return Math.max(200, Math.floor(this.#canvas.clientWidth));
  }

  #height(): number {
    return Math.round(Math.min(200, Math.max(120, this.#width() * 0.2)));
  }

  #create(data: UplotData): uPlot {
    const UPlot = uPlotClass();
    return new UPlot(
      {
        width: this.#width(),
        height: this.#height(),
        series: [
          timeSeries(),
          ...this.#columns.map((column): uPlot.Series => ({
            label: `${column} drawdown`,
            stroke: COLOUR,
            fill: `${COLOUR}33`,
            width: 1,
            points: { show: false },
            value: legendValue(true),
          })),
        ],
        axes: [timeAxis(), valueAxis({ percent: true, axis: { size: 64 } })],
        scales: {
          x: { time: true },
          // From the deepest fall (at least -1%) up to zero: a new high is the top edge.
          y: { range: (_plot, min) => [Math.min(min * 1.05, -0.01), 0] },
        },
        tzDate: utcDates(UPlot),
        cursor: { sync: { key: `report-${this.#report.id}` }, drag: { x: false, y: false } },
        legend: { live: true },
      },
      data as uPlot.AlignedData,
      this.#canvas,
    );
  }
}
