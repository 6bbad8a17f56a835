/**
 * The PostgreSQL connection: a pool of connections through `npm:pg`, the
 * advisory-locked migrations, transactions, and one listening connection for
 * NOTIFY that reconnects by itself.
 *
 * Why `npm:pg` (docs/decisions/0015-postgres-driver.md): it sends `bytea`
 * parameters in binary, so a 20 MB upload writes 2 to 3 times faster than
 * with postgres.js, which sends them as hex text; point queries are as fast.
 * What pg lacks, re-LISTENing after a dropped connection, is done here.
 *
 * @module
 */
import pg from "pg";
import { StorageError } from "../errors.ts";
import { runStorage } from "../run_storage.ts";
import type { Migration, MigrationResult } from "../types.ts";
import { MIGRATIONS } from "./migrations/mod.ts";

// bigint (count(*), sizes) as a number rather than pg's default string: every
// bigint reportd reads is a count or a byte size, far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, Number);

/** One connection from the pool, inside a transaction or not. */
export type Client = pg.PoolClient;

/** An open PostgreSQL database. */
export interface PostgresConnection {
  /** The pool every query goes through. */
  readonly pool: pg.Pool;
  /** The connection URL (holds the password: never log it). */
  readonly url: string;
  /** Longest wait for a connection or a statement, in ms. */
  readonly timeoutMs: number;
}

/** Options for {@linkcode openPostgres}. */
export interface PostgresOpenOptions {
  /** Most connections (default 10). */
  poolSize?: number;
  /** Longest wait for a connection or a statement, in ms (default 10 s). */
  timeoutMs?: number;
  /** What its connections are called in `pg_stat_activity` (default `reportd`). */
  applicationName?: string;
}

/**
 * The number the migrations' advisory lock is taken on: any constant works as
 * long as every reportd uses the same one ("reportd" in ASCII).
 */
const MIGRATION_LOCK = 0x7265706f727464;

/**
 * Creates the pool. No connection is made yet: the first query makes one, so
 * a server that is down at start is reported by the first query's error.
 *
 * Timeouts bound every wait: `connectionTimeoutMillis` for a connection
 * (a server that is down answers a 503 in at most that long, never a hang),
 * `statement_timeout` on the server and `query_timeout` on the client (a
 * connection whose server vanished without a FIN otherwise waits for TCP).
 */
export function openPostgres(url: string, options: PostgresOpenOptions = {}): PostgresConnection {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: Math.min(timeoutMs, 5_000),
    statement_timeout: timeoutMs,
    query_timeout: timeoutMs + 1_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: options.applicationName ?? "reportd",
  });
  // An idle connection that breaks (the server restarted) emits `error` on the
  // pool; unhandled, that would end the process. The pool drops the client and
  // the next query opens a new one, so nothing else is needed here.
  pool.on("error", () => {});
  return { pool, url, timeoutMs };
}

/** Runs `work` as the storage operation `action` (a span, errors as StorageError). */
export function run<T>(action: string, work: () => Promise<T>): Promise<T> {
  return runStorage("postgresql", action, work);
}

/** Runs one statement on a pooled connection and returns its rows. */
export async function rows<T>(
  db: PostgresConnection | Client,
  sql: string,
  params: readonly unknown[] = [],
): Promise<T[]> {
  const connection = "pool" in db ? db.pool : db;
  const result = await connection.query(named(sql, params));
  return result.rows as T[];
}

/** Runs one statement and returns how many rows it changed. */
export async function execute(
  db: PostgresConnection | Client,
  sql: string,
  params: readonly unknown[] = [],
): Promise<number> {
  const connection = "pool" in db ? db.pool : db;
  const result = await connection.query(named(sql, params));
  return result.rowCount ?? 0;
}

/** Most statement texts given a name; past it, statements run unnamed. */
const NAMED_STATEMENTS_MAX = 500;

/** Names given to statement texts, the same on every connection. */
const statementNames = new Map<string, string>();

/**
 * The statement as a named (prepared) one: each connection then parses and
 * plans it once instead of on every call. PostgreSQL's log showed the job
 * queue's statements spending more on parse and bind (where an unnamed
 * statement is planned) than on execution: claiming a job 158 + 343 us
 * against 410, storing a small result 258 + 395 against 510, on the 2-core
 * EPYC VM (docs/benchmarks.md, issue 15). Statements without parameters stay
 * unnamed: they may be several statements in one text (migrations), which
 * only the simple protocol accepts. Texts that vary (a `VALUES` list per
 * column count) take a name each up to {@linkcode NAMED_STATEMENTS_MAX}.
 * Behind a connection pooler in transaction mode, named statements need
 * PgBouncer 1.21 or later with `max_prepared_statements` set
 * (docs/scaling.md).
 */
function named(sql: string, params: readonly unknown[]): pg.QueryConfig {
  if (params.length === 0) return { text: sql };
  let name = statementNames.get(sql);
  if (name === undefined && statementNames.size < NAMED_STATEMENTS_MAX) {
    name = `reportd_${statementNames.size}`;
    statementNames.set(sql, name);
  }
  return { name, text: sql, values: params as unknown[] };
}

/**
 * Runs `work` inside `BEGIN ... COMMIT` on one pooled connection, rolling back
 * on any error. A connection whose rollback fails is broken and is destroyed
 * rather than returned to the pool.
 */
export async function transaction<T>(
  db: PostgresConnection,
  work: (client: Client) => Promise<T>,
): Promise<T> {
  const client = await checkout(db);
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch((rollback) => broken = rollback as Error);
    throw error;
  } finally {
    client.release(broken);
  }
}

/**
 * Takes a connection from the pool for several statements. While it is
 * checked out, the pool does not listen for its `error` event, and a server
 * that ends the connection between two statements (a restart, an outage)
 * would then raise an unhandled `error` that ends the process. The listener
 * added here swallows it: the next statement on the client fails instead,
 * and the caller releases the client as broken.
 */
export async function checkout(db: PostgresConnection): Promise<Client> {
  const client = await db.pool.connect();
  if (client.listenerCount("error") === 0) client.on("error", () => {});
  return client;
}

/** True when `error` is PostgreSQL's unique_violation (SQLSTATE 23505). */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | undefined)?.code === "23505";
}

/**
 * Applies every migration not yet in `schema_migrations`, each in its own
 * transaction together with its row, while holding a session advisory lock:
 * ten instances starting at once queue on the lock, the first applies the
 * migrations, the others find nothing left to do. The lock is the
 * connection's, so an instance that dies mid-way releases it.
 */
export function migratePostgres(
  db: PostgresConnection,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationResult> {
  return run("migrate the database", async () => {
    const client = await checkout(db);
    let broken: Error | undefined;
    try {
      // Waiting for another instance's migrations may take longer than a query may.
      await client.query("SET statement_timeout = 0");
      await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
      try {
        await client.query(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, " +
            "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
        );
        const from = await currentVersion(client);
        const applied: string[] = [];
        for (const migration of migrations) {
          if (migration.version <= from) continue;
          await client.query("BEGIN");
          try {
            await client.query(migration.sql);
            await client.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [
              migration.version,
              migration.name,
            ]);
            await client.query("COMMIT");
          } catch (error) {
            await client.query("ROLLBACK");
            throw error;
          }
          applied.push(migration.name);
        }
        return { from, to: await currentVersion(client), applied };
      } finally {
        await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
        await client.query("RESET statement_timeout");
      }
    } catch (error) {
      broken = error as Error;
      throw error;
    } finally {
      client.release(broken);
    }
  });
}

/** The highest applied migration, 0 on an empty database. */
export function postgresSchemaVersion(db: PostgresConnection): Promise<number> {
  return run("read the schema version", async () => {
    const [{ present }] = await rows<{ present: boolean }>(
      db,
      "SELECT to_regclass('schema_migrations') IS NOT NULL AS present",
    );
    if (!present) return 0;
    return currentVersion(db.pool);
  });
}

async function currentVersion(client: pg.PoolClient | pg.Pool): Promise<number> {
  const result = await client.query(
    "SELECT coalesce(max(version), 0)::integer AS version FROM schema_migrations",
  );
  return result.rows[0].version as number;
}

/** Checks that the database answers a trivial query (used by `/readyz`). */
export function pingPostgres(db: PostgresConnection): Promise<void> {
  return run("reach the database", async () => {
    await db.pool.query("SELECT 1");
  });
}

/** The database's size in bytes (`pg_database_size`). */
export function postgresSizeBytes(db: PostgresConnection): Promise<number> {
  return run("measure the database", async () => {
    const [row] = await rows<{ size: string }>(
      db,
      "SELECT pg_database_size(current_database()) AS size",
    );
    return Number(row.size);
  });
}

/**
 * PostgreSQL checks pages as it reads them (and with data checksums, on
 * every read); there is no cheap whole-database check like SQLite's. This
 * reads every table once, which surfaces a damaged page as an error.
 */
export function postgresIntegrity(db: PostgresConnection): Promise<string[]> {
  return run("check the database's integrity", async () => {
    for (
      const table of [
        "reports",
        "series_columns",
        "jobs",
        "upload_chunks",
        "idempotency_keys",
        "api_keys",
        "upstream_cache",
      ]
    ) {
      await db.pool.query(`SELECT count(*) FROM ${table}`);
    }
    return ["ok"];
  });
}

/** Runs one statement written with `?` placeholders (tests and tools). */
export function queryPostgres(
  db: PostgresConnection,
  sql: string,
  params: readonly unknown[] = [],
): Promise<Record<string, unknown>[]> {
  let index = 0;
  const numbered = sql.replace(/\?/g, () => `$${++index}`);
  return run("run a query", () => rows<Record<string, unknown>>(db, numbered, params));
}

/** Ends every pooled connection. Safe to call twice. */
export async function closePostgres(db: PostgresConnection): Promise<void> {
  if (db.pool.ended || db.pool.ending) return;
  await db.pool.end();
}

/**
 * Listens on channels over one dedicated connection (LISTEN holds a session,
 * so it cannot come from the pool). When the connection drops, it reconnects
 * with backoff (0.25 s doubling to 5 s), LISTENs again, and tells every
 * listener `undefined`: notifications sent meanwhile are lost, and the
 * listeners re-read what they watch. `npm:pg` does none of this by itself.
 */
export class Listener {
  readonly #url: string;
  readonly #channels = new Map<string, Set<(payload: string | undefined) => void>>();
  /** Channels whose LISTEN has completed on the current connection. */
  #listening = new Set<string>();
  #client: pg.Client | undefined;
  #connecting: Promise<void> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #backoffMs = 250;
  #closed = false;
  readonly #name: string;

  /**
   * A listener on the database at `url`; it connects on the first
   * {@linkcode add}, as `<applicationName>-listen` (default `reportd-listen`).
   */
  constructor(url: string, options: { applicationName?: string } = {}) {
    this.#url = url;
    this.#name = `${options.applicationName ?? "reportd"}-listen`;
  }

  /** Adds `listener` on `channel`; returns a function that removes it. */
  add(channel: string, listener: (payload: string | undefined) => void): () => void {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) {
      throw new StorageError(`Not a channel name: ${JSON.stringify(channel)}`);
    }
    let set = this.#channels.get(channel);
    if (set === undefined) {
      set = new Set();
      this.#channels.set(channel, set);
      const client = this.#client;
      if (client !== undefined) {
        client.query(`LISTEN ${channel}`).then(
          () => {
            if (this.#client === client) this.#listening.add(channel);
          },
          () => this.#lost(client),
        );
      }
    }
    set.add(listener);
    this.#connect();
    return () => set.delete(listener);
  }

  /**
   * True while notifications on `channel` reach this process: its LISTEN has
   * completed on a connection not known to be lost. A connection that died
   * silently still counts until its keepalive notices; callers that trust a
   * cached answer on this bound how long they trust it.
   */
  listening(channel: string): boolean {
    return this.#listening.has(channel);
  }

  /** Stops listening and closes the connection. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#listening.clear();
    clearTimeout(this.#retryTimer);
    await this.#connecting?.catch(() => {});
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  #connect(): void {
    if (this.#closed || this.#client !== undefined || this.#connecting !== undefined) return;
    this.#connecting = this.#open().finally(() => this.#connecting = undefined);
  }

  async #open(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#url,
      connectionTimeoutMillis: 5_000,
      keepAlive: true,
      application_name: this.#name,
    });
    client.on("error", () => this.#lost(client));
    client.on("end", () => this.#lost(client));
    client.on("notification", (message) => {
      for (const listener of this.#channels.get(message.channel) ?? []) {
        listener(message.payload);
      }
    });
    try {
      await client.connect();
      for (const channel of this.#channels.keys()) await client.query(`LISTEN ${channel}`);
    } catch {
      await client.end().catch(() => {});
      this.#retry();
      return;
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    const reconnected = this.#backoffMs > 250;
    this.#client = client;
    this.#listening = new Set(this.#channels.keys());
    this.#backoffMs = 250;
    if (reconnected) {
      for (const set of this.#channels.values()) for (const listener of set) listener(undefined);
    }
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    this.#listening.clear();
    client.end().catch(() => {});
    // Not from 250: the reconnection must tell listeners that messages were missed.
    this.#backoffMs = Math.max(this.#backoffMs, 500);
    this.#retry();
  }

  #retry(): void {
    if (this.#closed) return;
    clearTimeout(this.#retryTimer);
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, 5_000);
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }
}
