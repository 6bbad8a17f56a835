/**
 * The shipped server for benchmarks: `deno run -P main.ts serve` as a
 * subprocess, as an operator runs it (the connection guard, access lines on
 * stdout, metrics and spans, rate limiting, no API keys), with a ready report
 * to read.
 *
 * Only two settings differ from the defaults, both so the benchmark measures
 * the read path rather than a refusal: the read rate limit is far above what
 * one machine can send (it is still checked on every request), and the
 * database lives in a fresh directory under ./data.
 *
 * @module
 */
import { makeDataDir, REPO_ROOT, RUN_ARGS } from "../tests/helpers/server_process.ts";

/** A running `main.ts serve` with one ready report. */
export interface ShippedServer {
  /** Its process id (for CPU time). */
  pid: number;
  /** `http://127.0.0.1:<port>`. */
  baseUrl: string;
  /** A ready report's id. */
  reportId: string;
  /** SIGTERM, wait, remove its data directory. */
  stop(): Promise<void>;
}

const CSV = "timestamp,value,volume\n" +
  Array.from({ length: 500 }, (_, i) => `${1577836800 + i * 86400},${i % 17},${i * 3}`).join("\n");

/** A port that was free a moment ago (main.ts prints its port only on stdout, which is discarded). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/**
 * Starts `main.ts serve`, uploads a 500-row CSV and waits until its report is
 * ready. `env` adds or overrides variables.
 */
export async function startShipped(env: Record<string, string> = {}): Promise<ShippedServer> {
  const dataDir = await makeDataDir();
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [...RUN_ARGS, "serve"],
    cwd: REPO_ROOT,
    env: {
      NO_COLOR: "1",
      PORT: String(port),
      HOST: "127.0.0.1",
      REPORTD_DB: `${dataDir}/reportd.db`,
      REPORTD_RATE_READ_PER_S: "1000000",
      REPORTD_RATE_READ_BURST: "1000000",
      ...env,
    },
    // The access lines go where a service's stdout goes when nobody reads it
    // closely: the cost measured is reportd's writing, not a reader's parsing.
    stdout: "null",
    stderr: "null",
  }).spawn();
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // Exited already.
    }
    await child.status;
    await Deno.remove(dataDir, { recursive: true });
  };
  try {
    await waitFor(async () => (await fetchText(`${baseUrl}/healthz`))?.status === 200, child);
    const created = await fetch(`${baseUrl}/v1/reports?name=bench`, {
      method: "POST",
      body: CSV,
      headers: { "content-type": "text/csv" },
    });
    const { id } = await created.json();
    await waitFor(async () => {
      const report = await fetchText(`${baseUrl}/v1/reports/${id}`);
      return report !== undefined && JSON.parse(report.text).status === "ready";
    }, child);
    return { pid: child.pid, baseUrl, reportId: id, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function fetchText(url: string): Promise<{ status: number; text: string } | undefined> {
  try {
    const response = await fetch(url);
    return { status: response.status, text: await response.text() };
  } catch {
    return undefined; // Not listening yet.
  }
}

// Polls: the server's stdout, which would say when it listens, is discarded.
async function waitFor(ready: () => Promise<boolean>, child: Deno.ChildProcess): Promise<void> {
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + 30_000;
  while (!await ready()) {
    if (exited) throw new Error("main.ts serve exited during the benchmark's start");
    if (Date.now() > deadline) throw new Error("main.ts serve did not become ready in 30 s");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
