/// <reference lib="dom" />
/**
 * The comparison view (`#/compare?ids=a,b&every=1d`): several ready reports
 * on one chart, each column rebased to 100 at the first time all of them
 * have a value, so a rise of 20% reads 120 whatever the price was.
 *
 * It asks `GET /v1/compare?ids=&every=&normalize=first&points=<width>`,
 * which aligns the reports on common buckets and names the columns
 * `<report name>.<column>`. Reports with a `close` column show only it at
 * first (open, high and low rebased draw nearly the same line, and a rebased
 * volume is noise); every other line is one legend press away.
 *
 * @module
 */
import type uPlot from "uplot";
import { apiJson } from "./api.ts";
import { h, replaceChildren } from "./dom.ts";
import { formatNumber, formatPercent, MISSING, plural } from "./format.ts";
import {
  legendValue,
  PALETTE,
  timeAxis,
  timeSeries,
  uPlotClass,
  utcDates,
  valueAxis,
} from "./plot.ts";
import type { Report, ReportList as ReportPage } from "./types.ts";
import { COMPARE_MAX, compareHash, EVERY, type Every } from "./view_state.ts";

/** The interval a comparison starts with: daily suits prices, the common case. */
export const COMPARE_DEFAULT_EVERY: Every = "1d";

/** The compare endpoint's JSON body. */
interface CompareSeries {
  timestamps: number[];
  columns: Record<string, (number | null)[]>;
}

/** Ready reports offered to choose from: the newest, as many as one list page holds. */
const CHOICES = 100;

/** The comparison panel; {@linkcode CompareView.destroy} when leaving it. */
export class CompareView {
  readonly #panel: HTMLElement;
  #plot: uPlot | undefined;
  #aborter: AbortController | undefined;
  #elements: CompareElements | undefined;

  /** A view that renders into `panel` (the report panel). */
  constructor(panel: HTMLElement) {
    this.#panel = panel;
  }

  /**
   * Shows the comparison of `ids` resampled to `every`, with the newest
   * ready reports to choose from (asked for here, not taken from the list,
   * which may hold only its first page, or a filtered one).
   */
  async show(ids: string[], every: Every = COMPARE_DEFAULT_EVERY): Promise<void> {
    this.destroy();
    const aborter = new AbortController();
    this.#aborter = aborter;
    let reports: Report[] = [];
    let listError: string | undefined;
    try {
      const query = new URLSearchParams({ status: "ready", limit: String(CHOICES) });
      reports = (await apiJson<ReportPage>(`/v1/reports?${query}`, { signal: aborter.signal }))
        .items;
    } catch (failure) {
      if (aborter.signal.aborted) return;
      listError = (failure as Error).message;
    }
    if (aborter.signal.aborted) return;
    this.#panel.dataset.open = "true";
    this.#panel.dataset.view = "compare";
    document.title = "Compare reports - reportd";
    delete this.#panel.dataset.reportId;
    delete this.#panel.dataset.status;
    const canvas = h("div", { class: "chart-canvas", id: "compare-canvas" });
    // The numbers behind the lines, for reading and for screen readers.
    const results = h("div", { id: "compare-results" });
    const status = h("p", { class: "chart-status", id: "compare-status", role: "status" });
    const error = h("div", {
      class: "error-box",
      id: "compare-error",
      role: "alert",
      hidden: true,
    });
    replaceChildren(
      this.#panel,
      h("p", { class: "back" }, h("a", { href: "#/" }, "Back to the reports")),
      h("h2", { id: "report-title", tabindex: "-1" }, "Compare reports"),
      h(
        "p",
        { class: "report-source" },
        "Each line is rebased to 100 at the first time every chosen report has a value: " +
          "120 means 20% above that start.",
      ),
      this.#picker(ids, every, reports),
      error,
      h(
        "figure",
        { class: "chart", "aria-labelledby": "compare-caption" },
        canvas,
        h(
          "figcaption",
          { id: "compare-caption" },
          "Rebased to 100, UTC. Select a legend entry to hide or show its line.",
        ),
        status,
      ),
      results,
    );
    this.#elements = { canvas, status, error, results };
    this.#draw(ids, every);
    if (listError !== undefined) {
      error.textContent = `Could not list the reports: ${listError}`;
      error.hidden = false;
    }
  }

  /** Stops the request and removes the plot. */
  destroy(): void {
    this.#clear();
    this.#elements = undefined;
    delete this.#panel.dataset.view;
  }

  #clear(): void {
    this.#aborter?.abort();
    this.#plot?.destroy();
    this.#plot = undefined;
  }

  #draw(ids: string[], every: Every): void {
    const elements = this.#elements;
    if (elements === undefined) return;
    this.#clear();
    elements.error.hidden = true;
    elements.results.replaceChildren();
    delete elements.canvas.dataset.columns;
    delete elements.canvas.dataset.shown;
    if (ids.length < 2) {
      elements.status.textContent = "Choose at least two reports to compare.";
      return;
    }
    elements.status.textContent = "Loading.";
    void this.#load(ids, every, elements);
  }

  #picker(ids: string[], every: Every, reports: Report[]): HTMLElement {
    // Reports in the link that the list has not loaded stay chosen.
    const known = new Set(reports.map((report) => report.id));
    const boxes = [
      ...ids.filter((id) => !known.has(id)).map((id) => ({ id, name: id })),
      ...reports.map((report) => ({ id: report.id, name: report.name })),
    ].map(({ id, name }) =>
      h(
        "li",
        {},
        h("input", {
          type: "checkbox",
          id: `compare-${id}`,
          name: "ids",
          value: id,
          checked: ids.includes(id),
        }),
        h("label", { for: `compare-${id}` }, name),
      )
    );
    const interval = h(
      "select",
      { id: "compare-every", name: "every" },
      ...EVERY.map((value) => h("option", { value, selected: value === every }, value)),
    );
    const hint = h(
      "p",
      { class: "hint", id: "compare-hint" },
      `Choose 2 to ${COMPARE_MAX} ready reports.`,
    );
    // Up to 100 names: a filter finds one without scrolling through them.
    const find = h("input", {
      id: "compare-find",
      type: "search",
      autocomplete: "off",
      spellcheck: "false",
    });
    find.addEventListener("input", () => {
      const text = find.value.trim().toLocaleLowerCase();
      for (const item of boxes) {
        const name = item.querySelector("label")?.textContent ?? "";
        // A chosen report stays in view, so it can be unticked.
        const chosen = item.querySelector<HTMLInputElement>("input")?.checked ?? false;
        item.hidden = !chosen && !name.toLocaleLowerCase().includes(text);
      }
    });
    const form = h(
      "form",
      { id: "compare-form", class: "compare-form", "aria-describedby": "compare-hint" },
      h(
        "fieldset",
        {},
        h("legend", {}, "Reports"),
        boxes.length === 0 ? null : h(
          "div",
          { class: "compare-find" },
          h("label", { for: "compare-find" }, "Name contains"),
          find,
        ),
        boxes.length === 0
          ? h("p", { class: "placeholder" }, "No ready reports yet.")
          : h("ul", { class: "compare-choices" }, ...boxes),
      ),
      hint,
      h("label", { for: "compare-every" }, "Align on"),
      interval,
    );
    form.addEventListener("submit", (event) => event.preventDefault());
    form.addEventListener("change", (event) => {
      if (event.target === find) return;
      const chosen = [...form.querySelectorAll<HTMLInputElement>("input[name=ids]:checked")]
        .map((box) => box.value);
      if (chosen.length > COMPARE_MAX) {
        hint.textContent = `At most ${COMPARE_MAX} reports: uncheck one to add another.`;
        hint.classList.add("field-error");
        return;
      }
      hint.classList.remove("field-error");
      // The link carries the choice (replaced, so Back leaves the comparison);
      // only the chart is redrawn, so focus stays on the box just pressed.
      const chosenEvery = interval.value as Every;
      history.replaceState(null, "", compareHash(chosen, chosenEvery));
      this.#draw(chosen, chosenEvery);
    });
    return form;
  }

  async #load(
    ids: string[],
    every: Every,
    elements: CompareElements,
  ): Promise<void> {
    const { canvas, status, error, results } = elements;
    const aborter = new AbortController();
    this.#aborter = aborter;
    const width = Math.max(200, Math.floor(canvas.clientWidth));
    const query = new URLSearchParams({
      ids: ids.join(","),
      every,
      normalize: "first",
      format: "json",
      points: String(width),
    });
    canvas.setAttribute("aria-busy", "true");
    let body: CompareSeries;
    try {
      body = await apiJson<CompareSeries>(`/v1/compare?${query}`, { signal: aborter.signal });
    } catch (failure) {
      if (aborter.signal.aborted) return;
      error.textContent = (failure as Error).message;
      error.hidden = false;
      status.textContent = "";
      return;
    } finally {
      canvas.removeAttribute("aria-busy");
    }
    if (aborter.signal.aborted) return;
    const names = Object.keys(body.columns);
    const shown = initiallyShown(names);
    // The lines shown at first take the first (most distinct) colours.
    const order = [
      ...names.filter((name) => shown.has(name)),
      ...names.filter((name) => !shown.has(name)),
    ];
    const UPlot = uPlotClass();
    this.#plot = new UPlot(
      {
        width,
        height: Math.round(Math.min(420, Math.max(220, width * 0.45))),
        series: [
          timeSeries(),
          ...names.map((name): uPlot.Series => ({
            label: name,
            stroke: PALETTE[order.indexOf(name) % PALETTE.length],
            width: 1.5,
            show: shown.has(name),
            points: { show: false },
            value: legendValue(),
          })),
        ],
        axes: [timeAxis(), valueAxis()],
        scales: { x: { time: true } },
        tzDate: utcDates(UPlot),
        legend: { live: true },
      },
      [body.timestamps, ...names.map((name) => body.columns[name])] as uPlot.AlignedData,
      canvas,
    );
    canvas.dataset.columns = names.join("|");
    canvas.dataset.shown = names.filter((name) => shown.has(name)).join("|");
    canvas.dataset.points = String(body.timestamps.length);
    status.textContent = `${plural(ids.length, "report")} on ${
      plural(body.timestamps.length, "common time")
    } (${every}).`;
    results.replaceChildren(resultsTable(body, names));
  }
}

/** The parts of the view a comparison draws into. */
interface CompareElements {
  canvas: HTMLElement;
  status: HTMLElement;
  error: HTMLElement;
  results: HTMLElement;
}

/**
 * Each line's last rebased value and what it means as a change since the
 * common start (115 is +15.00%), in the lines' order.
 */
function resultsTable(body: CompareSeries, names: string[]): HTMLElement {
  const last = (values: (number | null)[]): number | null => {
    for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null) return values[i];
    return null;
  };
  return h(
    "div",
    {
      class: "table-scroll",
      tabindex: "0",
      role: "region",
      "aria-labelledby": "compare-results-caption",
    },
    h(
      "table",
      { class: "statistics", id: "compare-table" },
      h("caption", { id: "compare-results-caption" }, "At the last common time"),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "Line"),
          h("th", { scope: "col" }, "Rebased value"),
          h("th", { scope: "col" }, "Change since the start"),
        ),
      ),
      h(
        "tbody",
        {},
        ...names.map((name) => {
          const value = last(body.columns[name]);
          return h(
            "tr",
            { "data-column": name },
            h("th", { scope: "row" }, name),
            h("td", {}, value === null ? MISSING : h("data", { value }, formatNumber(value))),
            h("td", {}, formatPercent(value === null ? null : value / 100 - 1)),
          );
        }),
      ),
    ),
  );
}

/**
 * The lines shown at first: a report's `close` when it has one, else all
 * of its columns (names are `<report>.<column>`).
 */
function initiallyShown(names: string[]): Set<string> {
  const byReport = new Map<string, string[]>();
  for (const name of names) {
    const report = name.slice(0, name.lastIndexOf("."));
    byReport.set(report, [...byReport.get(report) ?? [], name]);
  }
  const shown = new Set<string>();
  for (const columns of byReport.values()) {
    const close = columns.find((name) => /\.(adj[ _]?)?close$/i.test(name));
    for (const name of close === undefined ? columns : [close]) shown.add(name);
  }
  return shown;
}
