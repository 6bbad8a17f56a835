/**
 * End-to-end ingest benchmarks against a real `main.ts serve` process:
 *
 * 1. One 1,000,000-row CSV (timestamp,value; about 21 MB): time from the start
 *    of the POST to `ready`, the server's peak RSS, and `/healthz` latency
 *    (p50/p99) measured while the job runs. Compared with
 *    `sqlite3 data.db ".import --csv"` of the same file when sqlite3 exists.
 *    Then the same upload again on a fresh server without the probe, whose
 *    back-to-back requests compete with the job for the CPU.
 * 2. Small uploads (100-row JSON) from 32 concurrent clients: requests per
 *    second and p99 latency of the POST.
 *
 * Usage: deno task bench [--database=sqlite|postgres|postgres://...] (or
 * deno run -P=test bench/ingest.ts; bench/database.ts says what each means). Goals and
 * results: docs/benchmarks.md. Timings belong here, never in tests.
 *
 * @module
 */
import { generateCsv } from "../tests/helpers/generate.ts";
import { peakRssMb, percentile } from "./measure.ts";
import { pollReport } from "../tests/helpers/poll.ts";
import { makeDataDir, startServer } from "../tests/helpers/server_process.ts";
import { benchDatabase, databaseChoice } from "./database.ts";

const DATABASE = databaseChoice(Deno.args);

const ROWS = 1_000_000;
const SMALL_CLIENTS = 32;
const SMALL_SECONDS = 5;

async function bigUpload(
  options: { probe: boolean },
): Promise<Record<string, number | string>> {
  const csv = generateCsv(ROWS);
  const body = new TextEncoder().encode(csv);
  const dataDir = await makeDataDir();
  await using postgres = await benchDatabase(DATABASE);
  try {
    await using server = await startServer({
      dataDir,
      env: {
        REPORTD_MAX_POINTS: String(ROWS * 2),
        REPORTD_MAX_BODY_BYTES: String(64 << 20),
        ...(postgres === undefined ? {} : { REPORTD_DATABASE_URL: postgres.url }),
      },
    });
    const started = performance.now();
    const response = await fetch(`${server.baseUrl}/v1/reports`, {
      method: "POST",
      body,
      headers: { "content-type": "text/csv" },
    });
    const accepted = performance.now();
    const { id } = await response.json();
    // Probe /healthz back to back while the job runs; the job's end stops the probe.
    const latencies: number[] = [];
    let done = false;
    const probe = (async () => {
      while (!done && options.probe) {
        const t0 = performance.now();
        const health = await fetch(`${server.baseUrl}/healthz`);
        await health.body?.cancel();
        latencies.push(performance.now() - t0);
      }
    })();
    const report = await pollReport(server.baseUrl, id, { intervalMs: 5, timeoutMs: 120_000 });
    const ready = performance.now();
    done = true;
    await probe;
    if (report.status !== "ready") throw new Error(`The report failed: ${JSON.stringify(report)}`);
    const rss = await peakRssMb(server.pid);
    latencies.sort((a, b) => a - b);
    if (!options.probe) {
      return {
        "POST answered (202) ms": Math.round(accepted - started),
        "POST start to ready ms": Math.round(ready - started),
        "server peak RSS MB": Math.round(rss),
        "sqlite3 .import ms": await sqliteImport(csv),
      };
    }
    return {
      "rows": ROWS,
      "body MB": +(body.byteLength / 1e6).toFixed(1),
      "POST answered (202) ms": Math.round(accepted - started),
      "POST start to ready ms": Math.round(ready - started),
      "server peak RSS MB": Math.round(rss),
      "/healthz during job: samples": latencies.length,
      "/healthz p50 ms": +percentile(latencies, 0.5).toFixed(2),
      "/healthz p99 ms": +percentile(latencies, 0.99).toFixed(2),
      "sqlite3 .import ms": await sqliteImport(csv),
    };
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

async function sqliteImport(csv: string): Promise<number | string> {
  const dir = await Deno.makeTempDir({ prefix: "reportd-bench-" });
  try {
    await Deno.writeTextFile(`${dir}/data.csv`, csv);
    const started = performance.now();
    const result = await new Deno.Command("sqlite3", {
      args: [`${dir}/data.db`, ".import --csv data.csv points"],
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!result.success) return `failed: ${new TextDecoder().decode(result.stderr).trim()}`;
    return Math.round(performance.now() - started);
  } catch {
    return "sqlite3 not installed";
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function smallUploads(): Promise<Record<string, number | string>> {
  const points = Array.from({ length: 100 }, (_, i) => ({ t: 1577836800 + i * 60, value: i }));
  const body = JSON.stringify({ name: "small", points });
  const dataDir = await makeDataDir();
  await using postgres = await benchDatabase(DATABASE);
  try {
    await using server = await startServer({
      dataDir,
      // Every client may upload at once; the default of 4 would turn most into 503s.
      env: {
        REPORTD_MAX_INFLIGHT_UPLOADS: String(SMALL_CLIENTS),
        REPORTD_QUEUE_MAX: "100000",
        ...(postgres === undefined ? {} : { REPORTD_DATABASE_URL: postgres.url }),
      },
    });
    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    const deadline = performance.now() + SMALL_SECONDS * 1000;
    const started = performance.now();
    await Promise.all(Array.from({ length: SMALL_CLIENTS }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const res = await fetch(`${server.baseUrl}/v1/reports`, {
          method: "POST",
          body,
          headers: { "content-type": "application/json" },
        });
        await res.body?.cancel();
        latencies.push(performance.now() - t0);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    }));
    const elapsed = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      "clients": SMALL_CLIENTS,
      "requests": latencies.length,
      "requests/s": Math.round(latencies.length / elapsed),
      "p50 ms": +percentile(latencies, 0.5).toFixed(1),
      "p99 ms": +percentile(latencies, 0.99).toFixed(1),
      "statuses": JSON.stringify(Object.fromEntries(statuses)),
    };
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

if (import.meta.main) {
  console.log(`Database: ${DATABASE === "sqlite" ? "SQLite" : "PostgreSQL"}`);
  console.log("## 1,000,000-row CSV upload");
  console.table(await bigUpload({ probe: true }));
  // The probe above asks back to back from this process: it keeps a core
  // busy here and the server's main thread busy answering, which the job's
  // worker then competes with on a 2-core machine. Without it, the time to
  // ready is the upload's own.
  console.log("## The same upload without the /healthz probe (a fresh server)");
  console.table(await bigUpload({ probe: false }));
  console.log("## Small JSON uploads, 32 concurrent clients");
  console.table(await smallUploads());
}
