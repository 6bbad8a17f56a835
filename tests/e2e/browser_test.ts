/**
 * The page in a real headless Chromium against reportd running as a real
 * subprocess (production permission set), with a mock market-data upstream on
 * loopback for imports. Every flow a person has: upload (picker and drop),
 * watch the badge settle, read the chart and the statistics, zoom, import,
 * see errors, download, delete; at 1280x800 and at 390x844.
 *
 * Screenshots go to a temporary directory and are checked not to be blank.
 * `REPORTD_SCREENSHOT=<path>` also writes the desktop view of a ready report
 * there: `deno task screenshot` makes the README's docs/screenshot.png so.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { MISSING } from "../../web/app/format.ts";
import { formatStatistic, STATISTIC_ROWS, statisticValue } from "../../web/app/statistics.ts";
import {
  assertNotBlank,
  browserSkipReason,
  launchBrowser,
  unexpectedErrors,
} from "../helpers/browser.ts";
import { csvAnswer, startMockUpstream } from "../helpers/mock_upstream.ts";
import { pollReport, type ReportBody } from "../helpers/poll.ts";
import { REPO_ROOT, startServer } from "../helpers/server_process.ts";

const FIXTURE_PATH = `${REPO_ROOT}tests/fixtures/prices.csv`;
const STOOQ_FIXTURE = await Deno.readTextFile(`${REPO_ROOT}tests/fixtures/stooq_avgo_us_d.csv`);
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const LOCALE = "en-US"; // the browser context's locale (tests/helpers/browser.ts)
const CHART = `document.getElementById("chart-canvas")`; // for in-page expressions

/** One row of the statistics table as the page shows it. */
interface StatisticRow {
  field: string;
  cells: { text: string; value: string | null }[];
}

const skip = browserSkipReason();
if (skip !== undefined) console.warn(`Browser tests skipped: ${skip}`);

Deno.test({
  name: "e2e browser: upload, watch, chart, zoom, import, errors, download and delete",
  ignore: skip !== undefined,
  async fn(t) {
    await using upstream = startMockUpstream();
    await using server = await startServer({
      env: {
        REPORTD_STOOQ_URL: `${upstream.origin}/q/d/l/`,
        REPORTD_FETCH_ALLOW_PRIVATE: "true",
        // One test client does everything from one address; rate limits
        // (when configured) are tested elsewhere, not here.
        REPORTD_RATE_READ_PER_S: "0",
        REPORTD_RATE_WRITE_PER_S: "0",
      },
    });
    await using browser = await launchBrowser(DESKTOP);
    const { page } = browser;
    const shots = await Deno.makeTempDir({ prefix: "reportd-shots-" });
    const api = (path: string, init?: RequestInit) => fetch(`${server.baseUrl}${path}`, init);

    // Code that runs in the page is written as strings: the test program is
    // type-checked without the DOM library (it would clash with Deno's types).
    // Waits use locators (attribute and text selectors), not page functions:
    // Playwright evaluates a string predicate with eval, which the page's CSP
    // rightly refuses.
    const inPage = <T = unknown>(expression: string) => page.evaluate(expression) as Promise<T>;
    const chartWidth = () => inPage<number>(`Math.max(200, Math.floor(${CHART}.clientWidth))`);

    /** Opens a report by its link and waits until the panel shows it (and its chart, if ready). */
    async function openReport(id: string): Promise<void> {
      await page.goto(`${server.baseUrl}/#/reports/${id}`);
      await page.locator(`#report[data-report-id="${id}"]`).waitFor();
      if (await page.getAttribute("#report", "data-status") === "ready") {
        await page.locator("#chart-canvas[data-points] canvas").first().waitFor();
      }
    }

    async function screenshot(label: string): Promise<Uint8Array> {
      const path = `${shots}/${label}.png`;
      await page.screenshot({ path, fullPage: true });
      const png = await Deno.readFile(path);
      assertNotBlank(png, label);
      return png;
    }

    try {
      let pricesId = "";

      await t.step("the page loads with every control labelled and imports offered", async () => {
        await page.goto(server.baseUrl);
        await page.locator("#list-empty").waitFor();
        assert.equal(await page.title(), "reportd");
        // The server has the stooq provider (pointed at the mock), so the form shows.
        await page.locator("#import-section").waitFor();
        const unlabelled = await inPage<string[]>(`
          [...document.querySelectorAll("input, select, textarea, button")]
            .filter((control) => {
              const text = control.labels?.length
                ? control.labels[0].textContent
                : control.getAttribute("aria-label") ?? control.textContent;
              return (text ?? "").trim() === "";
            })
            .map((control) => control.id || control.outerHTML)
        `);
        assert.deepEqual(unlabelled, []);
        // Uploading without a file is refused on the page, next to the file field.
        await page.click("#upload-submit");
        await page.locator("#upload-file-error:not([hidden])").waitFor();
        assert.equal(await page.textContent("#upload-file-error"), "Choose a CSV or JSON file");
        assert.match(await page.textContent("#upload-error") ?? "", /No file chosen/);
      });

      await t.step("uploading the fixture CSV: the badge goes queued -> ready", async () => {
        // Record every status the new report's list entry shows.
        await inPage(`{
          const seen = globalThis.badgeHistory = [];
          const list = document.getElementById("report-list");
          new MutationObserver(() => {
            const status = list.querySelector("li:first-child .badge")?.getAttribute("data-status");
            if (status && seen.at(-1) !== status) seen.push(status);
          }).observe(list, { childList: true, subtree: true, attributes: true });
        }`);
        await page.setInputFiles("#upload-file", FIXTURE_PATH);
        assert.equal(await page.inputValue("#upload-name"), "");
        assert.equal(await page.getAttribute("#upload-name", "placeholder"), "prices");
        await page.click("#upload-submit");
        await page.locator("#report-list li:first-child .badge[data-status=ready]").waitFor();
        pricesId = (await page.getAttribute("#report-list li:first-child", "data-id"))!;
        const history = await inPage<string[]>("globalThis.badgeHistory");
        assert.equal(history[0], "queued");
        assert.equal(history.at(-1), "ready");
        assert.equal(await page.textContent("#report-list li:first-child .report-name"), "prices");
        // The change was announced for screen readers.
        await page.locator(`#announcer:text-is("Report prices is ready")`).waitFor({
          state: "attached",
        });
        assert.equal(new URL(page.url()).hash, `#/reports/${pricesId}`);
      });

      const report: ReportBody = await (await api(`/v1/reports/${pricesId}`)).json();
      const columns = Object.keys(report.summary.columns);

      await t.step("the chart draws every column from points=<chart width>", async () => {
        await page.locator("#chart-canvas[data-points] canvas").first().waitFor();
        const legend = await page.locator("#chart-canvas .u-legend .u-series").count();
        assert.equal(legend, columns.length + 1, "one legend entry per column, plus time");
        const labels = await page.locator("#chart-canvas .u-legend .u-series .u-label")
          .allTextContents();
        assert.deepEqual(labels.slice(1), columns);
        const width = await chartWidth();
        // The price chart's own request (the drawdown chart under it, issue
        // 14, asks for transform=drawdown separately).
        const series = browser.requests.filter((request) =>
          request.url.pathname === `/v1/reports/${pricesId}/series` &&
          !request.url.searchParams.has("transform")
        );
        assert.equal(series.length, 1);
        assert.equal(series[0].url.searchParams.get("format"), "uplot");
        assert.equal(series[0].url.searchParams.get("points"), String(width));
        // The plot's canvas has been drawn on: many distinct colours.
        const colours = await inPage<number>(`{
          const canvas = document.querySelector("#chart-canvas canvas");
          const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
          const seen = new Set();
          for (let i = 0; i < data.length; i += 4) {
            if (data[i + 3] > 0) seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
          }
          seen.size;
        }`);
        assert.ok(colours > 20, `The chart canvas looks empty (${colours} colours)`);
        assert.equal(
          await page.textContent("#chart-status"),
          "Showing 79 of 79 points (full resolution).",
        );
      });

      await t.step("the statistics table shows exactly what the API returned", async () => {
        const headings = await page.locator("#statistics thead th[data-column]").allTextContents();
        assert.deepEqual(headings, columns);
        const rows = await inPage<StatisticRow[]>(`
          [...document.querySelectorAll("#statistics tbody tr")].map((tr) => ({
            field: tr.getAttribute("data-statistic"),
            cells: [...tr.querySelectorAll("td")].map((td) => ({
              text: td.textContent,
              value: td.querySelector("data")?.getAttribute("value") ?? null,
            })),
          }))
        `);
        // Every statistic the API sent has its row (issue 14 added nested
        // ones, like trend.r2), each written the way its quantity is read.
        const stats = (column: string) =>
          report.summary.columns[column] as unknown as Record<string, unknown>;
        assert.deepEqual(
          rows.map((row) => row.field),
          STATISTIC_ROWS.map((row) => row.path).filter((path) =>
            statisticValue(stats(columns[0]), path) !== undefined
          ),
        );
        for (const row of rows) {
          const kind = STATISTIC_ROWS.find((candidate) => candidate.path === row.field)!.kind;
          row.cells.forEach((cell, index) => {
            const expected = statisticValue(stats(columns[index]), row.field) ?? null;
            const where = `${columns[index]}.${row.field}`;
            assert.equal(cell.text, formatStatistic(kind, expected, { locale: LOCALE }), where);
            if (typeof expected !== "string") {
              assert.equal(cell.value, expected === null ? null : String(expected), where);
            }
            if (expected === null) assert.ok(cell.text?.startsWith(MISSING), where);
          });
        }
        const rejected = await page.textContent("#rejected-rows li");
        const example = report.rows.rejected_examples[0];
        assert.equal(rejected, `Line ${example.line}: ${example.reason}`);
        assert.match(await page.textContent("#report-summary") ?? "", /Points\s*79/);
        const png = await screenshot("desktop-ready");
        const readme = Deno.env.get("REPORTD_SCREENSHOT");
        if (readme !== undefined) {
          await page.screenshot({ path: readme });
          assertNotBlank(await Deno.readFile(readme), "README screenshot");
        }
        assert.ok(png.byteLength > 0);
      });

      await t.step(
        "drag to zoom asks for the visible range unsampled; double-click resets",
        async () => {
          const before = browser.requests.length;
          const box = (await page.locator("#chart-canvas .u-over").boundingBox())!;
          const y = box.y + box.height / 2;
          await page.mouse.move(box.x + box.width * 0.3, y);
          await page.mouse.down();
          await page.mouse.move(box.x + box.width * 0.5, y, { steps: 5 });
          await page.mouse.up();
          await page.locator("#chart-canvas[data-resolution=full]:not([data-range=all])").waitFor();
          assert.ok(Number(await page.getAttribute("#chart-canvas", "data-points")) < 79);
          const zoomed = browser.requests.slice(before).find((request) =>
            request.url.pathname.endsWith("/series")
          );
          assert.ok(zoomed, "zooming fetched the visible range");
          assert.ok(zoomed.url.searchParams.has("from") && zoomed.url.searchParams.has("to"));
          assert.equal(zoomed.url.searchParams.get("points"), null);
          await page.dblclick("#chart-canvas .u-over");
          await page.locator(`#chart-canvas[data-points="79"][data-range=all]`).waitFor();
        },
      );

      await t.step("legend entries toggle their series from the keyboard", async () => {
        const close = page.locator("#chart-canvas .u-legend .u-series th", { hasText: "close" });
        assert.equal(await close.getAttribute("aria-pressed"), "true");
        await close.focus();
        await page.keyboard.press("Space");
        assert.equal(await close.getAttribute("aria-pressed"), "false");
        const row = page.locator("#chart-canvas .u-legend .u-series", { hasText: "close" });
        assert.match((await row.getAttribute("class")) ?? "", /u-off/);
        await page.keyboard.press("Enter");
        assert.equal(await close.getAttribute("aria-pressed"), "true");
        // Keyboard focus is visible.
        const outline = await inPage<string>(
          "getComputedStyle(document.activeElement).outlineStyle",
        );
        assert.equal(outline, "solid");
      });

      await t.step("a big series is downsampled; zoom buttons reach full resolution", async () => {
        const rows = 50_000;
        const start = Date.UTC(2024, 0, 1) / 1000;
        const lines = ["t,value"];
        for (let i = 0; i < rows; i++) lines.push(`${start + i * 60},${Math.sin(i / 500) * 100}`);
        const created = await api("/v1/reports?name=minutes", {
          method: "POST",
          headers: { "content-type": "text/csv" },
          body: lines.join("\n"),
        });
        assert.equal(created.status, 202);
        const { id } = await created.json();
        await pollReport(server.baseUrl, id);
        await openReport(id);
        const points = async () => Number(await page.getAttribute("#chart-canvas", "data-points"));
        const width = await chartWidth();
        assert.equal(await points(), width, "LTTB keeps exactly <width> points of one column");
        assert.equal(await page.getAttribute("#chart-canvas", "data-resolution"), "downsampled");
        // One zoom step (half the range, about 25,000 points): the range, downsampled.
        await page.getByRole("button", { name: "Zoom in" }).focus();
        await page.keyboard.press("Enter");
        await page.locator("#chart-canvas[data-resolution=downsampled]:not([data-range=all])")
          .waitFor();
        assert.equal(await points(), width);
        // Three more (about 3,100 points): at full resolution.
        for (let i = 0; i < 3; i++) await page.keyboard.press("Enter");
        await page.locator("#chart-canvas[data-resolution=full]").waitFor();
        const shown = await points();
        assert.ok(shown > 2_500 && shown < 5_000, `${shown} points at full resolution`);
        const last = browser.requests.filter((request) => request.url.pathname.endsWith("/series"))
          .at(-1)!;
        assert.equal(last.url.searchParams.get("points"), null);
        await page.getByRole("button", { name: "Reset zoom" }).click();
        await page.locator(`#chart-canvas[data-points="${width}"][data-range=all]`).waitFor();
      });

      await t.step("a broken upload shows the problem's title and detail", async () => {
        await page.goto(server.baseUrl);
        await page.locator("#report-list li").first().waitFor();
        const broken = "price,value\n1,2\n";
        const expected = await (await api("/v1/reports", {
          method: "POST",
          headers: { "content-type": "text/csv" },
          body: broken,
        })).json();
        assert.equal(expected.status, 422);
        await page.setInputFiles("#upload-file", {
          name: "broken.csv",
          mimeType: "text/csv",
          buffer: Buffer.from(broken),
        });
        await page.click("#upload-submit");
        await page.locator("#upload-error:not([hidden])").waitFor();
        const text = await page.textContent("#upload-error");
        assert.ok(text?.includes(expected.title), text ?? "");
        assert.ok(text?.includes(expected.detail), text ?? "");
        await screenshot("desktop-upload-error");
      });

      await t.step("a field error appears next to its field", async () => {
        // The input's maxlength stops people typing more; the API's rule is the one shown.
        await inPage(`document.getElementById("upload-name").removeAttribute("maxlength")`);
        await page.fill("#upload-name", "x".repeat(201));
        await page.setInputFiles("#upload-file", FIXTURE_PATH);
        await page.click("#upload-submit");
        await page.locator("#upload-name-error:not([hidden])").waitFor();
        assert.equal(await page.getAttribute("#upload-name", "aria-invalid"), "true");
        assert.match(await page.textContent("#upload-name-error") ?? "", /200/);
        // The focus moved to the field that needs fixing.
        assert.equal(await inPage("document.activeElement.id"), "upload-name");
        await page.fill("#upload-name", "");
        await inPage(`document.getElementById("upload-name").setAttribute("maxlength", "200")`);
      });

      await t.step(
        "a dropped file that fails in processing shows a failed badge and why",
        async () => {
          // A good header, but not one row with a readable time: only the worker finds that.
          await inPage(`{
            const transfer = new DataTransfer();
            const csv = "timestamp,value\\nyesterday,1\\ntomorrow,2\\n";
            transfer.items.add(new File([csv], "undated.csv", { type: "text/csv" }));
            const zone = document.getElementById("drop-zone");
            zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true }));
            zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true }));
          }`);
          assert.equal(await page.textContent("#upload-chosen"), "Chosen: undated.csv");
          await page.click("#upload-submit");
          await page.locator("#report .badge[data-status=failed]").waitFor();
          const id = new URL(page.url()).hash.split("/").at(-1)!;
          const failed = await (await api(`/v1/reports/${id}`)).json();
          const shown = await page.textContent("#report-error");
          assert.ok(shown?.includes(failed.error.title) && shown.includes(failed.error.detail));
          assert.equal(
            await page.getAttribute(`#report-list li[data-id="${id}"] .badge`, "data-status"),
            "failed",
          );
          await screenshot("desktop-failed");
        },
      );

      await t.step("importing a symbol makes a report from the provider", async () => {
        upstream.script(csvAnswer(STOOQ_FIXTURE));
        await page.fill("#import-symbol", "bad symbol!");
        await page.click("#import-submit");
        await page.locator("#import-symbol-error:not([hidden])").waitFor();
        assert.equal(await page.getAttribute("#import-symbol", "aria-invalid"), "true");
        assert.equal(upstream.requests.length, 0);

        await page.fill("#import-symbol", "avgo.us");
        await page.fill("#import-start", "2020-01-10");
        await page.fill("#import-end", "2020-02-10");
        await page.fill("#import-name", "AVGO daily");
        await page.click("#import-submit");
        await page.locator("#report .badge[data-status=ready]").waitFor();
        assert.equal(await page.textContent("#report-title"), "AVGO daily");
        assert.match(await page.textContent(".report-source") ?? "", /Imported from stooq/);
        await page.locator("#chart-canvas canvas").first().waitFor();
        assert.equal(await page.locator("#chart-canvas .u-legend .u-series").count(), 6);
        assert.equal(upstream.requests.length, 1);
      });

      await t.step("Download CSV saves the series as the API serves it", async () => {
        await openReport(pricesId);
        const expected = await (await api(`/v1/reports/${pricesId}/series?format=csv`)).text();
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.click("#download-csv"),
        ]);
        assert.match(download.suggestedFilename(), /\.csv$/);
        assert.equal(await Deno.readTextFile((await download.path())!), expected);

        // With an API key stored, the download is fetched with the key.
        await page.click("#settings summary");
        await page.fill("#api-key", "wk_browser_test");
        await page.click("#settings-form button[type=submit]");
        await page.locator(`#api-key-state:text-is("A key is set for this tab.")`).waitFor();
        await page.locator("#download-csv").waitFor();
        const [keyed] = await Promise.all([
          page.waitForEvent("download"),
          page.click("#download-csv"),
        ]);
        assert.equal(await Deno.readTextFile((await keyed.path())!), expected);
        const sent = browser.requests.filter((request) =>
          request.url.searchParams.get("format") === "csv"
        ).at(-1)!;
        assert.equal(sent.headers.authorization, "Bearer wk_browser_test");
        await page.click("#api-key-forget");
        await page.locator(`#api-key-state:text-is("No key set.")`).waitFor();
      });

      await t.step("the list pages with Load more, newest first", async () => {
        for (let i = 1; i <= 20; i++) {
          const res = await api(`/v1/reports?name=bulk-${i}`, {
            method: "POST",
            headers: { "content-type": "text/csv" },
            body: "t,v\n2020-01-01,1\n2020-01-02,2\n",
          });
          assert.equal(res.status, 202);
          await res.body?.cancel();
        }
        const total = (await (await api("/v1/reports?limit=100")).json()).items.length;
        await page.goto(server.baseUrl);
        await page.locator("#load-more:not([hidden])").waitFor();
        assert.equal(await page.locator("#report-list li").count(), 20);
        assert.equal(await page.textContent("#report-list li:first-child .report-name"), "bulk-20");
        await page.click("#load-more");
        await page.locator(`#report-list li:nth-child(${total})`).waitFor();
        assert.equal(await page.locator("#report-list li").count(), total);
        assert.equal(await page.isHidden("#load-more"), true);
      });

      await t.step(
        "a phone-sized screen shows the report first, with nothing too wide",
        async () => {
          await page.setViewportSize(PHONE);
          await openReport(pricesId);
          const widths = await inPage<Record<string, number>>(`({
            page: document.documentElement.scrollWidth,
            chart: document.querySelector("#chart-canvas .uplot").getBoundingClientRect().right,
            report: document.getElementById("report").getBoundingClientRect().top,
            upload: document.getElementById("upload-form").getBoundingClientRect().top,
          })`);
          assert.ok(widths.page <= PHONE.width, `The page is ${widths.page}px wide`);
          assert.ok(widths.chart <= PHONE.width, `The chart reaches ${widths.chart}px`);
          assert.ok(widths.report < widths.upload, "the open report comes before the forms");
          await screenshot("phone-ready");
          await page.setViewportSize(DESKTOP);
        },
      );

      await t.step(
        "Delete asks first; Escape keeps the report, confirming deletes it",
        async () => {
          await openReport(pricesId);
          await page.click("#delete-report");
          await page.locator("#confirm-delete[open]").waitFor();
          assert.match(await page.textContent("#confirm-text") ?? "", /"prices"/);
          await page.keyboard.press("Escape");
          await page.locator("#confirm-delete:not([open])").waitFor({ state: "attached" });
          assert.equal((await api(`/v1/reports/${pricesId}`)).status, 200);

          await page.click("#delete-report");
          await page.click("#confirm-delete-button");
          await page.waitForURL(`${server.baseUrl}/#/`);
          await page.locator(`#report-list li[data-id="${pricesId}"]`).waitFor({
            state: "detached",
          });
          assert.equal(await page.textContent("#report-title"), "No report open");
          const gone = await api(`/v1/reports/${pricesId}`);
          assert.equal(gone.status, 404);
          await gone.body?.cancel();
          await screenshot("desktop-deleted");
        },
      );

      await t.step("nothing broke the page: no script errors, no CSP violations", () => {
        // A failed API call is logged by the browser too; those were expected.
        assert.deepEqual(unexpectedErrors(browser.errors), []);
      });
    } finally {
      await Deno.remove(shots, { recursive: true });
    }
  },
});
