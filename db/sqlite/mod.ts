/**
 * The SQLite engine: one file, one process. Assembles the connection and the
 * repositories beside it into a {@linkcode Database}.
 *
 * @module
 */
import type { Database, OpenOptions } from "../mod.ts";
import { bindRepositories } from "../bind.ts";
import { JOBS_CHANNEL, REPORTS_CHANNEL } from "../types.ts";
import {
  closeSqlite,
  migrateSqlite,
  openSqlite,
  pingSqlite,
  querySqlite,
  settleGroup,
  sqliteIntegrity,
  sqliteSchemaVersion,
  sqliteSizeBytes,
} from "./connection.ts";
import * as instances from "./instances.ts";
import * as jobs from "./jobs.ts";
import { reclaimSqliteSpace } from "./space.ts";
import * as keys from "./keys.ts";
import * as reports from "./reports.ts";
import * as upstreamCache from "./upstream_cache.ts";

/** Opens the SQLite database at `path` (without migrating it). */
export async function openSqliteDatabase(
  path: string,
  options: OpenOptions = {},
): Promise<Database> {
  const connection = await openSqlite(path, {
    busyTimeoutMs: options.busyTimeoutMs,
    exclusive: options.exclusive,
    checkpointBytes: options.checkpointBytes,
  });
  // One process: a notification never leaves it, so listeners are a local table.
  const listeners = new Map<string, Set<(payload: string | undefined) => void>>();
  const repositories = bindRepositories(connection, {
    ...reports,
    ...jobs,
    ...keys,
    ...instances,
    ...upstreamCache,
  });
  return {
    engine: "sqlite",
    location: path,
    exclusive: connection.lock !== undefined,
    repositories: {
      ...repositories,
      // As PostgreSQL's NOTIFY does on commit: a queued job is announced.
      async enqueueReport(report, options) {
        const result = await repositories.enqueueReport(report, options);
        if (result.outcome === "created") {
          for (const listener of listeners.get(JOBS_CHANNEL) ?? []) listener(report.id);
        }
        return result;
      },
      // Likewise for a deleted report, so caches listen the same way on both engines.
      async deleteReport(id) {
        const deleted = await repositories.deleteReport(id);
        if (deleted) { for (const listener of listeners.get(REPORTS_CHANNEL) ?? []) listener(id); }
        return deleted;
      },
    },
    operations: {
      migrate: (migrations) => migrateSqlite(connection, migrations),
      schemaVersion: () => Promise.resolve(sqliteSchemaVersion(connection)),
      ping: () => pingSqlite(connection),
      sizeBytes: () => sqliteSizeBytes(connection),
      checkIntegrity: () => sqliteIntegrity(connection),
      listen(channel, listener) {
        const set = listeners.get(channel) ?? new Set();
        listeners.set(channel, set);
        set.add(listener);
        return () => set.delete(listener);
      },
      query: (sql, params) => querySqlite(connection, sql, params),
      reclaimSpace: () => reclaimSqliteSpace(connection),
      close: async () => {
        await settleGroup(connection);
        closeSqlite(connection);
      },
    },
  };
}
