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
import { type Child, h, replaceChildren } from "./dom.ts";
import { formatDuration, formatInstant, formatNumber, MISSING, plural } from "./format.ts";
import { isPending, type Report, type ReportStatus, type Summary } from "./types.ts";

/** The rows of the statistics table: field and heading. */
export const STATISTICS: [field: keyof Summary["columns"][string], heading: string][] = [
  ["count", "Count"],
  ["missing", "Missing"],
  ["min", "Minimum"],
  ["max", "Maximum"],
  ["mean", "Mean"],
  ["stddev", "Standard deviation"],
  ["p50", "Median (p50)"],
  ["p90", "90th percentile"],
  ["p99", "99th percentile"],
  ["first", "First"],
  ["last", "Last"],
  ["change", "Change"],
  ["change_pct", "Change (%)"],
];

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
}

/** The report panel. */
export class ReportView {
  readonly #panel: HTMLElement;
  readonly #deps: ReportViewDeps;
  #report: Report | undefined;
  #chart: ReportChart | undefined;

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
  show(report: Report, options: { focus?: boolean } = {}): void {
    const same = this.#report?.id === report.id && this.#report.status === report.status;
    this.#report = report;
    if (same) return;
    this.#chart?.destroy();
    this.#chart = undefined;
    this.#panel.dataset.open = "true";
    replaceChildren(this.#panel, ...this.#render(report));
    // Which report the panel shows (and in which state), for scripts and tests.
    this.#panel.dataset.reportId = report.id;
    this.#panel.dataset.status = report.status;
    if (report.status === "ready" && report.summary !== null) {
      const container = this.#panel.querySelector<HTMLElement>("#chart");
      if (container !== null) {
        this.#chart = new ReportChart(container, { ...report, summary: report.summary });
        void this.#chart.load();
      }
    }
    if (options.focus) this.#panel.querySelector<HTMLElement>("#report-title")?.focus();
  }

  /** Shows a message instead of a report (nothing chosen, or not found). */
  showMessage(title: string, text: string): void {
    this.#chart?.destroy();
    this.#chart = undefined;
    this.#report = undefined;
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
      ...body(report),
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
    }
    const remove = h("button", { type: "button", class: "danger", id: "delete-report" }, "Delete");
    remove.addEventListener("click", () => this.#deps.requestDelete(report));
    actions.appendChild(remove);
    return actions;
  }
}

function body(report: Report): Child[] {
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
    h("section", { id: "chart", class: "chart-section", "aria-label": "Chart" }),
    statisticsTable(summary),
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
      ...STATISTICS.map(([field, heading]) =>
        h(
          "tr",
          { "data-statistic": field },
          h("th", { scope: "row" }, heading),
          ...columns.map((column) => h("td", {}, dataValue(summary.columns[column][field]))),
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
