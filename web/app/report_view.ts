/// <reference lib="dom" />
/**
 * One report in full: its status, summary, chart, statistics, gaps and
 * rejected rows, with the download and delete actions.
 *
 * Every statistic is written as `<data value="raw">formatted</data>`: people
 * read the rounded text, while the exact value stays machine-readable (the
 * browser tests compare it with what the API returned).
 *
 * @module
 */
import { apiFetch, describeProblem, storedApiKey } from "./api.ts";
import { ReportChart } from "./chart.ts";
import { chartControls } from "./chart_controls.ts";
import { priceLikeColumns } from "./chart_plan.ts";
import { type Child, h, replaceChildren } from "./dom.ts";
import { DrawdownChart } from "./drawdown_chart.ts";
import { formatDuration, formatInstant, formatNumber, MISSING, plural } from "./format.ts";
import { formatStatistic, STATISTIC_ROWS, statisticValue } from "./statistics.ts";
import { isPending, type Report, type ReportStatus, type Summary } from "./types.ts";
import { type ChartView, compareHash } from "./view_state.ts";

const STATUS_LABELS: Record<ReportStatus, string> = {
  queued: "Queued",
  processing: "Processing",
  ready: "Ready",
  failed: "Failed",
};

/**
 * A status badge: the word itself plus an icon (CSS, by `data-status`), so
 * colour is never the only signal.
 */
export function statusBadge(status: ReportStatus): HTMLElement {
  return h(
    "span",
    { class: "badge", "data-status": status },
    h("span", { class: "badge-icon", "aria-hidden": "true" }),
    STATUS_LABELS[status],
  );
}

/** What the view needs from the page. */
export interface ReportViewDeps {
  /** Asks for confirmation, deletes the report and updates the page. */
  requestDelete(report: Report): void;
  /** The chart view changed (to put it in the URL). */
  onViewChange(report: Report, view: ChartView): void;
}

/** The report panel. */
export class ReportView {
  readonly #panel: HTMLElement;
  readonly #deps: ReportViewDeps;
  #report: Report | undefined;
  #chart: ReportChart | undefined;
  #drawdown: DrawdownChart | undefined;
  /** The interval the drawdown chart was drawn at. */
  #drawdownEvery: string | undefined;
  #view: ChartView = {};

  /** A view that renders into `panel`. */
  constructor(panel: HTMLElement, deps: ReportViewDeps) {
    this.#panel = panel;
    this.#deps = deps;
  }

  /** The id of the report shown, if any. */
  get currentId(): string | undefined {
    return this.#report?.id;
  }

  /**
   * Shows `report`. Showing the same report in the same status again does
   * nothing, so a poll that brings no news does not redraw the chart.
   */
  show(report: Report, options: { focus?: boolean; view?: ChartView } = {}): void {
    const sameReport = this.#report?.id === report.id;
    const same = sameReport && this.#report?.status === report.status;
    this.#report = report;
    if (same) {
      if (options.view !== undefined) this.setView(options.view);
      return;
    }
    this.#destroyCharts();
    // A report that just became ready keeps the view its link asked for.
    this.#view = options.view ?? (sameReport ? this.#view : {});
    this.#panel.dataset.open = "true";
    replaceChildren(this.#panel, ...this.#render(report));
    // Which report the panel shows (and in which state), for scripts and tests.
    this.#panel.dataset.reportId = report.id;
    this.#panel.dataset.status = report.status;
    // The tab and the history list name the report, not just the site.
    document.title = `${report.name} - reportd`;
    this.#drawCharts();
    if (options.focus) this.#panel.querySelector<HTMLElement>("#report-title")?.focus();
  }

  /**
   * Redraws the chart with `view` (from the URL), and the controls with it
   * when they say something else (a link was followed, not a control used).
   */
  setView(view: ChartView): void {
    if (sameView(view, this.#view)) return;
    this.#view = view;
    const report = this.#report;
    const controls = this.#panel.querySelector("#chart-controls");
    if (report !== undefined && controls !== null) {
      controls.replaceWith(chartControls(view, (next) => this.#changeView(report, next)));
    }
    this.#drawCharts();
  }

  #changeView(report: Report, view: ChartView): void {
    if (sameView(view, this.#view)) return;
    this.#view = view;
    this.#drawCharts();
    this.#deps.onViewChange(report, view);
  }

  #destroyCharts(): void {
    this.#chart?.destroy();
    this.#chart = undefined;
    this.#drawdown?.destroy();
    this.#drawdown = undefined;
  }

  /**
   * Draws the price chart for the current view, and the drawdown chart
   * under it; a drawdown already drawn at the same interval is kept (it
   * does not depend on the transform, aggregate or scale).
   */
  #drawCharts(): void {
    const every = this.#view.every;
    const keepDrawdown = this.#drawdown !== undefined && this.#drawdownEvery === every;
    this.#chart?.destroy();
    this.#chart = undefined;
    if (!keepDrawdown) {
      this.#drawdown?.destroy();
      this.#drawdown = undefined;
    }
    const report = this.#report;
    if (report?.status !== "ready" || report.summary === null) return;
    const ready = { ...report, summary: report.summary };
    const container = this.#panel.querySelector<HTMLElement>("#chart-main");
    if (container === null) return;
    const drawdownContainer = this.#panel.querySelector<HTMLElement>("#drawdown");
    const priceLike = priceLikeColumns(report.summary.columns);
    if (!keepDrawdown && drawdownContainer !== null) {
      drawdownContainer.replaceChildren();
      if (priceLike.length > 0) {
        this.#drawdown = new DrawdownChart(drawdownContainer, ready, {
          columns: priceLike,
          view: this.#view,
        });
        this.#drawdownEvery = every;
        void this.#drawdown.load();
      }
    }
    // The new price chart starts unzoomed: so does the drawdown.
    this.#drawdown?.showRange(undefined);
    this.#chart = new ReportChart(container, ready, {
      view: this.#view,
      onRange: (range) => this.#drawdown?.showRange(range),
    });
    void this.#chart.load();
  }

  /** Forgets the report shown, when another view (the comparison) takes the panel. */
  release(): void {
    this.#destroyCharts();
    this.#report = undefined;
  }

  /** Shows a message instead of a report (nothing chosen, or not found). */
  showMessage(title: string, text: string): void {
    this.#destroyCharts();
    this.#report = undefined;
    document.title = "reportd";
    delete this.#panel.dataset.open;
    delete this.#panel.dataset.reportId;
    delete this.#panel.dataset.status;
    replaceChildren(
      this.#panel,
      h("h2", { id: "report-title", tabindex: "-1" }, title),
      h("p", { class: "placeholder" }, text),
    );
  }

  #render(report: Report): Child[] {
    return [
      h("p", { class: "back" }, h("a", { href: "#/" }, "Back to the reports")),
      h(
        "header",
        { class: "report-header" },
        h("h2", { id: "report-title", tabindex: "-1" }, report.name),
        statusBadge(report.status),
      ),
      h("p", { class: "report-source" }, describeSource(report)),
      this.#actions(report),
      ...body(report, () => chartControls(this.#view, (view) => this.#changeView(report, view))),
    ];
  }

  #actions(report: Report): HTMLElement {
    const actions = h("div", { class: "actions" });
    if (report.status === "ready") {
      const link = h("a", {
        class: "button",
        id: "download-csv",
        href: `${report.links.series}?format=csv`,
        download: `${fileName(report.name)}.csv`,
      }, "Download CSV");
      link.addEventListener("click", (event) => {
        // A plain link streams the file to disk, but cannot send a header:
        // with an API key, fetch it and hand the browser the bytes instead.
        if (storedApiKey() === null) return;
        event.preventDefault();
        void downloadWithKey(link.href, link.download, link);
      });
      actions.appendChild(link);
      actions.appendChild(
        h("a", {
          class: "button secondary",
          id: "compare-report",
          href: compareHash([report.id]),
        }, "Compare with others"),
      );
    }
    const remove = h("button", { type: "button", class: "danger", id: "delete-report" }, "Delete");
    remove.addEventListener("click", () => this.#deps.requestDelete(report));
    actions.appendChild(remove);
    return actions;
  }
}

function body(report: Report, controls: () => HTMLElement): Child[] {
  if (isPending(report.status)) {
    return [
      h(
        "p",
        { class: "pending" },
        report.status === "queued"
          ? "Waiting for a worker. This page updates by itself."
          : "Parsing and computing statistics. This page updates by itself.",
      ),
    ];
  }
  if (report.status === "failed") return failure(report);
  const summary = report.summary;
  if (summary === null) return [];
  return [
    summaryList(report, summary),
    h(
      "section",
      { id: "chart", class: "chart-section", "aria-label": "Chart" },
      controls(),
      h("div", { id: "chart-main" }),
      h("div", { id: "drawdown" }),
    ),
    statisticsTable(summary),
    correlationTable(summary),
    gapsSection(summary),
    rejectedSection(report),
  ];
}

function failure(report: Report): Child[] {
  const error = report.error;
  return [
    h(
      "div",
      { class: "error-box", id: "report-error" },
      h("strong", {}, error?.title ?? "Processing failed"),
      error?.detail ? ` ${error.detail}` : "",
      error?.errors && error.errors.length > 0
        ? h("ul", {}, ...error.errors.map((e) => h("li", {}, `${e.path}: ${e.message}`)))
        : null,
    ),
    rejectedSection(report),
  ];
}

function summaryList(report: Report, summary: Summary): HTMLElement {
  const rows = report.rows;
  const entries: [string, Child][] = [
    [
      "Span",
      `${formatInstant(summary.start)} to ${formatInstant(summary.end)} (${
        formatDuration((Date.parse(summary.end) - Date.parse(summary.start)) / 1000)
      })`,
    ],
    ["Points", dataValue(summary.points)],
    [
      "Median interval",
      summary.interval_median_s === null ? MISSING : formatDuration(summary.interval_median_s),
    ],
    ["Gaps", gapsText(summary)],
  ];
  if (summary.periods_per_year !== undefined && summary.periods_per_year !== null) {
    // What volatility and return per risk are scaled by, so the table can be checked.
    entries.push([
      "Annualized with",
      `${formatNumber(summary.periods_per_year)} periods a year (from the median interval)`,
    ]);
  }
  if (rows !== null) {
    entries.push([
      "Rows",
      `${plural(rows.received, "row")} received, ${formatNumber(rows.accepted)} accepted, ` +
      `${formatNumber(rows.rejected)} rejected, ${formatNumber(rows.duplicates)} duplicate` +
      (rows.duplicates === 1 ? "" : "s"),
    ]);
  }
  return h(
    "dl",
    { class: "summary", id: "report-summary" },
    ...entries.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]),
  );
}

function gapsText(summary: Summary): string {
  const { count, threshold_s: threshold } = summary.gaps;
  if (count === 0) return "None";
  const longer = threshold === null ? "" : ` longer than ${formatDuration(threshold)}`;
  return `${plural(count, "gap")}${longer}`;
}

function statisticsTable(summary: Summary): HTMLElement {
  const columns = Object.keys(summary.columns);
  const stats = columns.map((column) =>
    summary.columns[column] as unknown as Record<string, unknown>
  );
  // A row the server did not send (an older server) is left out, not dashed.
  const rows = STATISTIC_ROWS.filter((row) =>
    stats.some((column) => statisticValue(column, row.path) !== undefined)
  );
  const table = h(
    "table",
    { class: "statistics", id: "statistics" },
    h("caption", { id: "statistics-caption" }, "Statistics per column"),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, "Statistic"),
        ...columns.map((column) => h("th", { scope: "col", "data-column": column }, column)),
      ),
    ),
    h(
      "tbody",
      {},
      ...rows.map((row) =>
        h(
          "tr",
          { "data-statistic": row.path },
          rowHeading(row.path, row.heading, row.tip),
          ...stats.map((column) => {
            const value = statisticValue(column, row.path);
            return h("td", {}, statisticCell(row.kind, value, nullReason(column, row.path)));
          }),
        )
      ),
    ),
  );
  // A wide table scrolls inside its own region, which must then be reachable
  // by keyboard to be scrollable without a mouse.
  return h(
    "div",
    {
      class: "table-scroll",
      tabindex: "0",
      role: "region",
      "aria-labelledby": "statistics-caption",
    },
    table,
  );
}

/**
 * A row heading with its tooltip: the explanation is a real element, shown
 * on hover and on keyboard focus (the heading is focusable) and read out as
 * the heading's description, not a `title` only a mouse can reach.
 */
function rowHeading(path: string, heading: string, tip: string | undefined): HTMLElement {
  if (tip === undefined) return h("th", { scope: "row" }, heading);
  const id = `tip-${path.replace(/\W/g, "-")}`;
  const th = h(
    "th",
    { scope: "row", class: "has-tip", tabindex: "0", "aria-describedby": id },
    heading,
    h("span", { class: "tip", role: "tooltip", id }, tip),
  );
  // Escape hides a tooltip without moving focus (WCAG 1.4.13, dismissible).
  th.addEventListener("keydown", (event) => {
    if (event.key === "Escape") th.classList.add("tip-dismissed");
  });
  th.addEventListener("blur", () => th.classList.remove("tip-dismissed"));
  th.addEventListener("mouseleave", () => th.classList.remove("tip-dismissed"));
  return th;
}

function statisticCell(
  kind: Parameters<typeof formatStatistic>[0],
  value: number | string | null | undefined,
  reason: string | undefined,
): Child {
  if (value === null || value === undefined) {
    return reason === undefined ? MISSING : h(
      "span",
      { title: reason, class: "why-missing" },
      MISSING,
      h("span", { class: "visually-hidden" }, ` (${reason})`),
    );
  }
  if (typeof value === "string") {
    return h("time", { datetime: value }, formatStatistic(kind, value));
  }
  return h("data", { value: String(value) }, formatStatistic(kind, value));
}

/** Why a statistic is null, when the API says (`null_reasons`, by statistic). */
function nullReason(stats: Record<string, unknown>, path: string): string | undefined {
  const reasons = stats.null_reasons;
  if (typeof reasons !== "object" || reasons === null) return undefined;
  const reason = (reasons as Record<string, unknown>)[path.split(".")[0]];
  return typeof reason === "string" ? reason : undefined;
}

function correlationTable(summary: Summary): Child {
  const correlation = summary.correlation;
  if (Object.keys(summary.columns).length < 2 || correlation === undefined) return null;
  if (correlation === null) {
    const reason = summary.null_reasons?.correlation;
    return reason === undefined ? null : h(
      "p",
      { class: "hint", id: "correlation-missing" },
      `Correlation between columns not shown: ${reason}.`,
    );
  }
  const { columns, matrix } = correlation;
  return h(
    "div",
    {
      class: "table-scroll",
      tabindex: "0",
      role: "region",
      "aria-labelledby": "correlation-caption",
    },
    h(
      "table",
      { class: "statistics", id: "correlation" },
      h(
        "caption",
        { id: "correlation-caption" },
        "Correlation between columns ",
        h(
          "span",
          { class: "caption-hint" },
          "(Pearson, on the times both have a value: 1 rise and fall together, " +
            "-1 opposite, 0 unrelated)",
        ),
      ),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("td", {}),
          ...columns.map((column) => h("th", { scope: "col", "data-column": column }, column)),
        ),
      ),
      h(
        "tbody",
        {},
        ...columns.map((row, i) =>
          h(
            "tr",
            { "data-column": row },
            h("th", { scope: "row" }, row),
            ...columns.map((_column, j) =>
              h("td", {}, statisticCell("coefficient", matrix[i]?.[j] ?? null, undefined))
            ),
          )
        ),
      ),
    ),
  );
}

function gapsSection(summary: Summary): Child {
  if (summary.gaps.largest.length === 0) return null;
  return h(
    "details",
    { class: "gaps" },
    h("summary", {}, `Largest gaps (${summary.gaps.largest.length})`),
    h(
      "ol",
      {},
      ...summary.gaps.largest.map((gap) =>
        h(
          "li",
          {},
          `${formatInstant(gap.from)} to ${formatInstant(gap.to)} (${formatDuration(gap.seconds)})`,
        )
      ),
    ),
  );
}

function rejectedSection(report: Report): Child {
  const rows = report.rows;
  if (rows === null || rows.rejected === 0) return null;
  return h(
    "details",
    { class: "rejected", id: "rejected-rows", open: true },
    h("summary", {}, `${plural(rows.rejected, "rejected row")}`),
    rows.rejected_examples.length === 0 ? null : h(
      "ul",
      {},
      ...rows.rejected_examples.map((example) =>
        h("li", {}, h("span", { class: "line" }, `Line ${example.line}: `), example.reason)
      ),
    ),
  );
}

function sameView(a: ChartView, b: ChartView): boolean {
  return a.every === b.every && a.agg === b.agg && a.transform === b.transform &&
    (a.log ?? false) === (b.log ?? false);
}

function dataValue(value: number | null): Child {
  if (value === null) return MISSING;
  return h("data", { value: String(value) }, formatNumber(value));
}

function describeSource(report: Report): string {
  // Read loosely: provider imports add source kinds as they land.
  const source = report.source as Record<string, unknown>;
  const created = `created ${formatInstant(report.created_at)}`;
  if (source.kind === "upload") {
    return `${String(source.format).toUpperCase()} upload, ${created}`;
  }
  const parts = [source.symbol, source.start && `${source.start} to ${source.end}`, source.url]
    .filter((part) => typeof part === "string" && part !== "");
  return `Imported from ${String(source.provider)}${
    parts.length > 0 ? ` (${parts.join(", ")})` : ""
  }, ${created}`;
}

/** A report name made safe as a file name. */
export function fileName(name: string): string {
  return name.replace(/[^\w.-]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 100) || "report";
}

async function downloadWithKey(url: string, name: string, link: HTMLElement): Promise<void> {
  try {
    const response = await apiFetch(url, { headers: { accept: "text/csv" } });
    const blobUrl = URL.createObjectURL(await response.blob());
    const temporary = h("a", { href: blobUrl, download: name, hidden: true });
    document.body.appendChild(temporary);
    temporary.click();
    temporary.remove();
    // The click has started the download; the URL is no longer needed.
    setTimeout(() => URL.revokeObjectURL(blobUrl), 0);
  } catch (error) {
    link.after(h("p", { class: "error-box", role: "alert" }, describeError(error)));
  }
}

function describeError(error: unknown): string {
  const problem = (error as { problem?: Parameters<typeof describeProblem>[0] }).problem;
  return problem === undefined ? String(error) : describeProblem(problem);
}
