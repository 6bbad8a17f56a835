/**
 * reportd's command-line entry: `serve` (default), `migrate`, `healthcheck`,
 * `keys`, `copy-to-postgres`, `--help`, `--version`.
 *
 * This is the only module that reads the environment, opens the database for
 * real and handles signals; everything below it receives what it needs.
 *
 * @module
 */
import { dirname } from "node:path";
import denoConfig from "./deno.json" with { type: "json" };
import {
  closeDatabase,
  type Database,
  databaseHost,
  databaseSizeBytes,
  migrateDatabase,
  openDatabase,
  redactDatabaseUrl,
  StorageError,
} from "./db/mod.ts";
import { countReportsByStatus } from "./db/reports_repo.ts";
import { vacuumDatabase } from "./db/space.ts";
import { checkpointBytesFor, DiskSpace } from "./services/runtime/disk_space.ts";
import { copyDatabase, CopyError } from "./db/copy.ts";
import { createHandler } from "./routes/mod.ts";
import { InflightRequests } from "./routes/middleware/inflight.ts";
import { WorkerPool } from "./services/jobs/pool.ts";
import { JobQueue } from "./services/jobs/queue.ts";
import { InstanceRegistry } from "./services/runtime/instances.ts";
import { Importer } from "./services/providers/imports.ts";
import { createProviders } from "./services/providers/mod.ts";
import { BUILD_COMMIT_VARIABLE, formatVersion } from "./services/runtime/build_info.ts";
import {
  type Config,
  ConfigError,
  ENVIRONMENT_VARIABLES,
  loadConfig,
  readEnvironment,
} from "./services/runtime/config.ts";
import { configureLogging, getLogger, resetLogging } from "./services/telemetry/logger.ts";
import { startApiKeys } from "./services/security/api_keys.ts";
import {
  defaultMaxConnections,
  freeDescriptors,
  serveGuarded,
} from "./services/security/connection_guard.ts";
import { databasePathProblem, explainStartupError } from "./services/runtime/startup_errors.ts";
import { runKeysCommand } from "./services/security/key_commands.ts";
import { startTelemetry, type Telemetry } from "./services/telemetry/mod.ts";

/** The version from deno.json. */
export const VERSION: string = denoConfig.version;

const USAGE = `reportd ${VERSION}: time-series reports over HTTP

Usage: reportd [command]

Commands:
  serve        Run the HTTP service (default)
  migrate      Apply pending database migrations and exit
  vacuum       Rewrite the database compactly, giving free space back (stop the server first)
  healthcheck  GET /healthz on the configured port; exit 0 when healthy, 1 otherwise
  keys         Manage API keys: keys create --scopes read,write --name ci | list | revoke <id>
  copy-to-postgres  Copy the SQLite database at REPORTD_DB into the empty PostgreSQL
               database at REPORTD_DATABASE_URL, verified by counts and checksums

Options:
  -h, --help     Show this help
  -V, --version  Show the version

Environment:
${
  Object.entries(ENVIRONMENT_VARIABLES).map(([name, spec]) =>
    `  ${name.padEnd(28)} ${spec.description} (default: ${spec.default || "unset"})`
  ).join("\n")
}
`;

const log = getLogger(["reportd", "main"]);

/**
 * A second signal of the same kind as the first counts ("exit now") only
 * this long after it; a different one (SIGINT after SIGTERM) counts at once.
 * Ctrl-C in a terminal, `timeout` and systemd's default `KillMode` signal
 * the whole process group: under `deno task start` the task runner and the
 * server both get the signal, and the runner forwards its copy to the
 * server, which arrived 1 to 3 ms after the first in our trials (half of
 * eight Ctrl-Cs used to exit at once, undrained). The task runner cannot
 * `exec` the server, and signals carry no sender here, so kind and time are
 * what tell a forwarded copy from an operator who means it; a person pressing
 * Ctrl-C again to force the exit takes longer than a second.
 */
const SECOND_SIGNAL_GRACE_MS = 1000;

/**
 * Runs the command in `args` and resolves to the process exit code.
 *
 * @example Print the version
 * ```ts ignore
 * import { main } from "./main.ts";
 * await main(["--version"]); // prints "reportd 0.1.0"
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const command = args[0] ?? "serve";
  // Anywhere on the line: `serve --help` must print help, not start a server.
  if (command === "help" || args.some((arg) => arg === "-h" || arg === "--help")) {
    console.log(USAGE);
    return 0;
  }
  if (command === "-V" || command === "--version") {
    // The commit is embedded by `deno task compile --commit` (see services/runtime/build_info.ts).
    console.log(formatVersion(VERSION, Deno.env.get(BUILD_COMMIT_VARIABLE)));
    return 0;
  }
  if (
    !["serve", "migrate", "vacuum", "healthcheck", "keys", "copy-to-postgres"].includes(command)
  ) {
    console.error(`Unknown command ${JSON.stringify(command)}; see reportd --help`);
    return 2;
  }
  let config: Config;
  try {
    config = loadConfig(readEnvironment());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    return 1;
  }
  if (command === "healthcheck") return await healthcheck(config);
  // Operator mistakes are one line on stderr and exit 1 (services/runtime/startup_errors.ts).
  const startup = {
    databasePath: config.databasePath,
    host: config.host,
    port: config.port,
    granted: denoConfig.permissions.default,
  };
  const unusable = config.databaseUrl === undefined
    ? databasePathProblem(config.databasePath, startup.granted)
    : undefined;
  if (unusable !== undefined) {
    console.error(unusable);
    return 1;
  }
  if (command === "copy-to-postgres") return await copyToPostgres(config);
  try {
    if (command === "keys") return await keys(config, args.slice(1));
    await configureLogging({
      level: config.logLevel,
      format: config.logFormat,
      moduleLevels: config.logModuleLevels,
    });
    try {
      if (command === "migrate") return await migrate(config);
      if (command === "vacuum") return await vacuum(config);
      return await serve(config);
    } finally {
      await resetLogging();
    }
  } catch (error) {
    const line = explainStartupError(error, startup);
    if (line === undefined) throw error;
    console.error(line);
    return 1;
  }
}

async function migrate(config: Config): Promise<number> {
  const db = await open(config);
  if (typeof db === "number") return db;
  try {
    const result = await migrateDatabase(db);
    log.info("Schema at version {to} (was {from}); applied {count} migration(s)", {
      ...result,
      count: result.applied.length,
      database: db.location,
    });
    return 0;
  } catch (error) {
    return storageFailure(error);
  } finally {
    await closeDatabase(db);
  }
}

async function vacuum(config: Config): Promise<number> {
  if (config.databaseUrl !== undefined) {
    log.error(
      "vacuum is for SQLite files; PostgreSQL's autovacuum reuses space by itself (run " +
        "VACUUM FULL yourself to shrink tables)",
    );
    return 1;
  }
  const { before, after } = await vacuumDatabase(config.databasePath);
  log.info("Vacuumed {database}: {before} bytes before, {after} after", {
    database: config.databasePath,
    before,
    after,
  });
  return 0;
}

/**
 * Opens the configured database without migrating it, or logs one line that
 * says what is wrong and returns exit code 1: a PostgreSQL host the
 * permission set does not grant, a SQLite file another process holds.
 */
async function open(config: Config): Promise<Database | number> {
  if (config.databaseUrl !== undefined) {
    const problem = databasePermissionProblem(config.databaseUrl);
    if (problem !== undefined) {
      log.error(problem);
      return 1;
    }
  }
  try {
    return await openDatabase(config.databaseUrl ?? config.databasePath, {
      migrate: false,
      poolSize: config.databasePool,
      checkpointBytes: checkpointBytesFor(config.diskReserveBytes),
    });
  } catch (error) {
    return storageFailure(error);
  }
}

// A StorageError's message is written for operators; anything else is a bug.
function storageFailure(error: unknown): number {
  if (!(error instanceof StorageError)) throw error;
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  log.error("{message}", { message: `${error.message}${cause}` });
  return 1;
}

/**
 * Says why the database host cannot be reached under the permission set, or
 * undefined when it can. The host is an operator's addition (docs/decisions/
 * 0016-postgres-scale-out.md), so a missing grant is one clear line at start.
 */
function databasePermissionProblem(url: string): string | undefined {
  const host = databaseHost(url);
  if (Deno.permissions.querySync({ name: "net", host }).state === "granted") return undefined;
  return `REPORTD_DATABASE_URL points at ${host}, which the permission set does not allow; ` +
    `add "${host}" to permissions.default.net in deno.json, or run with ` +
    `--allow-net=${host} (the container image grants the host "postgres"; see README, PostgreSQL)`;
}

/**
 * The handle the job queue uses: on PostgreSQL a pool of its own (the
 * workers plus two, named `reportd-jobs` in `pg_stat_activity`), so claims,
 * results and upload reads never wait behind requests for a connection. In
 * one pool, 32 clients of small uploads kept the jobs' statements queued
 * behind theirs: 383 and 412 reports ready in 6 s against 713 and 900 with
 * their own pool, while uploads were accepted alike (docs/benchmarks.md,
 * issue 15). SQLite is one connection in one process: the same handle.
 */
function openJobsDatabase(db: Database, config: Config): Promise<Database> {
  if (db.exclusive || config.databaseUrl === undefined) return Promise.resolve(db);
  return openDatabase(config.databaseUrl, {
    migrate: false,
    poolSize: config.workers + 2,
    applicationName: "reportd-jobs",
  });
}

async function serve(config: Config): Promise<number> {
  log.info("Starting reportd {version}", {
    version: VERSION,
    commit: Deno.env.get(BUILD_COMMIT_VARIABLE) ?? null,
    config: redactedConfig(config),
  });
  const unreachable = otlpPermissionProblem(config.telemetry.otlpEndpoint);
  if (unreachable !== undefined) {
    log.error(unreachable);
    return 1;
  }
  // A full disk must not stop the start: the reserve beside the database is
  // released first and written again once the service is up.
  const space = config.databaseUrl !== undefined || config.databasePath === ":memory:"
    ? undefined
    : new DiskSpace({
      reservePath: `${config.databasePath}-reserve`,
      reserveBytes: config.diskReserveBytes,
    });
  await space?.release();
  const opened = await open(config);
  if (typeof opened === "number") return opened;
  const db = opened;
  let migrations;
  try {
    migrations = await migrateDatabase(db);
  } catch (error) {
    await closeDatabase(db);
    return storageFailure(error);
  }
  const telemetry = startTelemetryFor(config);
  // Counted once the database is open, before workers and connections take any.
  const maxConnections = config.security.maxConnections ??
    defaultMaxConnections(freeDescriptors(dirname(config.databasePath)));
  log.info("Database {database} ({engine}) at schema version {to}", {
    database: db.location,
    engine: db.engine,
    ...migrations,
  });
  let access;
  try {
    access = await startApiKeys(db, {
      configured: config.security.apiKeys,
      file: config.security.apiKeysFile,
    });
  } catch (error) {
    log.error("{message}", { message: (error as Error).message });
    await closeDatabase(db);
    await telemetry.shutdown();
    return 1;
  }
  for (const warning of access.warnings) log.warn("{warning}", { warning });
  if (access.open) {
    log.warn(
      "Open mode: no API key is configured, so anyone who can reach this port may create, " +
        "read and delete reports (set REPORTD_API_KEYS, or create a key with " +
        "`deno run -P main.ts keys create --scopes read,write --name <name>`; with the " +
        "compiled binary, `reportd keys create ...`)",
    );
  }

  // Imports fetch CSV from market-data providers, through the upstream cache.
  const importer = new Importer({
    db,
    providers: createProviders({ config: config.providers, maxBytes: config.maxBodyBytes }),
  });
  // One name per process: the jobs it holds (`locked_by`) and its heartbeat.
  const instanceId = `pid-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  // Each instance enforces its share of the rate limits, from the number of
  // live instances (services/runtime/instances.ts: no database round trip per request).
  // SQLite's process lock makes this process the only one: nothing to share.
  const instances = db.exclusive ? undefined : new InstanceRegistry({ db, id: instanceId });
  await instances?.start();
  // Workers parse and compute; the queue feeds them from the database.
  const pool = new WorkerPool({ size: config.workers });
  const jobsDb = await openJobsDatabase(db, config);
  const queue = new JobQueue({
    db: jobsDb,
    holder: instanceId,
    pool,
    importer,
    maxAttempts: config.jobAttempts,
    maxPoints: config.maxPoints,
    failedRetentionMs: config.failedRetentionMs,
    telemetry: telemetry.jobs,
    leaseMs: config.jobLeaseMs,
    paused: space === undefined ? undefined : () => space.full() !== undefined,
    onDiskFull: space === undefined ? undefined : (error) => space.noteError(error),
  });
  telemetry.observeDatabase({
    sizeBytes: () => databaseSizeBytes(db),
    reportsByStatus: () => countReportsByStatus(db),
  });
  let shuttingDown = false;
  const inflight = new InflightRequests();
  const handler = createHandler({
    inflight,
    space,
    db,
    config,
    version: VERSION,
    jobs: queue,
    importer,
    isShuttingDown: () => shuttingDown,
    telemetry,
    security: {
      ...config.security,
      keys: access.keys,
      rateLimits: {
        read: config.security.rateRead,
        write: config.security.rateWrite,
        share: instances === undefined ? undefined : () => instances.share(),
      },
      body: {
        timeoutMs: config.security.bodyTimeoutMs,
        minBytesPerSecond: config.security.bodyMinBytesPerSecond,
      },
    },
  });
  // Signals are handled before the port is bound: a signal that arrives as
  // soon as "Listening" is logged must drain, not kill the process.
  const stopped = Promise.withResolvers<string>();
  let first: { signal: Deno.Signal; at: number } | undefined;
  const onSignal = (signal: Deno.Signal) => () => {
    if (
      first !== undefined && signal === first.signal &&
      performance.now() - first.at < SECOND_SIGNAL_GRACE_MS
    ) {
      // The same Ctrl-C, twice: see SECOND_SIGNAL_GRACE_MS.
      log.debug("{signal} again within {grace} ms of the first: taken as the same one", {
        signal,
        grace: SECOND_SIGNAL_GRACE_MS,
      });
      return;
    }
    if (shuttingDown) {
      // A second signal means "now": the database is closed so the WAL is
      // checkpointed, and committed uploads are safe either way.
      log.warn("Second {signal}: exiting at once", { signal });
      closeQuietly(db);
      Deno.exit(1);
    }
    shuttingDown = true;
    first = { signal, at: performance.now() };
    stopped.resolve(signal);
  };
  const handlers = (["SIGTERM", "SIGINT"] as const).map((signal) => {
    const handler = onSignal(signal);
    Deno.addSignalListener(signal, handler);
    return { signal, handler };
  });

  // Deno.serve behind a guard that cuts off clients too slow to send a
  // request head (slow-loris) or idle for too long, and caps connections:
  // services/security/connection_guard.ts.
  const server = serveGuarded({
    hostname: config.host,
    port: config.port,
    headersTimeoutMs: config.security.headersTimeoutMs,
    idleTimeoutMs: config.security.idleTimeoutMs,
    maxConnections,
    onListen: ({ hostname, port }) => {
      log.info("Listening on http://{hostname}:{port} (at most {max} connections)", {
        hostname,
        port,
        max: maxConnections,
      });
    },
  }, handler);
  telemetry.observeConnections({
    open: () => server.connections,
    refused: () => server.refused,
  });

  // Only now, with the port bound (a second instance that cannot bind has
  // exited by now), does the queue sweep leftovers and start claiming.
  try {
    const recovery = await queue.start();
    log.info("Job queue started with {workers} worker(s)", {
      workers: config.workers,
      ...recovery,
    });
    await space?.restore(db);
  } catch (error) {
    // The database went away between the migration and now: the poll and
    // the sweep retry on their own, so the queue starts anyway.
    log.error("The job queue could not sweep at start: {error}", {
      error: (error as Error).message,
    });
  }

  const signal = await stopped.promise;
  log.info("Received {signal}: draining in-flight requests and jobs", { signal });
  // Both at once, each within REPORTD_SHUTDOWN_TIMEOUT: requests in flight
  // finish, then connections stop being accepted; running jobs finish, and
  // unfinished ones go back to the queue. The server's own shutdown comes
  // after the requests because it cuts request bodies still arriving
  // (routes/middleware/inflight.ts); meanwhile new uploads are refused (503).
  const deadline = performance.now() + config.shutdownTimeoutMs;
  const [, drained] = await Promise.all([
    stopServing(server, inflight, deadline),
    queue.drain(config.shutdownTimeoutMs),
  ]);
  log.info("Drained: {finished} job(s) finished, {requeued} requeued for the next start", {
    ...drained,
  });
  await instances?.stop();
  // Before the database closes: the final metrics push still reads its size.
  await telemetry.shutdown();
  space?.stop();
  if (jobsDb !== db) await closeDatabase(jobsDb);
  await closeDatabase(db);
  for (const { signal, handler } of handlers) Deno.removeSignalListener(signal, handler);
  log.info("Stopped cleanly");
  return 0;
}

/**
 * Lets the requests in flight finish, then shuts the server down, all by
 * `deadline`; past it, whatever is left is abandoned (the process exits, and
 * an upload that was not acknowledged was not stored).
 */
async function stopServing(
  server: { shutdown(): Promise<void> },
  inflight: InflightRequests,
  deadline: number,
): Promise<void> {
  const finished = await inflight.settled(Math.max(0, deadline - performance.now()));
  if (!finished) {
    log.warn("{count} request(s) still running at the shutdown timeout; abandoning them", {
      count: inflight.size,
    });
  }
  const shutdown = server.shutdown();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, deadline - performance.now()));
  });
  await Promise.race([shutdown, expired]);
  clearTimeout(timer);
}

// Before logging is configured: `keys create` prints the new key alone on
// stdout, where a log line would get in the way of capturing it.
async function keys(config: Config, args: string[]): Promise<number> {
  // `keys` runs beside a serving instance: on SQLite it would wait on the
  // process lock, so it opens the file without taking it (one short write).
  let db: Database;
  try {
    if (config.databaseUrl !== undefined && databasePermissionProblem(config.databaseUrl)) {
      console.error(databasePermissionProblem(config.databaseUrl));
      return 1;
    }
    db = await openDatabase(config.databaseUrl ?? config.databasePath, {
      exclusive: false,
      poolSize: 1,
    });
  } catch (error) {
    if (!(error instanceof StorageError)) throw error;
    console.error(error.message);
    return 1;
  }
  try {
    return await runKeysCommand(db, args);
  } finally {
    await closeDatabase(db);
  }
}

/**
 * `copy-to-postgres`: the way up from one machine (docs/scaling.md). The
 * source is opened with its process lock, so a serving instance must be
 * stopped first (one line says so); the target must be empty. Progress and
 * the verification go to stdout, a failure is one line on stderr.
 */
async function copyToPostgres(config: Config): Promise<number> {
  if (config.databaseUrl === undefined) {
    console.error("copy-to-postgres needs REPORTD_DATABASE_URL: the empty PostgreSQL database");
    return 1;
  }
  const problem = databasePermissionProblem(config.databaseUrl);
  if (problem !== undefined) {
    console.error(problem);
    return 1;
  }
  try {
    await Deno.stat(config.databasePath);
  } catch {
    console.error(`There is no SQLite database at ${config.databasePath} (REPORTD_DB)`);
    return 1;
  }
  const opened: Database[] = [];
  try {
    const source = await openDatabase(config.databasePath);
    opened.push(source);
    const target = await openDatabase(config.databaseUrl, { poolSize: 2 });
    opened.push(target);
    console.log(`Copying ${source.location} into ${target.location}`);
    const copied = await copyDatabase(source, target, {
      onTable: ({ table, rows, sha256 }) =>
        console.log(`  ${table.padEnd(17)} ${String(rows).padStart(9)} rows  sha256 ${sha256}`),
    });
    const rows = copied.reduce((sum, table) => sum + table.rows, 0);
    console.log(`Copied and verified ${rows} rows in ${copied.length} tables`);
    return 0;
  } catch (error) {
    if (!(error instanceof StorageError) && !(error instanceof CopyError)) throw error;
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    console.error(`copy-to-postgres: ${error.message}${cause}`);
    return 1;
  } finally {
    for (const db of opened) await closeDatabase(db);
  }
}

async function healthcheck(config: Config): Promise<number> {
  const host = ["0.0.0.0", "::", "[::]"].includes(config.host) ? "127.0.0.1" : config.host;
  const url = `http://${
    host.includes(":") && !host.startsWith("[") ? `[${host}]` : host
  }:${config.port}/healthz`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
    await response.body?.cancel();
    if (response.ok) return 0;
    console.error(`Unhealthy: ${url} answered ${response.status}`);
  } catch (error) {
    console.error(`Unhealthy: ${url} did not answer (${(error as Error).message})`);
  }
  return 1;
}

function redactedConfig(config: Config): Record<string, unknown> {
  // Secrets are replaced, not dropped, so the line still shows whether one is set.
  const redact = (secret: string | undefined) => secret === undefined ? undefined : "[redacted]";
  return {
    ...config,
    databaseUrl: config.databaseUrl === undefined
      ? undefined
      : redactDatabaseUrl(config.databaseUrl),
    providers: { ...config.providers, stooqApiKey: redact(config.providers.stooqApiKey) },
    telemetry: { ...config.telemetry, otlpHeaders: redactValues(config.telemetry.otlpHeaders) },
    // Names and scopes help an operator; even the keys' hashes stay out of logs.
    security: {
      ...config.security,
      apiKeys: config.security.apiKeys.map((key) =>
        `${key.name}:[redacted]:${key.scopes.join("+")}`
      ),
    },
  };
}

function redactValues(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(values).map((name) => [name, "[redacted]"]));
}

function startTelemetryFor(config: Config): Telemetry {
  const { serviceName, otlpEndpoint, otlpProtocol, otlpHeaders, metricExportIntervalMs } =
    config.telemetry;
  log.info("Metrics on /metrics; OTLP export {otlp}", {
    otlp: otlpEndpoint === undefined ? "off" : `to ${otlpEndpoint} (${otlpProtocol})`,
  });
  return startTelemetry({
    serviceName,
    serviceVersion: VERSION,
    otlp: otlpEndpoint === undefined ? undefined : {
      endpoint: otlpEndpoint,
      protocol: otlpProtocol,
      headers: otlpHeaders,
      metricIntervalMs: metricExportIntervalMs,
    },
  });
}

/**
 * Says why the collector cannot be reached under the permission set, or
 * undefined when it can (or none is configured). Checked at start, so a
 * missing grant is one clear error instead of an export failing every batch.
 */
function otlpPermissionProblem(endpoint: string | undefined): string | undefined {
  if (endpoint === undefined) return undefined;
  const url = new URL(endpoint);
  const host = `${url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}`;
  if (Deno.permissions.querySync({ name: "net", host }).state === "granted") return undefined;
  return `OTEL_EXPORTER_OTLP_ENDPOINT points at ${host}, which the permission set does not ` +
    `allow; run the collector on loopback or add "${host}" to permissions.default.net in ` +
    "deno.json (see docs/observability.md)";
}

function closeQuietly(db: Database): void {
  // Exiting anyway; the database recovers from its WAL on the next start.
  closeDatabase(db).catch(() => {});
}

if (import.meta.main) Deno.exit(await main(Deno.args));
