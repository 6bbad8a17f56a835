/**
 * The PostgreSQL engine: any number of reportd instances on one database.
 * Assembles the pool, the listener and the repositories beside this module
 * into a {@linkcode Database}.
 *
 * @module
 */
import type { Database, OpenOptions } from "../mod.ts";
import { bindRepositories } from "../bind.ts";
import { redactDatabaseUrl } from "../url.ts";
import {
  closePostgres,
  Listener,
  migratePostgres,
  openPostgres,
  pingPostgres,
  postgresIntegrity,
  postgresSchemaVersion,
  postgresSizeBytes,
  queryPostgres,
} from "./connection.ts";
import * as instances from "./instances.ts";
import * as jobs from "./jobs.ts";
import * as keys from "./keys.ts";
import { OpenModeWatch } from "./open_mode.ts";
import * as reports from "./reports.ts";
import * as upstreamCache from "./upstream_cache.ts";

/** Opens a pool on the database at `url` (without migrating it; no connection yet). */
export function openPostgresDatabase(url: string, options: OpenOptions = {}): Promise<Database> {
  const connection = openPostgres(url, {
    poolSize: options.poolSize,
    timeoutMs: options.timeoutMs,
  });
  const listener = new Listener(url);
  const openMode = new OpenModeWatch(listener, {
    query: () => keys.hasApiKeys(connection),
  });
  return Promise.resolve({
    engine: "postgres",
    location: redactDatabaseUrl(url),
    exclusive: false,
    repositories: {
      ...bindRepositories(connection, {
        ...reports,
        ...jobs,
        ...keys,
        ...instances,
        ...upstreamCache,
      }),
      // Open mode is asked on every read while no key exists: the watch
      // answers "still none" from memory between queries (open_mode.ts says when).
      hasApiKeys: () => openMode.ask(),
      // Other processes hear a new key from its announcement; this one knows
      // when the insert returns (and forgets any "no" read meanwhile).
      insertApiKey: async (key) => {
        try {
          await keys.insertApiKey(connection, key);
        } finally {
          openMode.forget();
        }
      },
      knownApiKeys: () => openMode.known(),
    },
    operations: {
      migrate: (migrations) => migratePostgres(connection, migrations),
      schemaVersion: () => postgresSchemaVersion(connection),
      ping: () => pingPostgres(connection),
      sizeBytes: () => postgresSizeBytes(connection),
      checkIntegrity: () => postgresIntegrity(connection),
      listen: (channel, onMessage) => listener.add(channel, onMessage),
      query: (sql, params) => queryPostgres(connection, sql, params),
      async close() {
        await listener.close();
        await closePostgres(connection);
      },
    },
  });
}
