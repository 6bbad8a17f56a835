/**
 * Issue 13 in a real headless Chromium against `main.ts serve` as a
 * subprocess: one upload of each format through the page's form (CSV in
 * three dialects, UTF-16, gzip, JSON records and split, NDJSON, Parquet), and
 * the "how to read this file" options opening with what was detected when a
 * file needs one of them.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { launchBrowser } from "../helpers/browser.ts";
import type { ReportBody } from "../helpers/poll.ts";
import { REPO_ROOT, startServer } from "../helpers/server_process.ts";

const FIXTURES = `${REPO_ROOT}tests/fixtures/formats/`;

/** Files as a person would pick them, and what the report must say about each. */
const UPLOADS: { file: string; format: string; dialect: Record<string, unknown> }[] = [
  { file: "pandas.csv", format: "csv", dialect: { delimiter: ",", time_column: "Date" } },
  { file: "pandas_semicolon.csv", format: "csv", dialect: { delimiter: ";", decimal: "," } },
  { file: "pandas_tab_utf16.csv", format: "csv", dialect: { encoding: "utf-16le" } },
  { file: "pandas_records.json", format: "json", dialect: { shape: "records" } },
  { file: "pandas_split.json", format: "json", dialect: { shape: "split" } },
  { file: "pandas.ndjson", format: "ndjson", dialect: { shape: "ndjson" } },
  { file: "duckdb_zstd.parquet", format: "parquet", dialect: { time_column: "time" } },
];

Deno.test("e2e browser: each upload format through the page, and the options form on failure", async (t) => {
  await using server = await startServer({
    env: { REPORTD_RATE_READ_PER_S: "0", REPORTD_RATE_WRITE_PER_S: "0" },
  });
  await using browser = await launchBrowser({ width: 1280, height: 900 });
  const { page } = browser;
  const api = async (path: string): Promise<ReportBody> =>
    await (await fetch(`${server.baseUrl}${path}`)).json();
  await page.goto(server.baseUrl);

  async function uploadAndWait(file: string | { name: string; buffer: Buffer; mimeType: string }) {
    await page.setInputFiles("#upload-file", file);
    await page.click("#upload-submit");
    // The form resets once the server accepted the file; the new report is first in the list.
    await page.locator("#upload-chosen:text-is('No file chosen')").waitFor();
    await page.locator("#report-list li:first-child .badge[data-status=ready]").or(
      page.locator("#report-list li:first-child .badge[data-status=failed]"),
    ).waitFor();
    const id = (await page.getAttribute("#report-list li:first-child", "data-id"))!;
    return await api(`/v1/reports/${id}`);
  }

  for (const upload of UPLOADS) {
    await t.step(`${upload.file} is read and says how`, async () => {
      const report = await uploadAndWait(`${FIXTURES}${upload.file}`);
      assert.equal(report.status, "ready", JSON.stringify(report.error));
      assert.equal(report.source.format, upload.format);
      assert.equal(report.summary.points, 20);
      for (const [key, value] of Object.entries(upload.dialect)) {
        assert.equal(report.source.dialect[key], value, `${upload.file}: ${key}`);
      }
    });
  }

  await t.step("a .csv.gz is sent gzip-encoded and read", async () => {
    const csv = await Deno.readFile(`${FIXTURES}pandas.csv`);
    const gzipped = await new Response(
      new Blob([csv]).stream().pipeThrough(
        new CompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>,
      ),
    ).arrayBuffer();
    const report = await uploadAndWait({
      name: "prices.csv.gz",
      mimeType: "application/gzip",
      buffer: Buffer.from(gzipped),
    });
    assert.equal(report.status, "ready");
    assert.equal(report.name, "prices");
    assert.equal(report.summary.points, 20);
  });

  await t.step("an ambiguous date opens the options with the field and the detection", async () => {
    assert.equal(await page.getAttribute("#upload-options", "open"), null);
    await page.setInputFiles("#upload-file", `${FIXTURES}pandas_ambiguous_dates.csv`);
    await page.click("#upload-submit");
    await page.locator("#upload-date-format-error:not([hidden])").waitFor();
    assert.equal(await page.getAttribute("#upload-options", "open"), "");
    assert.match(
      await page.textContent("#upload-date-format-error") ?? "",
      /could be %m\/%d\/%Y or %d\/%m\/%Y/,
    );
    assert.match(
      await page.textContent("#upload-detected") ?? "",
      /Read as: delimiter "," \(detected\), time column "Date" \(detected\)/,
    );
    // Giving the format makes the same file work.
    await page.fill("#upload-date-format", "%m/%d/%Y");
    await page.click("#upload-submit");
    await page.locator("#upload-chosen:text-is('No file chosen')").waitFor();
    await page.locator("#report-list li:first-child .badge[data-status=ready]").waitFor();
    const id = (await page.getAttribute("#report-list li:first-child", "data-id"))!;
    const report = await api(`/v1/reports/${id}`);
    assert.equal(report.source.dialect.time_format, "%m/%d/%Y");
    assert.deepEqual(report.source.dialect.detected, ["delimiter", "time_column"]);
  });

  await t.step("a wrong separator is named next to the separator field", async () => {
    await page.selectOption("#upload-delimiter", "|");
    await page.setInputFiles("#upload-file", `${FIXTURES}pandas_semicolon.csv`);
    await page.click("#upload-submit");
    await page.locator("#upload-delimiter-error:not([hidden])").waitFor();
    assert.match(
      await page.textContent("#upload-delimiter-error") ?? "",
      /looks like a `;`-separated file: add \?delimiter=;/,
    );
    assert.equal(await page.getAttribute("#upload-delimiter", "aria-invalid"), "true");
    await page.selectOption("#upload-delimiter", "");
  });
});
