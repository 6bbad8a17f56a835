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
import { makeDataDir, REPO_ROOT, RUN_ARGS, runCli } from "../tests/helpers/server_process.ts";

/** A running `main.ts serve` with one ready report. */
export interface ShippedServer {
  /** Its process id (for CPU time). */
  pid: number;
  /** `http://127.0.0.1:<port>`. */
  baseUrl: string;
  /** A ready report's id. */
  reportId: string;
  /** With `withKey`: the database API key (read and write) every request must carry. */
  key?: string;
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
 * ready. `env` adds or overrides variables; `options.withKey` first creates a
 * database API key with `main.ts keys create`, as an operator would, so
 * every request must present it.
 */
export async function startShipped(
  env: Record<string, string> = {},
  options: { withKey?: boolean } = {},
): Promise<ShippedServer> {
  const dataDir = await makeDataDir();
  const port = freePort();
  const serverEnv = {
    NO_COLOR: "1",
    PORT: String(port),
    HOST: "127.0.0.1",
    REPORTD_DB: `${dataDir}/reportd.db`,
    REPORTD_RATE_READ_PER_S: "1000000",
    REPORTD_RATE_READ_BURST: "1000000",
    ...env,
  };
  const child = new Deno.Command(Deno.execPath(), {
    args: [...RUN_ARGS, "serve"],
    cwd: REPO_ROOT,
    env: serverEnv,
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
    const key = options.withKey ? await createKey(serverEnv) : undefined;
    const authorization: Record<string, string> = key === undefined
      ? {}
      : { authorization: `Bearer ${key}` };
    const created = await fetch(`${baseUrl}/v1/reports?name=bench`, {
      method: "POST",
      body: CSV,
      headers: { "content-type": "text/csv", ...authorization },
    });
    const { id } = await created.json();
    await waitFor(async () => {
      const report = await fetchText(`${baseUrl}/v1/reports/${id}`, authorization);
      return report !== undefined && JSON.parse(report.text).status === "ready";
    }, child);
    return { pid: child.pid, baseUrl, reportId: id, key, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** `main.ts keys create` against the server's database: the key it prints. */
async function createKey(env: Record<string, string>): Promise<string> {
  const created = await runCli(["keys", "create", "--scopes", "read,write", "--name", "bench"], {
    env,
  });
  if (created.code !== 0) throw new Error(`keys create failed: ${created.stderr}`);
  return created.stdout.trim();
}

async function fetchText(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string } | undefined> {
  try {
    const response = await fetch(url, { headers });
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
