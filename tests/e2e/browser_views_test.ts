/**
 * Issue 14's page in a real headless Chromium against reportd running as a
 * real subprocess: numbers as people read them, an axis per scale with a log
 * option, lines broken at gaps, a 24-hour hover legend, the report list on
 * the first screen with its filters, the resample and transform controls
 * carried in the link, the analytics in the statistics table, the drawdown
 * chart and the comparison view.
 *
 * Each step states the fault or feature it checks; the faults were seen on
 * the page before (issue 14) and each assertion here failed then.
 */
import assert from "node:assert/strict";
import { formatNumber, formatPercent, MISSING, plural } from "../../web/app/format.ts";
import { formatStatistic, STATISTIC_ROWS } from "../../web/app/statistics.ts";
import {
  assertNotBlank,
  browserSkipReason,
  launchBrowser,
  unexpectedErrors,
} from "../helpers/browser.ts";
import { pollReport, type ReportBody } from "../helpers/poll.ts";
import { REPO_ROOT, startServer } from "../helpers/server_process.ts";

const PRICES = await Deno.readTextFile(`${REPO_ROOT}tests/fixtures/prices.csv`);
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const NOON = Date.UTC(2024, 0, 1, 12) / 1000;

/** Minute points 0..99 and 200..299 from noon: a 101-minute gap in the middle third. */
function gappedCsv(): string {
  const lines = ["t,level"];
  for (let i = 0; i < 300; i++) {
    if (i >= 100 && i < 200) continue;
    lines.push(`${NOON + i * 60},${10 + i}`);
  }
  return lines.join("\n");
}

/** A 0 to 1 column beside one from -1,800 to 500. */
function scalesCsv(): string {
  const lines = ["t,share,balance"];
  for (let i = 0; i < 50; i++) {
    lines.push(`${NOON + i * 3600},${0.1 + (i % 10) / 11},${-1800 + i * 46}`);
  }
  return lines.join("\n");
}

const skip = browserSkipReason();
if (skip !== undefined) console.warn(`Browser tests skipped: ${skip}`);

Deno.test({
  name: "e2e browser (issue 14): numbers, scales, gaps, list, view controls, analytics, compare",
  ignore: skip !== undefined,
  async fn(t) {
    await using server = await startServer({
      env: { REPORTD_RATE_READ_PER_S: "0", REPORTD_RATE_WRITE_PER_S: "0" },
    });
    await using browser = await launchBrowser(DESKTOP);
    const { page } = browser;
    const api = (path: string, init?: RequestInit) => fetch(`${server.baseUrl}${path}`, init);
    const shots = await Deno.makeTempDir({ prefix: "reportd-views-" });
    // In-page code is written as strings (see browser_test.ts: the CSP refuses eval'd predicates).
    const inPage = <T = unknown>(expression: string) => page.evaluate(expression) as Promise<T>;

    async function upload(name: string, csv: string): Promise<ReportBody> {
      const created = await api(`/v1/reports?name=${encodeURIComponent(name)}`, {
        method: "POST",
        headers: { "content-type": "text/csv" },
        body: csv,
      });
      assert.equal(created.status, 202);
      const { id } = await created.json();
      return await pollReport(server.baseUrl, id);
    }

    async function openReport(id: string, view = ""): Promise<void> {
      await page.goto(`${server.baseUrl}/#/reports/${id}${view}`);
      await page.locator(`#report[data-report-id="${id}"]`).waitFor();
      await page.locator("#chart-canvas[data-points] canvas").first().waitFor();
    }

    /** Series requests of the price chart (not the drawdown chart's) since `from`. */
    const chartRequests = (id: string, from = 0) =>
      browser.requests.slice(from).filter((request) =>
        request.url.pathname === `/v1/reports/${id}/series` &&
        request.url.searchParams.get("transform") !== "drawdown"
      );

    try {
      const prices = await upload("prices", PRICES);
      const gapped = await upload("gapped minutes", gappedCsv());
      const scales = await upload("two scales", scalesCsv());
      assert.equal(prices.status, "ready");
      assert.equal(gapped.status, "ready");
      assert.equal(scales.status, "ready");

      await t.step(
        "counts and integer values are exact; percentages read as percentages",
        async () => {
          await openReport(prices.id);
          // The first volume is 3,382,703: six significant digits showed 3,382,700.
          const firstVolume = await page.textContent(
            `#statistics tr[data-statistic="first"] td:nth-of-type(${
              Object.keys(prices.summary.columns).indexOf("volume") + 1
            })`,
          );
          assert.equal(firstVolume, "3,382,703");
          const maxVolume = prices.summary.columns.volume.max as number;
          assert.ok(Number.isInteger(maxVolume) && maxVolume >= 1_000_000);
          const maxCell = await page.textContent(
            `#statistics tr[data-statistic="max"] td:nth-of-type(5), ` +
              `#statistics tr[data-statistic="max"] td:nth-of-type(6)`,
          );
          assert.ok(maxCell !== null);
          assert.ok(
            (await page.locator(`#statistics tr[data-statistic="max"] td`).allTextContents())
              .includes(new Intl.NumberFormat("en-US").format(maxVolume)),
          );
          // change_pct is a percentage: "-0.34%", not "-0.342295".
          const changes = await page.locator(`#statistics tr[data-statistic="change_pct"] td`)
            .allTextContents();
          const columns = Object.keys(prices.summary.columns);
          assert.deepEqual(
            changes,
            columns.map((column) =>
              formatPercent(prices.summary.columns[column].change_pct / 100, "en-US")
            ),
          );
          for (const text of changes) assert.match(text, /^-?[\d,]+\.\d\d%$/);
          const rows = prices.rows;
          assert.match(
            await page.textContent("#report-summary") ?? "",
            new RegExp(
              `${plural(rows.received, "row", "en-US")} received, ${rows.accepted} accepted`,
            ),
          );
        },
      );

      await t.step(
        "columns of different scale get their own y axis; log scale is offered",
        async () => {
          await openReport(scales.id);
          // uPlot draws one .u-axis per axis: time, then one per scale group.
          assert.equal(await page.locator("#chart-canvas .u-axis").count(), 3);
          assert.equal(await page.getAttribute("#chart-canvas", "data-scales"), "share|balance");
          assert.equal(await page.getAttribute("#chart-canvas", "data-log-scales"), "");
          await page.check("#chart-log");
          await page.waitForURL(/scale=log/);
          // share is positive: logarithmic; balance goes below zero: stays linear, and says so.
          await page.locator(`#chart-canvas[data-log-scales="y0"]`).waitFor();
          assert.match(
            await page.textContent("#chart-status") ?? "",
            /Linear scale for balance: a log scale needs values above zero/,
          );
          // The link restores it.
          await page.reload();
          await page.locator(`#chart-canvas[data-log-scales="y0"]`).waitFor();
          assert.equal(await page.isChecked("#chart-log"), true);
          // Prices: open, high, low and close share an axis; volume has its own.
          await openReport(prices.id);
          assert.equal(
            await page.getAttribute("#chart-canvas", "data-scales"),
            "open,high,low,close|volume",
          );
        },
      );

      await t.step("the line breaks where the report found a gap", async () => {
        assert.equal(gapped.summary.gaps.count, 1);
        await openReport(gapped.id);
        // Count the line's blue pixels in a thin column of the plot: in the
        // middle of the gap there are none; a sixth of the way in, there are.
        const blueAt = (share: number) =>
          inPage<number>(`{
          const canvas = document.querySelector("#chart-canvas canvas");
          const over = document.querySelector("#chart-canvas .u-over").getBoundingClientRect();
          const rect = canvas.getBoundingClientRect();
          const ratio = canvas.width / rect.width;
          const x = Math.round((over.left + over.width * ${share} - rect.left) * ratio);
          const { data } = canvas.getContext("2d").getImageData(x - 1, 0, 3, canvas.height);
          let blue = 0;
          for (let i = 0; i < data.length; i += 4) {
            if (data[i + 3] > 100 && data[i + 2] > 120 && data[i] < 90) blue++;
          }
          blue;
        }`);
        assert.ok(await blueAt(1 / 6) > 0, "the line is drawn where there are points");
        assert.equal(await blueAt(0.5), 0, "no line across the gap");
        // One row of nulls went in; the points shown are still the report's 200.
        assert.equal(await page.getAttribute("#chart-canvas", "data-breaks"), "1");
        assert.equal(await page.getAttribute("#chart-canvas", "data-points"), "200");
      });

      await t.step("the hover legend tells the time in 24-hour UTC, like the axis", async () => {
        const box = (await page.locator("#chart-canvas .u-over").boundingBox())!;
        await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
        const time = page.locator("#chart-canvas .u-legend .u-series").first().locator(".u-value");
        await page.locator("#chart-canvas .u-legend .u-series:first-child .u-value", {
          hasText: /\d/,
        }).waitFor();
        const text = await time.textContent() ?? "";
        // Points from 12:00 to 16:59 UTC: an afternoon hour, written 12..16, never "1:05pm".
        assert.match(text, /^2024-01-01 1[2-6]:\d\d:00 UTC$/);
        assert.doesNotMatch(text, /am|pm/i);
      });

      await t.step(
        "the report list is on the first screen, with a name and status filter",
        async () => {
          for (let i = 1; i <= 20; i++) {
            const res = await api(`/v1/reports?name=bulk-${i}`, {
              method: "POST",
              headers: { "content-type": "text/csv" },
              body: "t,v\n2020-01-01,1\n2020-01-02,2\n",
            });
            await res.body?.cancel();
          }
          const broken = await api("/v1/reports?name=undated", {
            method: "POST",
            headers: { "content-type": "text/csv" },
            body: "timestamp,value\nyesterday,1\ntomorrow,2\n",
          });
          const { id: failedId } = await broken.json();
          await pollReport(server.baseUrl, failedId);
          await page.goto(server.baseUrl);
          await page.locator("#report-list li").first().waitFor();
          const layout = await inPage<Record<string, number>>(`({
        heading: document.getElementById("reports-title").getBoundingClientRect().bottom,
        first: document.querySelector("#report-list li").getBoundingClientRect().bottom,
        upload: document.getElementById("upload-title").getBoundingClientRect().top,
      })`);
          assert.ok(
            layout.heading < DESKTOP.height,
            `the list's heading is at ${layout.heading}px`,
          );
          assert.ok(layout.first < DESKTOP.height, `the first entry ends at ${layout.first}px`);
          assert.ok(
            layout.upload < DESKTOP.height,
            "the upload form starts on the first screen too",
          );

          // The first page holds the 20 newest: undated and bulk-20 to bulk-2.
          await page.fill("#list-filter", "BULK-1");
          await page.locator(
            `#list-matches:text-is("10 reports shown. Load more to search older reports.")`,
          ).waitFor();
          const names = () =>
            page.locator("#report-list li:not([hidden]) .report-name").allTextContents();
          assert.deepEqual(
            await names(),
            Array.from({ length: 10 }, (_, i) => `bulk-${19 - i}`),
          );
          // Loading more keeps filtering.
          await page.click("#load-more");
          await page.locator(`#list-matches:text-is("11 reports shown.")`).waitFor();
          assert.equal((await names()).at(-1), "bulk-1");
          await page.fill("#list-filter", "");
          const before = browser.requests.length;
          await page.selectOption("#list-status", "failed");
          await page.locator(`#report-list li[data-id="${failedId}"]`).waitFor();
          const asked = browser.requests.slice(before).find((request) =>
            request.url.pathname === "/v1/reports"
          );
          assert.equal(asked?.url.searchParams.get("status"), "failed");
          assert.deepEqual(await names(), ["undated"]);
          await page.selectOption("#list-status", "");
          await page.locator("#report-list li:nth-child(20)").waitFor();

          // On a phone with no report open, the list comes before the forms.
          await page.setViewportSize(PHONE);
          const order = await inPage<Record<string, number>>(`({
        list: document.getElementById("reports-title").getBoundingClientRect().top,
        upload: document.getElementById("upload-title").getBoundingClientRect().top,
        width: document.documentElement.scrollWidth,
      })`);
          assert.ok(order.list < order.upload, "the list comes first on a phone");
          assert.ok(order.list < PHONE.height);
          assert.ok(order.width <= PHONE.width, `the page is ${order.width}px wide`);
          const shot = await page.screenshot({ fullPage: false });
          assertNotBlank(new Uint8Array(shot), "phone list");
          await page.setViewportSize(DESKTOP);
        },
      );

      await t.step(
        "resample and transform controls: sent to the API, carried in the link",
        async () => {
          await openReport(prices.id);
          let mark = browser.requests.length;
          await page.selectOption("#chart-every", "1w");
          await page.waitForURL(/#\/reports\/[^?]+\?every=1w$/);
          await page.locator("#chart-status", { hasText: "Resampled to 1w (last)" }).waitFor();
          let asked = chartRequests(prices.id, mark).at(-1)!;
          assert.equal(asked.url.searchParams.get("every"), "1w");
          assert.equal(asked.url.searchParams.get("agg"), null);

          mark = browser.requests.length;
          await page.selectOption("#chart-agg", "ohlc");
          await page.locator("#chart-status", { hasText: "Resampled to 1w (ohlc)" }).waitFor();
          asked = chartRequests(prices.id, mark).at(-1)!;
          assert.equal(asked.url.searchParams.get("agg"), "ohlc");
          // Every control above the chart has a label.
          const unlabelled = await inPage<string[]>(`
            [...document.querySelectorAll("#chart-controls input, #chart-controls select")]
              .filter((control) => (control.labels?.[0]?.textContent ?? "").trim() === "")
              .map((control) => control.id)
          `);
          assert.deepEqual(unlabelled, []);
          // Each column became four: the legend names them as the API does.
          const labels = await page.locator("#chart-canvas .u-legend .u-series .u-label")
            .allTextContents();
          assert.deepEqual(labels.slice(1, 5), [
            "open_open",
            "open_high",
            "open_low",
            "open_close",
          ]);
          assert.equal(labels.length, 1 + 5 * 4);
          // What is drawn is what the API answers for that URL.
          const expected = await (await api(`${asked.url.pathname}${asked.url.search}`)).json();
          assert.equal(
            await page.getAttribute("#chart-canvas", "data-points"),
            String(expected[0].length),
          );

          // A window the API would refuse is refused here, next to its field.
          await page.selectOption("#chart-transform", "rolling_mean");
          await page.locator("#chart-status", { hasText: "Transform: rolling_mean:20." }).waitFor();
          mark = browser.requests.length;
          await page.fill("#chart-window", "1");
          await page.dispatchEvent("#chart-window", "change");
          await page.locator("#chart-argument-error:not([hidden])").waitFor();
          assert.equal(await page.getAttribute("#chart-window", "aria-invalid"), "true");
          assert.deepEqual(chartRequests(prices.id, mark).map((request) => request.url.search), []);
          await page.fill("#chart-window", "3");
          await page.dispatchEvent("#chart-window", "change");
          await page.locator("#chart-status", { hasText: "Transform: rolling_mean:3." }).waitFor();
          assert.equal(await page.isHidden("#chart-argument-error"), true);
          const url = page.url();
          assert.match(url, /\?every=1w&agg=ohlc&transform=rolling_mean%3A3$/);

          // The link restores the whole view in a fresh page.
          mark = browser.requests.length;
          await page.goto("about:blank");
          await page.goto(url);
          await page.locator("#chart-canvas[data-points] canvas").first().waitFor();
          assert.equal(await page.inputValue("#chart-every"), "1w");
          assert.equal(await page.inputValue("#chart-agg"), "ohlc");
          assert.equal(await page.inputValue("#chart-transform"), "rolling_mean");
          assert.equal(await page.inputValue("#chart-window"), "3");
          asked = chartRequests(prices.id, mark).at(-1)!;
          assert.equal(asked.url.searchParams.get("transform"), "rolling_mean:3");
          assert.equal(asked.url.searchParams.get("every"), "1w");
          // Back to the points as stored: the link is the bare report again.
          await page.selectOption("#chart-transform", "");
          await page.selectOption("#chart-every", "");
          await page.waitForURL(new RegExp(`#/reports/${prices.id}$`));
          assert.equal(await page.isDisabled("#chart-agg"), true);

          // A return is a share: the hover legend writes it as a percentage.
          mark = browser.requests.length;
          await page.selectOption("#chart-transform", "pct_change");
          await page.locator("#chart-status", { hasText: "Transform: pct_change." }).waitFor();
          // The drawdown chart does not depend on the transform: not fetched again.
          assert.equal(
            browser.requests.slice(mark).filter((request) =>
              request.url.searchParams.get("transform") === "drawdown"
            ).length,
            0,
          );
          const box = (await page.locator("#chart-canvas .u-over").boundingBox())!;
          await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
          const close = page.locator("#chart-canvas .u-legend .u-series", { hasText: "close" })
            .locator(".u-value");
          await page.locator("#chart-canvas .u-legend .u-series .u-value", { hasText: "%" })
            .first().waitFor();
          assert.match(await close.textContent() ?? "", /^-?\d+\.\d\d%$/);
          await page.selectOption("#chart-transform", "");
          await page.waitForURL(new RegExp(`#/reports/${prices.id}$`));

          // A link with a view, opened while the report is still being
          // processed, keeps its view once the report is ready.
          const lines = ["t,v"];
          for (let i = 0; i < 400_000; i++) lines.push(`${NOON + i * 60},${(i % 997) + 1}`);
          const created = await api("/v1/reports?name=slow", {
            method: "POST",
            headers: { "content-type": "text/csv" },
            body: lines.join("\n"),
          });
          const { id: slowId } = await created.json();
          mark = browser.requests.length;
          await page.goto(`${server.baseUrl}/#/reports/${slowId}?every=1d`);
          // 400,000 rows take a few seconds alone, much longer on a busy machine.
          await page.locator(`#report[data-report-id="${slowId}"][data-status=ready]`)
            .waitFor({ timeout: 120_000 });
          await page.locator("#chart-canvas[data-points] canvas").first().waitFor();
          assert.equal(await page.inputValue("#chart-every"), "1d");
          assert.equal(chartRequests(slowId, mark).at(-1)!.url.searchParams.get("every"), "1d");
        },
      );

      await t.step(
        "the analytics are in the statistics table, each with a plain tooltip",
        async () => {
          await openReport(prices.id);
          const close = prices.summary.columns.close;
          for (const row of STATISTIC_ROWS.filter((candidate) => candidate.tip !== undefined)) {
            const heading = page.locator(`#statistics tr[data-statistic="${row.path}"] th`);
            const tipId = await heading.getAttribute("aria-describedby");
            assert.ok(tipId, `${row.path} has a tooltip`);
            assert.equal(await page.textContent(`#${tipId}`), row.tip);
          }
          // Hidden until the heading has focus (or the pointer), then shown.
          const tip = page.locator("#tip-max_drawdown-value");
          assert.equal(await tip.isVisible(), false);
          await page.focus(`#statistics tr[data-statistic="max_drawdown.value"] th`);
          assert.equal(await tip.isVisible(), true);
          await page.keyboard.press("Escape");
          assert.equal(await tip.isVisible(), false, "Escape dismisses the tooltip");
          const cell = (path: string, column: string) =>
            page.textContent(
              `#statistics tr[data-statistic="${path}"] td:nth-of-type(${
                Object.keys(prices.summary.columns).indexOf(column) + 1
              })`,
            );
          assert.equal(
            await cell("max_drawdown.value", "close"),
            formatPercent(close.max_drawdown.value, "en-US"),
          );
          assert.equal(
            await cell("return_total", "close"),
            formatPercent(close.return_total, "en-US"),
          );
          assert.equal(
            await cell("max_drawdown.trough", "close"),
            formatStatistic("instant", close.max_drawdown.trough),
          );
          // What the yearly figures are scaled by is said.
          assert.match(
            await page.textContent("#report-summary") ?? "",
            new RegExp(
              `Annualized with${
                formatStatistic("value", prices.summary.periods_per_year, { locale: "en-US" })
              } ` +
                "periods a year",
            ),
          );
          // The correlation matrix, to three decimals, 1 on its diagonal.
          const correlation = prices.summary.correlation;
          assert.deepEqual(
            await page.locator("#correlation thead th").allTextContents(),
            correlation.columns,
          );
          assert.equal(
            await page.textContent(`#correlation tbody tr:first-child td:nth-of-type(1)`),
            "1.000",
          );
          // A statistic that means nothing says why (balance goes below zero).
          await openReport(scales.id);
          const reason = scales.summary.columns.balance.null_reasons.return_total;
          assert.ok(reason);
          const why = page.locator(
            `#statistics tr[data-statistic="return_total"] td:nth-of-type(2)`,
          );
          assert.equal(await why.textContent(), `${MISSING} (${reason})`);
          assert.equal(await why.locator("[title]").getAttribute("title"), reason);
        },
      );

      await t.step("a drawdown chart under the price chart, only for price-like data", async () => {
        await openReport(prices.id);
        await page.locator("#drawdown-canvas[data-points] canvas").first().waitFor();
        assert.equal(await page.getAttribute("#drawdown-canvas", "data-columns"), "close");
        // 79 points, fewer than the chart is wide: the deepest point drawn is the report's max drawdown.
        const deepest = Number(await page.getAttribute("#drawdown-canvas", "data-min"));
        assert.ok(
          Math.abs(deepest - prices.summary.columns.close.max_drawdown.value) < 1e-12,
          `${deepest}`,
        );
        // It follows the price chart's zoom, and its reset.
        const box = (await page.locator("#chart-canvas .u-over").boundingBox())!;
        await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
        await page.mouse.down();
        await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
        await page.mouse.up();
        await page.locator("#drawdown-canvas:not([data-range=all])").waitFor();
        await page.getByRole("button", { name: "Reset zoom" }).click();
        await page.locator("#drawdown-canvas[data-range=all]").waitFor();
        const asked = browser.requests.filter((request) =>
          request.url.searchParams.get("transform") === "drawdown"
        ).at(-1)!;
        assert.equal(asked.url.pathname, `/v1/reports/${prices.id}/series`);
        // A column with zero or below is not a price: no drawdown chart.
        const signed = await upload("signed", "t,v\n2020-01-01,-1\n2020-01-02,2\n2020-01-03,0\n");
        await openReport(signed.id);
        assert.equal(await page.locator("#drawdown *").count(), 0);
        await page.screenshot({ path: `${shots}/desktop-views.png`, fullPage: true });
        assertNotBlank(await Deno.readFile(`${shots}/desktop-views.png`), "desktop views");
      });

      await t.step("compare overlays several reports rebased to 100", async () => {
        // The same prices doubled: rebased, its close line is the same as the original's.
        const doubled = await upload(
          "doubled",
          PRICES.split("\n").map((line, index) => {
            if (index === 0 || line === "") return line;
            const cells = line.split(",");
            return cells.map((cell, i) => i === 0 || cell === "" ? cell : String(Number(cell) * 2))
              .join(",");
          }).join("\n"),
        );
        assert.equal(doubled.status, "ready");
        await page.goto(`${server.baseUrl}/#/`);
        await page.locator("#report-list li").first().waitFor();
        await page.click("#compare-link");
        await page.locator("#compare-form").waitFor();
        assert.equal(await page.title(), "Compare reports - reportd");
        assert.equal(
          await page.textContent("#compare-status"),
          "Choose at least two reports to compare.",
        );
        // From a report, "Compare with others" starts with it chosen.
        await openReport(prices.id);
        assert.equal(await page.title(), "prices - reportd");
        await page.click("#compare-report");
        await page.locator(`#compare-${prices.id}:checked`).waitFor();
        assert.equal(
          await page.textContent("#compare-status"),
          "Choose at least two reports to compare.",
        );
        // The name filter finds the other one; the chosen one stays in view.
        await page.fill("#compare-find", "doub");
        assert.deepEqual(
          await page.locator(".compare-choices li:not([hidden]) label").allTextContents(),
          ["doubled", "prices"],
        );
        await page.check(`#compare-${doubled.id}`);
        await page.locator("#compare-canvas[data-columns] canvas").first().waitFor();
        assert.match(
          page.url(),
          new RegExp(`#/compare\\?ids=${doubled.id}%2C${prices.id}&every=1d$`),
        );
        const asked = browser.requests.filter((request) => request.url.pathname === "/v1/compare")
          .at(-1)!;
        assert.equal(asked.url.searchParams.get("normalize"), "first");
        const body = await (await api(`${asked.url.pathname}${asked.url.search}`)).json();
        assert.equal(
          await page.getAttribute("#compare-canvas", "data-columns"),
          Object.keys(body.columns).join("|"),
        );
        assert.equal(
          await page.getAttribute("#compare-canvas", "data-shown"),
          "doubled.close|prices.close",
        );
        assert.equal(body.columns["doubled.close"][0], 100);
        assert.deepEqual(body.columns["doubled.close"], body.columns["prices.close"]);
        // The hover legend at the first common time reads 100 for both.
        const box = (await page.locator("#compare-canvas .u-over").boundingBox())!;
        await page.mouse.move(box.x + 1, box.y + box.height / 2);
        const values = page.locator("#compare-canvas .u-legend .u-series:not(.u-off) .u-value");
        await page.locator("#compare-canvas .u-legend .u-series:not(.u-off) .u-value", {
          hasText: "100",
        }).first().waitFor();
        assert.deepEqual((await values.allTextContents()).slice(1), ["100", "100"]);
        // The table under the chart gives every line's last rebased value and its change.
        const lastClose = (body.columns["prices.close"] as (number | null)[])
          .filter((value) => value !== null).at(-1) as number;
        const row = page.locator(`#compare-table tr[data-column="prices.close"] td`);
        assert.deepEqual(await row.allTextContents(), [
          formatNumber(lastClose, "en-US"),
          formatPercent(lastClose / 100 - 1, "en-US"),
        ]);
        assert.equal(
          await page.locator("#compare-table tbody tr").count(),
          Object.keys(body.columns).length,
        );
        // A link naming a report that failed shows the API's problem, naming it.
        const failed = (await (await api("/v1/reports?status=failed")).json()).items[0];
        await page.goto(`${server.baseUrl}/#/compare?ids=${prices.id},${failed.id}`);
        await page.locator("#compare-error:not([hidden])").waitFor();
        assert.match(await page.textContent("#compare-error") ?? "", new RegExp(failed.id));
      });

      await t.step("nothing broke the page: no script errors, no CSP violations", () => {
        // A failed API call is logged by the browser too; those were expected.
        assert.deepEqual(unexpectedErrors(browser.errors), []);
      });
    } finally {
      await Deno.remove(shots, { recursive: true });
    }
  },
});
