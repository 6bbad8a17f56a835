/**
 * PostgreSQL: the upstream cache, shared by every instance (a provider is
 * asked once, whichever instance imports). Mirrors db/sqlite/upstream_cache.ts.
 *
 * @module
 */
import type { CachedAnswer } from "../types.ts";
import { execute, type PostgresConnection as Database, rows, run } from "./connection.ts";

/** Returns the cached answer for `(provider, key)`, fresh or stale, or undefined. */
export function getCachedAnswer(
  db: Database,
  provider: string,
  key: string,
): Promise<CachedAnswer | undefined> {
  return run("read the upstream cache", async () => {
    const [row] = await rows<{ body: Uint8Array; fetched_at: string; expires_at: string }>(
      db,
      "SELECT body, fetched_at, expires_at FROM upstream_cache " +
        "WHERE provider = $1 AND cache_key = $2",
      [provider, key],
    );
    return row === undefined
      ? undefined
      : { body: new Uint8Array(row.body), fetchedAt: row.fetched_at, expiresAt: row.expires_at };
  });
}

/** Stores (or replaces) the answer for `(provider, key)`. */
export function putCachedAnswer(
  db: Database,
  provider: string,
  entry: CachedAnswer & { key: string },
): Promise<void> {
  return run("write the upstream cache", async () => {
    await execute(
      db,
      "INSERT INTO upstream_cache (provider, cache_key, body, fetched_at, expires_at) " +
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (provider, cache_key) DO UPDATE SET " +
        "body = excluded.body, fetched_at = excluded.fetched_at, expires_at = excluded.expires_at",
      [provider, entry.key, entry.body, entry.fetchedAt, entry.expiresAt],
    );
  });
}
