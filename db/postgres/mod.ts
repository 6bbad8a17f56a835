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
import { KeysWatch } from "./keys_watch.ts";
import * as reports from "./reports.ts";
import * as upstreamCache from "./upstream_cache.ts";

/** Opens a pool on the database at `url` (without migrating it; no connection yet). */
export function openPostgresDatabase(url: string, options: OpenOptions = {}): Promise<Database> {
  const connection = openPostgres(url, {
    poolSize: options.poolSize,
    timeoutMs: options.timeoutMs,
    applicationName: options.applicationName,
  });
  const listener = new Listener(url, { applicationName: options.applicationName });
  const keysWatch = new KeysWatch(listener, {
    hasKeys: () => keys.hasApiKeys(connection),
    getKey: (id) => keys.getApiKey(connection, id),
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
      // Open mode is asked on every read while no key exists, and a key's
      // record on every request that presents it: the watch answers from
      // memory between queries (keys_watch.ts says when). A keyed read on
      // PostgreSQL ran at 5,988 requests/s with a lookup each, p99 27 ms
      // (docs/benchmarks.md, issue 15).
      hasApiKeys: () => keysWatch.ask(),
      knownApiKeys: () => keysWatch.known(),
      knownApiKey: (id) => keysWatch.record(id),
      // Always asks (and keeps what it may): what is kept is answered by
      // knownApiKey, which services/security/api_keys.ts asks first.
      getApiKey: (id) => keysWatch.lookup(id),
      // Other processes hear a change from its announcement; this one knows
      // when the statement returns (and forgets what it read meanwhile).
      insertApiKey: async (key) => {
        try {
          await keys.insertApiKey(connection, key);
        } finally {
          keysWatch.forget();
        }
      },
      revokeApiKey: async (id, now) => {
        try {
          return await keys.revokeApiKey(connection, id, now);
        } finally {
          keysWatch.forget();
        }
      },
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
