/// <reference lib="dom" />
/**
 * The list of reports, newest first, paged with the API's cursor.
 *
 * Each entry is a link to `#/reports/<id>`, so it is keyboard operable, can be
 * opened in a new tab, and the back button works. Badges are updated in place
 * when the watcher reports a change; the list itself is never re-fetched for
 * that.
 *
 * Two filters sit above it. The status filter asks the API (`?status=`), so
 * "failed" finds every failed report, not only those loaded. The name filter
 * narrows the loaded entries as one types (the API has no name search yet);
 * while more pages exist it says so, and "Load more" keeps filtering.
 *
 * @module
 */
import { apiJson } from "./api.ts";
import { h, replaceChildren } from "./dom.ts";
import { formatInstant, plural } from "./format.ts";
import { statusBadge } from "./report_view.ts";
import type { Report, ReportList as ReportPage, ReportStatus } from "./types.ts";

/** Reports fetched per page. */
export const PAGE_SIZE = 20;

/** What the list needs from the page. */
export interface ReportListDeps {
  /** Called with every report the list learns about (to watch pending ones). */
  onReports(reports: Report[]): void;
}

/** The reports list section. */
export class ReportList {
  readonly #list: HTMLOListElement;
  readonly #more: HTMLButtonElement;
  readonly #message: HTMLElement;
  readonly #empty: HTMLElement;
  readonly #deps: ReportListDeps;
  readonly #filter: HTMLInputElement;
  readonly #status: HTMLSelectElement;
  readonly #matches: HTMLElement;
  readonly #reports = new Map<string, Report>();
  #cursor: string | null = null;
  #selected: string | undefined;

  /** Wires the list to its elements. */
  constructor(
    elements: {
      list: HTMLOListElement;
      more: HTMLButtonElement;
      message: HTMLElement;
      empty: HTMLElement;
      /** The name filter's text box. */
      filter: HTMLInputElement;
      /** The status filter's select ("" for every status). */
      status: HTMLSelectElement;
      /** Says how many entries the filters leave. */
      matches: HTMLElement;
    },
    deps: ReportListDeps,
  ) {
    this.#list = elements.list;
    this.#more = elements.more;
    this.#message = elements.message;
    this.#empty = elements.empty;
    this.#filter = elements.filter;
    this.#status = elements.status;
    this.#matches = elements.matches;
    this.#deps = deps;
    this.#more.addEventListener("click", () => void this.loadMore());
    this.#filter.addEventListener("input", () => this.#applyFilter());
    this.#status.addEventListener("change", () => void this.reload());
  }

  /** The report with this id, if the list holds it. */
  get(id: string): Report | undefined {
    return this.#reports.get(id);
  }

  /** Loads the first page, replacing whatever was shown. */
  async reload(): Promise<void> {
    this.#reports.clear();
    this.#list.replaceChildren();
    this.#cursor = null;
    await this.#load(undefined);
  }

  /** Appends the next page. */
  async loadMore(): Promise<void> {
    if (this.#cursor === null) return;
    await this.#load(this.#cursor);
  }

  /** Adds a new report at the top, or updates the one shown. */
  upsert(report: Report): void {
    const known = this.#reports.has(report.id);
    this.#reports.set(report.id, report);
    const item = this.#item(report);
    const existing = this.#find(report.id);
    if (existing !== null) existing.replaceWith(item);
    else if (!known) this.#list.prepend(item);
    this.#updateEmpty();
    this.#applyFilter();
  }

  /** Removes a report (after it was deleted). */
  remove(id: string): void {
    this.#reports.delete(id);
    this.#find(id)?.remove();
    this.#updateEmpty();
  }

  /** Marks the entry of the report being viewed. */
  select(id: string | undefined): void {
    this.#selected = id;
    for (const link of this.#list.querySelectorAll("a[aria-current]")) {
      link.removeAttribute("aria-current");
    }
    if (id !== undefined) this.#find(id)?.querySelector("a")?.setAttribute("aria-current", "page");
  }

  async #load(cursor: string | undefined): Promise<void> {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (cursor !== undefined) query.set("cursor", cursor);
    if (this.#status.value !== "") query.set("status", this.#status.value);
    this.#more.disabled = true;
    this.#list.setAttribute("aria-busy", "true");
    try {
      const page = await apiJson<ReportPage>(`/v1/reports?${query}`);
      const fresh = page.items.filter((report) => !this.#reports.has(report.id));
      for (const report of fresh) {
        this.#reports.set(report.id, report);
        this.#list.appendChild(this.#item(report));
      }
      this.#cursor = page.next_cursor;
      this.#message.hidden = true;
      this.#deps.onReports(fresh);
    } catch (error) {
      replaceChildren(this.#message, (error as Error).message);
      this.#message.hidden = false;
    } finally {
      this.#list.removeAttribute("aria-busy");
      this.#more.disabled = false;
      this.#more.hidden = this.#cursor === null;
      this.#updateEmpty();
      this.#applyFilter();
    }
  }

  /**
   * Hides the entries the filters leave out: a name that does not contain
   * the filter text (ignoring case), or a status that changed away from
   * the one filtered for since the page was loaded.
   */
  #applyFilter(): void {
    const text = this.#filter.value.trim().toLocaleLowerCase();
    const status = this.#status.value as ReportStatus | "";
    let shown = 0;
    for (const item of this.#list.querySelectorAll<HTMLLIElement>("li[data-id]")) {
      const report = this.#reports.get(item.dataset.id ?? "");
      const match = report !== undefined &&
        report.name.toLocaleLowerCase().includes(text) &&
        (status === "" || report.status === status);
      item.hidden = !match;
      if (match) shown++;
    }
    const filtered = text !== "" || status !== "";
    this.#matches.hidden = !filtered;
    const more = this.#cursor === null ? "" : " Load more to search older reports.";
    this.#matches.textContent = shown === 0
      ? `No loaded report matches.${more}`
      : `${plural(shown, "report")} shown.${more}`;
  }

  #item(report: Report): HTMLLIElement {
    const points = report.summary === null ? null : plural(report.summary.points, "point");
    const link = h(
      "a",
      { href: `#/reports/${encodeURIComponent(report.id)}`, class: "report-link" },
      h("span", { class: "report-name" }, report.name),
      statusBadge(report.status),
      h(
        "span",
        { class: "report-meta" },
        formatInstant(report.created_at),
        points === null ? "" : `, ${points}`,
      ),
    );
    if (report.id === this.#selected) link.setAttribute("aria-current", "page");
    return h("li", { "data-id": report.id }, link);
  }

  #find(id: string): HTMLLIElement | null {
    return this.#list.querySelector<HTMLLIElement>(`li[data-id="${CSS.escape(id)}"]`);
  }

  #updateEmpty(): void {
    // With a status filter, no entries means none match, which #matches says.
    this.#empty.hidden =
      !(this.#reports.size === 0 && this.#message.hidden && this.#status.value === "");
  }
}
