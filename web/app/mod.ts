/// <reference lib="dom" />
/**
 * The page's entry module: wires the forms, the list, the report view and the
 * watcher together, and routes on the URL fragment (`#/reports/<id>` with the
 * chart's settings, `#/compare?ids=...`; view_state.ts), so a report and a
 * view of it have a link, reloading keeps them open and the back button works.
 *
 * `deno task web:build` bundles this module and its imports into
 * web/bundle/app.js, which reportd serves (docs/decisions/0013).
 *
 * @module
 */
import { ApiError, apiFetch, apiJson, describeProblem, UNAUTHORIZED_EVENT } from "./api.ts";
import { CompareView } from "./compare_view.ts";
import { announce, byId, h } from "./dom.ts";
import { setUpImportForm } from "./import_form.ts";
import { ReportList } from "./report_list.ts";
import { ReportView } from "./report_view.ts";
import { askForKey, setUpSettings } from "./settings.ts";
import { isPending, type Report } from "./types.ts";
import { setUpUploadForm } from "./upload_form.ts";
import { parseRoute, reportHash } from "./view_state.ts";
import { ReportWatcher } from "./watcher.ts";

function start(): void {
  const panel = byId("report", HTMLElement);
  const view = new ReportView(panel, {
    requestDelete: confirmDelete,
    onViewChange(report, chartView) {
      // Replaced, not pushed: Back leaves the report, not each setting tried.
      history.replaceState(null, "", reportHash(report.id, chartView));
    },
  });
  const compare = new CompareView(panel);
  const watcher = new ReportWatcher({
    fetchReport: (id, signal) => apiJson<Report>(reportPath(id), { signal }),
    onChange(report) {
      list.upsert(report);
      if (view.currentId === report.id) view.show(report);
      announce(`Report ${report.name} is ${report.status}`);
    },
    onGone(id) {
      list.remove(id);
      if (view.currentId === id) view.showMessage("Report not found", "It has been deleted.");
    },
  });
  const list = new ReportList({
    list: byId("report-list", HTMLOListElement),
    more: byId("load-more", HTMLButtonElement),
    message: byId("list-error", HTMLElement),
    empty: byId("list-empty", HTMLElement),
    filter: byId("list-filter", HTMLInputElement),
    status: byId("list-status", HTMLSelectElement),
    matches: byId("list-matches", HTMLElement),
  }, {
    onReports: (reports) => reports.forEach((report) => watcher.watch(report)),
  });

  function accepted(report: Report): void {
    list.upsert(report);
    watcher.watch(report);
    announce(`Report ${report.name} is ${report.status}`);
    location.hash = reportHash(report.id, {});
  }

  async function route(): Promise<void> {
    const target = parseRoute(location.hash);
    if (target.kind !== "compare") compare.destroy();
    if (target.kind === "compare") {
      list.select(undefined);
      view.release();
      await compare.show(target.ids, target.every);
      return;
    }
    if (target.kind === "none") {
      list.select(undefined);
      view.showMessage(
        "No report open",
        "Choose a report from the list, or upload a file to make one.",
      );
      return;
    }
    const { id, view: chartView } = target;
    list.select(id);
    const known = list.get(id);
    // Show what the list holds at once; a settled report never changes, so
    // only a pending one needs asking about again.
    if (known !== undefined) {
      view.show(known, { focus: true, view: chartView });
      if (!isPending(known.status)) return;
    }
    try {
      const report = await apiJson<Report>(reportPath(id));
      view.show(report, { focus: known === undefined, view: chartView });
      if (known !== undefined) list.upsert(report);
      watcher.watch(report);
    } catch (error) {
      if (error instanceof ApiError && error.problem.status === 404) {
        view.showMessage(
          "Report not found",
          "There is no report with this id; it may have been deleted.",
        );
      } else {
        view.showMessage("Could not load the report", (error as Error).message);
      }
    }
  }

  function confirmDelete(report: Report): void {
    void deleteAfterConfirmation(report);
  }

  async function deleteAfterConfirmation(report: Report): Promise<void> {
    const dialog = byId("confirm-delete", HTMLDialogElement);
    byId("confirm-text", HTMLElement).textContent =
      `"${report.name}" and its series will be deleted. This cannot be undone.`;
    dialog.returnValue = "";
    const closed = new Promise<string>((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true });
    });
    dialog.showModal();
    if (await closed !== "delete") {
      document.getElementById("delete-report")?.focus();
      return;
    }
    try {
      await apiFetch(reportPath(report.id), { method: "DELETE" });
    } catch (error) {
      // Already gone is what was asked for; anything else is shown.
      if (!(error instanceof ApiError && error.problem.status === 404)) {
        const message = error instanceof ApiError ? describeProblem(error.problem) : String(error);
        document.getElementById("delete-report")?.after(
          h("p", { class: "error-box", role: "alert" }, message),
        );
        return;
      }
    }
    watcher.unwatch(report.id);
    list.remove(report.id);
    announce(`Report ${report.name} deleted`);
    location.hash = "#/";
  }

  setUpUploadForm({ onUploaded: accepted });
  void setUpImportForm({ onImported: accepted });
  setUpSettings(() => void list.reload().then(route));
  globalThis.addEventListener(UNAUTHORIZED_EVENT, askForKey);
  globalThis.addEventListener("hashchange", () => void route());
  // A hidden tab does not need fresh badges; catch up when it is shown again.
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) watcher.stop();
    else watcher.resume();
  });
  void list.reload().then(route);
}

function reportPath(id: string): string {
  return `/v1/reports/${encodeURIComponent(id)}`;
}

start();
