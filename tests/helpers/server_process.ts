/**
 * Runs `main.ts` as a real subprocess with the production permission set
 * (`deno run -P`), on a free loopback port and a database in a fresh directory
 * under ./data (the only place that permission set may write).
 *
 * @module
 */

/** The repository root, where deno.json and main.ts live. */
export const REPO_ROOT: string = new URL("../../", import.meta.url).pathname;

/**
 * How every test runs reportd: `-P` loads `permissions.default` from deno.json,
 * the set that `tools/compile.ts` also builds the executable with (a test
 * checks that both stay on that one set).
 */
export const RUN_ARGS: readonly string[] = ["run", "-P", "main.ts"];

/** A running reportd process. */
export interface ServerProcess extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`. */
  baseUrl: string;
  /** The port it listens on. */
  port: number;
  /** Its process id. */
  pid: number;
  /** The directory holding its database. */
  dataDir: string;
  /** Every stdout line so far (JSON log lines). */
  logs: string[];
  /** Sends `signal` and resolves with the exit status once the process ended. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Options for {@linkcode startServer}. */
export interface StartServerOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Reuse this data directory (for restarts) instead of making one. */
  dataDir?: string;
  /** Give up waiting for the "Listening" line after this many ms (default 30 s). */
  startTimeoutMs?: number;
  /**
   * Run it as an operator does, `deno task start`, in a process group of its
   * own (`setsid`); `stop()` then signals the whole group, as Ctrl-C in a
   * terminal, `timeout` or systemd's default `KillMode` do.
   */
  viaTask?: boolean;
  /** Run it with this open-file limit (`prlimit --nofile`), soft and hard. */
  openFileLimit?: number;
}

/** Runs `deno run -P main.ts <args>` to completion and returns its output. */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...RUN_ARGS, ...args],
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1", ...options.env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Makes a fresh directory under ./data for one test's database. */
export async function makeDataDir(): Promise<string> {
  await Deno.mkdir(`${REPO_ROOT}data`, { recursive: true });
  return await Deno.makeTempDir({ dir: `${REPO_ROOT}data`, prefix: "test-" });
}

/**
 * Starts `main.ts serve` and waits for its "Listening" log line, which carries
 * the port the OS picked.
 */
export async function startServer(options: StartServerOptions = {}): Promise<ServerProcess> {
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? await makeDataDir();
  // setsid and prlimit exec in place (a spawned child leads no group yet),
  // so the child's pid stays reportd's and is also its process group's id.
  const limit = options.openFileLimit === undefined
    ? []
    : ["prlimit", `--nofile=${options.openFileLimit}:${options.openFileLimit}`];
  const command = options.viaTask
    ? ["setsid", ...limit, Deno.execPath(), "task", "start"]
    : [...limit, Deno.execPath(), ...RUN_ARGS, "serve"];
  const child = new Deno.Command(command[0], {
    args: command.slice(1),
    cwd: REPO_ROOT,
    env: {
      NO_COLOR: "1",
      PORT: "0",
      HOST: "127.0.0.1",
      REPORTD_DB: `${dataDir}/reportd.db`,
      LOG_FORMAT: "json",
      // One test client polls far faster than a real one; the tests of the
      // rate limits themselves set these.
      REPORTD_RATE_READ_PER_S: "0",
      REPORTD_RATE_WRITE_PER_S: "0",
      ...options.env,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  const logs: string[] = [];
  const listening = Promise.withResolvers<number>();
  const stdoutDone = collectLines(child.stdout, (line) => {
    logs.push(line);
    const port = listeningPort(line);
    if (port !== undefined) listening.resolve(port);
  });
  const stderrText = new Response(child.stderr).text();
  child.status.then((status) => {
    listening.reject(new Error(`reportd exited with ${status.code} before listening`));
  });
  const timer = setTimeout(
    () => listening.reject(new Error("reportd did not start listening in time")),
    options.startTimeoutMs ?? 30_000,
  );

  let port: number;
  try {
    port = await listening.promise;
  } catch (error) {
    try {
      if (options.viaTask) Deno.kill(-child.pid, "SIGKILL");
      else child.kill("SIGKILL");
    } catch {
      // It exited on its own (a configuration error): that is what is reported.
    }
    await child.status;
    await stdoutDone;
    if (ownsDataDir) await Deno.remove(dataDir, { recursive: true });
    throw new Error(`${(error as Error).message}\n${await stderrText}\n${logs.join("\n")}`);
  } finally {
    clearTimeout(timer);
  }

  let exited: Promise<Deno.CommandStatus> | undefined;
  async function stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    if (exited === undefined) {
      if (options.viaTask) Deno.kill(-child.pid, signal);
      else child.kill(signal);
      exited = child.status;
    }
    const status = await exited;
    await stdoutDone;
    await stderrText;
    return status;
  }

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid,
    dataDir,
    logs,
    stop,
    async [Symbol.asyncDispose]() {
      await stop("SIGKILL");
      if (options.viaTask) {
        try {
          Deno.kill(-child.pid, "SIGKILL");
        } catch {
          // The whole group is gone already.
        }
      }
      if (ownsDataDir) await Deno.remove(dataDir, { recursive: true });
    },
  };
}

/** A JSON log record: the message template and its flattened properties. */
// deno-lint-ignore no-explicit-any -- log properties differ per line; tests read them by name
export type LogRecord = Record<string, any>;

/**
 * The process's log lines so far, parsed (LOG_FORMAT=json; `message` is the
 * template, e.g. "Job finished for report {report_id}: ...").
 */
export function logRecords(server: Pick<ServerProcess, "logs">): LogRecord[] {
  return server.logs.flatMap((line) => {
    try {
      return [JSON.parse(line)];
    } catch {
      return [];
    }
  });
}

function listeningPort(line: string): number | undefined {
  try {
    const record = JSON.parse(line);
    if (String(record.message).startsWith("Listening on")) return record.port;
  } catch {
    // Not a JSON log line (should not happen with LOG_FORMAT=json); ignore it.
  }
  return undefined;
}

async function collectLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let buffer = "";
  // Typed explicitly: with npm:pg's Node types in the same type-check (the
  // PostgreSQL tests), TextDecoderStream's writable side has two declarations.
  const decoder = new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>;
  for await (const chunk of stream.pipeThrough(decoder)) {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf("\n")) !== -1) {
      onLine(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
    }
  }
  if (buffer !== "") onLine(buffer);
}
