/**
 * A real PostgreSQL for tests, never a mock.
 *
 * Where it comes from, in order:
 * 1. `REPORTD_TEST_DATABASE_URL` (any database on the server; the GitHub
 *    workflow points it at its `postgres` service container);
 * 2. otherwise a private throwaway cluster, started once per test process
 *    with Debian's `postgresql` binaries (`initdb` in a temporary folder,
 *    listening on a free loopback port) and removed when the process ends.
 *
 * Each test then gets a database of its own ({@linkcode testDatabase}),
 * dropped afterwards. When neither is possible, PostgreSQL tests are skipped
 * with the reason, like the browser tests, unless `REPORTD_REQUIRE_POSTGRES=1`
 * (set by `.ci/run`), when they run and fail.
 *
 * @module
 */
import pg from "pg";

/** True when the environment demands PostgreSQL (CI). */
export const POSTGRES_REQUIRED: boolean = Deno.env.get("REPORTD_REQUIRE_POSTGRES") === "1";

const BIN_DIRS = [
  "",
  "/usr/lib/postgresql/17/bin/",
  "/usr/lib/postgresql/16/bin/",
  "/usr/lib/postgresql/15/bin/",
];

/** A cluster this process started: stop it with {@linkcode PrivateCluster.stop}. */
export interface PrivateCluster {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  url: string;
  /** The data directory. */
  dir: string;
  /** Stops the server (fast shutdown), keeping the data. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it and deletes its folder. */
  destroy(): Promise<void>;
}

/**
 * A loopback port nobody listens on now (the OS picks it; the race until a
 * server binds it is harmless in a test run).
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function binary(name: string): string | undefined {
  for (const dir of BIN_DIRS) {
    const path = `${dir}${name}`;
    try {
      if (dir === "") {
        const found = new Deno.Command("sh", { args: ["-c", `command -v ${name}`] }).outputSync();
        if (found.success) return new TextDecoder().decode(found.stdout).trim();
        continue;
      }
      Deno.statSync(path);
      return path;
    } catch {
      // try the next place
    }
  }
  return undefined;
}

// initdb refuses to run as root; Debian's package creates a `postgres` user.
function asServerUser(command: string, args: string[]): [string, string[]] {
  return Deno.uid() === 0 ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [
    command,
    args,
  ];
}

async function run(command: string, args: string[]): Promise<void> {
  const [program, programArgs] = asServerUser(command, args);
  const result = await new Deno.Command(program, {
    args: programArgs,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    const decoder = new TextDecoder();
    throw new Error(
      `${command} ${args.join(" ")} failed: ${decoder.decode(result.stderr)}${
        decoder.decode(result.stdout)
      }`,
    );
  }
}

/**
 * Creates and starts a new cluster in a temporary folder on a free loopback
 * port (trust authentication, fsync off: it is thrown away). Undefined when
 * the binaries are missing.
 */
export async function startPrivateCluster(): Promise<PrivateCluster | undefined> {
  const initdb = binary("initdb");
  const pgCtl = binary("pg_ctl");
  if (initdb === undefined || pgCtl === undefined) return undefined;
  const dir = await Deno.makeTempDir({ prefix: "reportd-pg-" });
  if (Deno.uid() === 0) {
    await new Deno.Command("chown", { args: ["postgres:postgres", dir] }).output();
  }
  const data = `${dir}/data`;
  let port = 0;
  const options = () =>
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off ` +
    "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200";
  const start = () => run(pgCtl, ["-D", data, "-o", options(), "-l", `${dir}/log`, "-w", "start"]);
  const stop = () => run(pgCtl, ["-D", data, "-m", "fast", "-w", "stop"]);
  try {
    await run(initdb, ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    // Another process on this shared machine may take the free port between
    // our look and the server's bind: then try another.
    for (let attempt = 1;; attempt++) {
      port = freePort();
      try {
        await start();
        break;
      } catch (error) {
        const log = await Deno.readTextFile(`${dir}/log`).catch(() => "");
        if (attempt >= 5 || !log.includes("Address already in use")) throw error;
      }
    }
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dir,
    start,
    stop,
    async destroy() {
      await stop().catch(() => {});
      await Deno.remove(dir, { recursive: true });
    },
  };
}

let server: Promise<string | undefined> | undefined;

/**
 * The URL of the PostgreSQL server tests use (see the module doc), started on
 * first use; undefined when there is none.
 */
export function postgresServer(): Promise<string | undefined> {
  server ??= (async () => {
    const given = Deno.env.get("REPORTD_TEST_DATABASE_URL");
    if (given !== undefined && given !== "") return given;
    const cluster = await startPrivateCluster();
    if (cluster === undefined) return undefined;
    // The cluster is this process's: it goes when the run ends, also when it
    // ends in an uncaught error, where Deno dispatches no `unload` (a
    // benchmark that threw left its cluster running, holding the machine's
    // benchmark lock that its process had inherited).
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      const [program, args] = asServerUser(binary("pg_ctl")!, [
        "-D",
        `${cluster.dir}/data`,
        "-m",
        "immediate",
        "stop",
      ]);
      new Deno.Command(program, { args, stdout: "null", stderr: "null" }).outputSync();
      Deno.removeSync(cluster.dir, { recursive: true });
    };
    for (const event of ["unload", "error", "unhandledrejection"]) {
      globalThis.addEventListener(event, stop);
    }
    return cluster.url;
  })();
  return server;
}

/**
 * Why PostgreSQL tests cannot run here, or undefined when they can (or must:
 * with `REPORTD_REQUIRE_POSTGRES=1` they run, and fail without a server).
 */
export function postgresSkipReason(): string | undefined {
  if (POSTGRES_REQUIRED) return undefined;
  if (Deno.env.get("REPORTD_TEST_DATABASE_URL")) return undefined;
  if (binary("initdb") !== undefined && binary("pg_ctl") !== undefined) return undefined;
  return "no PostgreSQL: set REPORTD_TEST_DATABASE_URL or install Debian's postgresql " +
    "package (initdb); set REPORTD_REQUIRE_POSTGRES=1 to fail instead";
}

/** `url` with its database name replaced. */
export function withDatabaseName(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** A database made for one test. */
export interface TestDatabase extends AsyncDisposable {
  /** Its URL. */
  url: string;
  /** Its name. */
  name: string;
}

/** Runs one statement on the server's maintenance database. */
export async function adminQuery(sql: string, base?: string): Promise<void> {
  const url = base ?? await postgresServer();
  if (url === undefined) throw new Error(postgresSkipReason() ?? "PostgreSQL is required");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Creates an empty database with a unique name; disposing it drops it (with
 * FORCE: connections a failed test left open do not keep it alive).
 */
export async function testDatabase(base?: string): Promise<TestDatabase> {
  const server = base ?? await postgresServer();
  if (server === undefined) {
    throw new Error("PostgreSQL is required (REPORTD_REQUIRE_POSTGRES=1) but none is available");
  }
  const name = `reportd_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  await adminQuery(`CREATE DATABASE ${name}`, server);
  return {
    url: withDatabaseName(server, name),
    name,
    async [Symbol.asyncDispose]() {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, server);
    },
  };
}
