/**
 * The upstream cache: provider answers kept in SQLite, so a repeated import
 * within the freshness window does not touch the provider, and an expired
 * answer can still be served when the provider is down.
 *
 * @module
 */
import type { CachedAnswer } from "../types.ts";
import { run, type SqliteConnection as Database, statement } from "./connection.ts";

/** Returns the cached answer for `(provider, key)`, fresh or stale, or undefined. */
export function getCachedAnswer(
  db: Database,
  provider: string,
  key: string,
): Promise<CachedAnswer | undefined> {
  return run("read the upstream cache", () => {
    const row = statement(
      db,
      "SELECT body, fetched_at, expires_at FROM upstream_cache WHERE provider = ? AND cache_key = ?",
    ).get(provider, key) as
      | { body: Uint8Array; fetched_at: string; expires_at: string }
      | undefined;
    return row === undefined
      ? undefined
      : { body: row.body, fetchedAt: row.fetched_at, expiresAt: row.expires_at };
  });
}

/** Stores (or replaces) the answer for `(provider, key)`. */
export function putCachedAnswer(
  db: Database,
  provider: string,
  entry: CachedAnswer & { key: string },
): Promise<void> {
  return run("write the upstream cache", () => {
    statement(
      db,
      "INSERT INTO upstream_cache (provider, cache_key, body, fetched_at, expires_at) " +
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (provider, cache_key) DO UPDATE SET " +
        "body = excluded.body, fetched_at = excluded.fetched_at, expires_at = excluded.expires_at",
    ).run(provider, entry.key, entry.body, entry.fetchedAt, entry.expiresAt);
  });
}
