/**
 * Read-path benchmark: throughput of `GET /v1/reports/{id}` as `main.ts serve`
 * ships it and as the app runs with telemetry off and on, next to a bare
 * `Deno.serve`, measured in the same run, against issue 15's goals:
 *
 * 1. `shipped` (the real `main.ts serve` process with its defaults: the
 *    connection guard, access lines, metrics and spans, rate limiting with a
 *    limit too high to refuse, no API keys) at least 0.5x `bare`;
 * 2. `on` (telemetry) costs at most 15% of `off`;
 * 3. `healthz` (`GET /healthz` of the same shipped process) at least 0.8x
 *    `bare`;
 * 4. p99 under 5 ms for `shipped`.
 *
 * `floor` and `floor-healthz` serve the shipped process's own responses (a
 * report read and `/healthz`, captured once per run, headers and body) from a
 * bare `Deno.serve` that does nothing else: the response alone, built the
 * cheapest way the runtime offers (a `clone()` of a prepared response plus
 * the per-request headers). Their ratios to `bare` are the most goals 1 and 3
 * can read on this runtime and machine, whatever reportd does.
 *
 * `shipped` and `healthz` run `deno run -P main.ts serve` as a subprocess;
 * the other modes of bench/read_path_server.ts (bare `Deno.serve`, telemetry
 * off, on, on without access lines, on with OTLP export) run the app in a
 * harness process of their own, on loopback, and
 * `wrk` (Debian's `wrk` package: one C thread, so it takes one core and the
 * server the other) loads it with 32 connections. The modes take turns for
 * several rounds, so a slow moment of the machine hits them alike; the
 * median round counts.
 *
 * Usage: deno task bench:read-path [--seconds=10] [--rounds=3] [--connections=32]
 *   [--modes=bare,floor,shipped,floor-healthz,healthz,keyed,off,on,quiet,otlp]
 *   [--database=sqlite|postgres|postgres://...]
 * Results: docs/benchmarks.md. Timings belong here, never in tests.
 *
 * @module
 */
import { benchDatabase, databaseChoice } from "./database.ts";
import { type CapturedResponse, MODES as HARNESS_MODES } from "./read_path_server.ts";
import { startShipped } from "./shipped_server.ts";

/**
 * Every mode: the harness's, plus the shipped process on two paths, and
 * `keyed`: the shipped read with a database API key created by `main.ts keys
 * create` and presented on every request (not part of a goal; it shows what
 * the key lookup costs, a round trip per request on PostgreSQL without a cache).
 */
const MODES = [...HARNESS_MODES, "shipped", "healthz", "keyed", "floor-healthz"] as const;
type Mode = (typeof MODES)[number];

interface Options {
  seconds: number;
  rounds: number;
  connections: number;
  modes: Mode[];
  /** sqlite, postgres or a postgres:// URL (bench/database.ts). */
  database: string;
}

interface Measurement {
  requestsPerSecond: number;
  /** Server CPU time (user + system, all threads) per request, in microseconds. */
  cpuMicrosPerRequest: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

const SERVER = new URL("./read_path_server.ts", import.meta.url).pathname;

function parseOptions(args: string[]): Options {
  const options: Options = {
    seconds: 10,
    rounds: 3,
    connections: 32,
    modes: ["bare", "floor", "shipped", "floor-healthz", "healthz", "off", "on", "quiet"],
    database: databaseChoice(args),
  };
  for (const arg of args) {
    if (arg.startsWith("--database=")) continue;
    const modes = arg.match(/^--modes=([a-z,-]+)$/)?.[1].split(",");
    if (modes !== undefined && modes.every((mode) => (MODES as readonly string[]).includes(mode))) {
      options.modes = modes as Mode[];
      continue;
    }
    const match = arg.match(/^--(seconds|rounds|connections)=(\d+)$/);
    if (match === null) throw new Error(`Unknown argument ${arg}`);
    options[match[1] as "seconds" | "rounds" | "connections"] = Number(match[2]);
  }
  if (!options.modes.includes("off")) options.modes.unshift("off");
  return options;
}

async function requireWrk(): Promise<void> {
  try {
    await new Deno.Command("wrk", { args: ["--version"], stdout: "null", stderr: "null" })
      .output();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    console.error("This benchmark needs wrk: apt-get install -y wrk");
    Deno.exit(1);
  }
}

/** A collector that accepts everything and keeps nothing, for the `otlp` mode. */
function startSinkCollector(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    await request.arrayBuffer();
    return new Response(null, { status: 200 });
  });
}

async function startBenchServer(
  mode: Mode,
  dir: string,
  collector: string,
  database: string,
): Promise<{ pid: number; url: string; headers?: string[]; stop(): Promise<void> }> {
  if (mode === "floor" || mode === "floor-healthz") {
    return harnessTarget("floor", await capturedResponse(mode, dir, database), collector);
  }
  const postgres = await benchDatabase(database);
  if (mode === "shipped" || mode === "healthz" || mode === "keyed") {
    return shippedTarget(mode, postgres);
  }
  const location = postgres?.url ?? `${dir}/${mode}-${crypto.randomUUID()}.db`;
  const target = await harnessTarget(mode, location, collector);
  return {
    ...target,
    async stop(): Promise<void> {
      await target.stop();
      await postgres?.[Symbol.asyncDispose]();
    },
  };
}

/** The floor modes' responses, captured once per run (file paths by mode). */
const captured = new Map<Mode, string>();

/**
 * The shipped server's report read (or `/healthz`), headers and body, in a
 * JSON file for `read_path_server.ts floor`. `X-Request-Id` and the
 * `RateLimit-*` headers change per request, so the floor appends them per
 * request as the fast lane does.
 */
async function capturedResponse(mode: Mode, dir: string, database: string): Promise<string> {
  const known = captured.get(mode);
  if (known !== undefined) return known;
  // The shipped process as its own modes run it (stop() also ends a private PostgreSQL).
  const server = await shippedTarget(
    mode === "floor-healthz" ? "healthz" : "shipped",
    await benchDatabase(database),
  );
  try {
    const response = await fetch(server.url);
    const body = await response.text();
    if (response.status !== 200) throw new Error(`${server.url} answered ${response.status}`);
    const headers = [...response.headers].filter(([name]) =>
      name !== "date" && name !== "content-length"
    );
    const perRequest = headers.map(([name]) => name)
      .filter((name) => name === "x-request-id" || name.startsWith("ratelimit"));
    const file = `${dir}/${mode}.json`;
    const saved: CapturedResponse = { headers, perRequest, body };
    await Deno.writeTextFile(file, JSON.stringify(saved));
    captured.set(mode, file);
    return file;
  } finally {
    await server.stop();
  }
}

/** A process of bench/read_path_server.ts in `mode`, ready to be loaded. */
async function harnessTarget(
  mode: (typeof HARNESS_MODES)[number],
  location: string,
  collector: string,
): Promise<{ pid: number; url: string; stop(): Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-P=test", SERVER, mode, location, collector],
    env: { NO_COLOR: "1" },
    // The log lines go where a service's stdout goes when nobody reads it
    // closely: the cost measured is reportd's writing, not a reader's parsing.
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let ready: { port: number; id: string } | undefined;
  while (ready === undefined) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`The ${mode} server exited before listening`);
    buffer += value;
    for (const line of buffer.split("\n").slice(0, -1)) {
      if (line.startsWith('{"bench_ready"')) ready = JSON.parse(line).bench_ready;
      else if (line.trim() !== "" && !line.includes("experimental feature")) console.error(line);
    }
    buffer = buffer.slice(buffer.lastIndexOf("\n") + 1);
  }
  const drained = (async () => {
    while (!(await lines.read()).done) { /* stderr after start: nothing expected */ }
  })();
  return {
    pid: child.pid,
    url: `http://127.0.0.1:${ready.port}/v1/reports/${ready.id}`,
    async stop(): Promise<void> {
      child.kill("SIGTERM");
      await child.status;
      await drained;
    },
  };
}

async function shippedTarget(
  mode: "shipped" | "healthz" | "keyed",
  postgres: ({ url: string } & AsyncDisposable) | undefined,
) {
  const server = await startShipped(
    postgres === undefined ? {} : { REPORTD_DATABASE_URL: postgres.url },
    { withKey: mode === "keyed" },
  );
  return {
    pid: server.pid,
    url: mode === "healthz"
      ? `${server.baseUrl}/healthz`
      : `${server.baseUrl}/v1/reports/${server.reportId}`,
    headers: server.key === undefined ? [] : [`Authorization: Bearer ${server.key}`],
    async stop(): Promise<void> {
      await server.stop();
      await postgres?.[Symbol.asyncDispose]();
    },
  };
}

/** CPU time the process has used so far, in clock ticks (1/100 s on Linux). */
async function cpuTicks(pid: number): Promise<number> {
  // Deno wants --allow-all to read /proc directly, so cat reads it for us.
  const output = await new Deno.Command("cat", { args: [`/proc/${pid}/stat`] }).output();
  // The command name (field 2) may hold spaces; count fields after its ")".
  const fields = new TextDecoder().decode(output.stdout).split(") ")[1].split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

async function measure(
  target: { pid: number; url: string; headers?: string[] },
  options: Options,
): Promise<Measurement> {
  const before = await cpuTicks(target.pid);
  const run = await runWrk(target, options.seconds, options.connections);
  const ticks = await cpuTicks(target.pid) - before;
  return { ...run, cpuMicrosPerRequest: (ticks * 10_000) / run.requests };
}

async function runWrk(
  target: { url: string; headers?: string[] },
  seconds: number,
  connections: number,
): Promise<Omit<Measurement, "cpuMicrosPerRequest"> & { requests: number }> {
  const headers = (target.headers ?? []).flatMap((header) => ["-H", header]);
  const output = await new Deno.Command("wrk", {
    args: ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", ...headers, target.url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success) throw new Error(`wrk failed: ${new TextDecoder().decode(output.stderr)}`);
  const requestsPerSecond = Number(text.match(/Requests\/sec:\s+([\d.]+)/)?.[1]);
  const non2xx = Number(text.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0);
  const socketErrors = text.match(/Socket errors: (.*)/)?.[1]?.match(/\d+/g)?.map(Number) ?? [];
  return {
    requestsPerSecond,
    requests: Number(text.match(/(\d+) requests in/)?.[1]),
    p50Ms: latencyMs(text, "50%"),
    p99Ms: latencyMs(text, "99%"),
    errors: non2xx + socketErrors.reduce((sum, n) => sum + n, 0),
  };
}

function latencyMs(text: string, label: string): number {
  const match = text.match(new RegExp(`^\\s+${label}\\s+([\\d.]+)(us|ms|s)$`, "m"));
  if (match === null) return NaN;
  const scale = { us: 0.001, ms: 1, s: 1000 }[match[2] as "us" | "ms" | "s"];
  return Number(match[1]) * scale;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  const options = parseOptions(Deno.args);
  await requireWrk();
  console.error(`load average: ${Deno.loadavg().map((n) => n.toFixed(2)).join(", ")}`);
  const dir = await Deno.makeTempDir({ prefix: "reportd-bench-" });
  const collector = startSinkCollector();
  const results = new Map<Mode, Measurement[]>(MODES.map((mode) => [mode, []]));
  try {
    for (let round = 1; round <= options.rounds; round++) {
      for (const mode of options.modes) {
        const server = await startBenchServer(
          mode,
          dir,
          `http://127.0.0.1:${collector.addr.port}`,
          options.database,
        );
        try {
          await runWrk(server, 2, options.connections); // warm-up: JIT, caches
          const measured = await measure(server, options);
          results.get(mode)!.push(measured);
          console.error(
            `round ${round} ${mode.padEnd(4)} ${measured.requestsPerSecond.toFixed(0)} req/s, ` +
              `${measured.cpuMicrosPerRequest.toFixed(1)} CPU us/request`,
          );
        } finally {
          await server.stop();
        }
      }
    }
  } finally {
    await collector.shutdown();
    await Deno.remove(dir, { recursive: true });
  }

  const off = median(results.get("off")!.map((m) => m.requestsPerSecond));
  const offCpu = median(results.get("off")!.map((m) => m.cpuMicrosPerRequest));
  const bare = median(results.get("bare")!.map((m) => m.requestsPerSecond)) || NaN;
  console.log(
    `\nGET /v1/reports/{id} on ${options.database === "sqlite" ? "SQLite" : "PostgreSQL"}, ` +
      `${options.connections} connections, ${options.seconds} s x ` +
      `${options.rounds} rounds (median round)\n`,
  );
  console.log(
    "| Mode | Requests/s | vs. off | CPU us/request | vs. off | p50 ms | p99 ms | vs. bare |",
  );
  console.log("| ---- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const mode of options.modes) {
    const runs = results.get(mode)!;
    const rps = median(runs.map((m) => m.requestsPerSecond));
    const cpu = median(runs.map((m) => m.cpuMicrosPerRequest));
    const errors = runs.reduce((sum, m) => sum + m.errors, 0);
    const versusOff = (value: number, base: number) =>
      mode === "bare" ? "" : `${value >= base ? "+" : ""}${((value / base - 1) * 100).toFixed(1)}%`;
    console.log(
      `| ${mode} | ${rps.toFixed(0)} | ${versusOff(rps, off)} | ${cpu.toFixed(1)} | ` +
        `${versusOff(cpu, offCpu)} | ${median(runs.map((m) => m.p50Ms)).toFixed(2)} | ` +
        `${median(runs.map((m) => m.p99Ms)).toFixed(2)} | ${(rps / bare).toFixed(2)} |` +
        (errors > 0 ? ` ${errors} errors` : ""),
    );
  }
  printGoals(results);
}

/**
 * Issue 15's goals 1 to 4, each a median of per-round ratios (rounds
 * alternate modes). A goal whose modes were not run says so: `--modes=keyed`
 * alone once ended in a TypeError here, before the process could stop its
 * private PostgreSQL cluster, and the cluster kept the machine's benchmark
 * lock.
 */
function printGoals(results: Map<Mode, Measurement[]>): void {
  const ran = (mode: Mode) => results.get(mode)!.length > 0;
  const ratio = (mode: Mode, base: Mode): number => {
    const a = results.get(mode)!, b = results.get(base)!;
    const rounds = Math.min(a.length, b.length);
    return median(
      Array.from({ length: rounds }, (_, i) => a[i].requestsPerSecond / b[i].requestsPerSecond),
    );
  };
  const verdict = (met: boolean) => (met ? "met" : "NOT met");
  const goal = (label: string, modes: Mode[], line: () => string) =>
    console.log(
      `${label} ${modes.every(ran) ? line() : `not measured (needs ${modes.join(", ")})`}`,
    );
  console.log("\nGoals (median of per-round ratios):");
  goal("1. shipped / bare =", ["shipped", "bare"], () => {
    const shipped = ratio("shipped", "bare");
    return `${shipped.toFixed(2)} (>= 0.5: ${verdict(shipped >= 0.5)})`;
  });
  goal("2. telemetry cost (1 - on / off) =", ["on", "off"], () => {
    const telemetry = 1 - ratio("on", "off");
    return `${(telemetry * 100).toFixed(1)}% (<= 15%: ${verdict(telemetry <= 0.15)})`;
  });
  goal("3. healthz / bare =", ["healthz", "bare"], () => {
    const healthz = ratio("healthz", "bare");
    return `${healthz.toFixed(2)} (>= 0.8: ${verdict(healthz >= 0.8)})`;
  });
  // The floors are context, not goals: printed only when measured.
  if (ran("floor") && ran("bare")) {
    console.log(
      `   floor / bare = ${ratio("floor", "bare").toFixed(2)} (the most goal 1 can read here)`,
    );
  }
  if (ran("floor-healthz") && ran("bare")) {
    console.log(
      `   floor-healthz / bare = ${
        ratio("floor-healthz", "bare").toFixed(2)
      } (the most goal 3 can read here)`,
    );
  }
  goal("4. shipped p99 =", ["shipped"], () => {
    const p99 = median(results.get("shipped")!.map((m) => m.p99Ms));
    return `${p99.toFixed(2)} ms (< 5 ms: ${verdict(p99 < 5)})`;
  });
}

if (import.meta.main) await main();
