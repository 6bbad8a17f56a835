/**
 * A small in-memory cache of finished reports.
 *
 * A report that is `ready` or `failed` never changes again (it can only be
 * deleted), so the read path can skip SQLite for the reports people keep
 * looking at. The cache is bounded by entry count (least recently used goes
 * first) and by age, so memory stays flat. With several instances behind one
 * database, a delete anywhere is announced to every instance
 * (`watchDeletions` in services/reports.ts), and the age bound is the
 * fallback should an announcement ever be lost.
 *
 * @module
 */

/** Options for {@linkcode ReportCache}. */
export interface ReportCacheOptions {
  /** Most entries kept (default 1000). */
  maxEntries?: number;
  /** Entries older than this are dropped (default 60 s). */
  ttlMs?: number;
  /** Clock in ms, replaceable in tests. */
  now?: () => number;
}

/**
 * A bounded least-recently-used map with expiry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReportCache } from "./report_cache.ts";
 * const cache = new ReportCache<string>({ maxEntries: 1 });
 * cache.set("a", "A");
 * cache.set("b", "B");
 * assert.equal(cache.get("a"), undefined);
 * assert.equal(cache.get("b"), "B");
 * ```
 */
export class ReportCache<T> {
  readonly #entries = new Map<string, { value: T; storedAt: number }>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  /** Creates an empty cache. */
  constructor(options: ReportCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 1000;
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Returns the fresh value for `key`, marking it most recently used. */
  get(key: string): T | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (this.#now() - entry.storedAt > this.#ttlMs) return undefined;
    // A Map iterates in insertion order, so re-inserting makes it the newest.
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value`, evicting the least recently used entry when full. */
  set(key: string, value: T): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, storedAt: this.#now() });
    if (this.#entries.size > this.#maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  /** Forgets `key` (after a delete). */
  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** Forgets everything (after notifications may have been missed). */
  clear(): void {
    this.#entries.clear();
  }

  /** Entries held now. */
  get size(): number {
    return this.#entries.size;
  }
}
