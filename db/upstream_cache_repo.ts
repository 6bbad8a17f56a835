/**
 * The upstream cache, engine-neutral: provider answers kept in the database,
 * so a repeated import within the freshness window does not touch the
 * provider, and an expired answer can still be served when the provider is
 * down. With PostgreSQL every instance shares it.
 *
 * @module
 */
import type { Database } from "./mod.ts";
import type { CachedAnswer } from "./types.ts";

export type { CachedAnswer } from "./types.ts";

/** Returns the cached answer for `(provider, key)`, fresh or stale, or undefined. */
export function getCachedAnswer(
  db: Database,
  provider: string,
  key: string,
): Promise<CachedAnswer | undefined> {
  return db.repositories.getCachedAnswer(provider, key);
}

/** Stores (or replaces) the answer for `(provider, key)`. */
export function putCachedAnswer(
  db: Database,
  provider: string,
  entry: CachedAnswer & { key: string },
): Promise<void> {
  return db.repositories.putCachedAnswer(provider, entry);
}
