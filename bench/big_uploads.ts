/**
 * Big uploads must not crowd out everyone else (issue 12, item 11): 32
 * clients each send a 20 MB CSV at once to a real `main.ts serve` with the
 * default limits (4 upload slots, one worker per CPU). A client turned away
 * with 503 waits `Retry-After` and sends again, as a well-behaved client
 * does, until all 32 are accepted and processed. Meanwhile a prober asks
 * `/healthz` back to back. Reported: the server's peak RSS (`VmHWM`),
 * `/healthz` p50/p99, how many POSTs were answered what, and the time until
 * every report was ready.
 *
 * Goals: peak RSS under 400 MB and `/healthz` p99 under 50 ms.
 *
 * Usage: deno task bench:big-uploads (deno run -P=test bench/big_uploads.ts).
 * Results: docs/benchmarks.md. The clients run on the same machine as the
 * server and compete with it for the CPU, which is part of what the probe's
 * latency shows.
 *
 * @module
 */
import { generateCsv } from "../tests/helpers/generate.ts";
import { peakRssMb, percentile } from "./measure.ts";
import { pollReport } from "../tests/helpers/poll.ts";
import { makeDataDir, startServer } from "../tests/helpers/server_process.ts";

const CLIENTS = 32;
/** About 20 MB of `timestamp,value` lines. */
const ROWS = 950_000;

async function main(): Promise<void> {
  const body = new TextEncoder().encode(generateCsv(ROWS));
  const dataDir = await makeDataDir();
  try {
    await using server = await startServer({
      dataDir,
      // Default limits, except that 32 x 950,000 rows must fit the queue and
      // the rate limit (the helper turns rate limits off for one fast client).
      env: {},
    });
    const statuses = new Map<number, number>();
    const latencies: number[] = [];
    let done = false;
    let probeErrors = 0;
    // Its own connection pool: the uploads' connections are closed under them
    // when they are refused, which must not be counted against /healthz.
    using probeClient = Deno.createHttpClient({});
    const probe = (async () => {
      while (!done) {
        const t0 = performance.now();
        try {
          const health = await fetch(`${server.baseUrl}/healthz`, { client: probeClient });
          await health.body?.cancel();
          if (health.ok) latencies.push(performance.now() - t0);
          else probeErrors++;
        } catch {
          probeErrors++;
        }
      }
    })();
    const started = performance.now();
    const ids = await Promise.all(Array.from({ length: CLIENTS }, async () => {
      for (;;) {
        let response: Response;
        try {
          response = await fetch(`${server.baseUrl}/v1/reports`, {
            method: "POST",
            body,
            headers: { "content-type": "text/csv" },
          });
        } catch {
          // A refusal can close the connection before the client has sent
          // its whole body; fetch reports that as an error. Retry like a 503.
          statuses.set(0, (statuses.get(0) ?? 0) + 1);
          await new Promise((resolve) => setTimeout(resolve, 1000));
          continue;
        }
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status === 202) return (await response.json()).id as string;
        await response.body?.cancel();
        if (response.status !== 503) throw new Error(`Unexpected ${response.status}`);
        const wait = Number(response.headers.get("retry-after") ?? "1");
        await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      }
    }));
    const accepted = performance.now();
    for (const id of ids) {
      const report = await pollReport(server.baseUrl, id, { intervalMs: 50, timeoutMs: 600_000 });
      if (report.status !== "ready") throw new Error(`Report ${id}: ${report.status}`);
    }
    const ready = performance.now();
    done = true;
    await probe;
    latencies.sort((a, b) => a - b);
    console.table({
      "clients x body MB": `${CLIENTS} x ${(body.byteLength / 1e6).toFixed(1)}`,
      "all accepted (s)": +((accepted - started) / 1000).toFixed(1),
      "all ready (s)": +((ready - started) / 1000).toFixed(1),
      "POST answers (0: connection closed)": JSON.stringify(Object.fromEntries(statuses)),
      "server peak RSS MB (goal < 400)": Math.round(await peakRssMb(server.pid)),
      "/healthz samples (failed)": `${latencies.length} (${probeErrors})`,
      "/healthz p50 ms": +percentile(latencies, 0.5).toFixed(2),
      "/healthz p99 ms (goal < 50)": +percentile(latencies, 0.99).toFixed(2),
      "/healthz max ms": +(latencies.at(-1) ?? NaN).toFixed(2),
    });
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

if (import.meta.main) await main();
