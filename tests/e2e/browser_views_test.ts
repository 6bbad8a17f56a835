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
import { formatPercent, plural } from "../../web/app/format.ts";
import { assertNotBlank, browserSkipReason, launchBrowser } from "../helpers/browser.ts";
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
        assert.ok(layout.heading < DESKTOP.height, `the list's heading is at ${layout.heading}px`);
        assert.ok(layout.first < DESKTOP.height, `the first entry ends at ${layout.first}px`);
        assert.ok(layout.upload < DESKTOP.height, "the upload form starts on the first screen too");

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

    await t.step("nothing broke the page: no script errors, no CSP violations", () => {
      const unexpected = browser.errors.filter((text) =>
        !/^Failed to load resource: the server responded with a status of 4\d\d/.test(text)
      );
      assert.deepEqual(unexpected, []);
    });
  },
});
