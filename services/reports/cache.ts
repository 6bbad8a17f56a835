/**
 * A small in-memory cache of finished reports.
 *
 * A report that is `ready` or `failed` never changes again (it can only be
 * deleted), so the read path can skip SQLite for the reports people keep
 * looking at. The cache is bounded by entry count (least recently used goes
 * first) and by age, so memory stays flat. With several instances behind one
 * database, a delete anywhere is announced to every instance
 * (`watchDeletions` in services/reports/mod.ts), and the age bound is the
 * fallback should an announcement ever be lost.
 *
 * @module
 */

/** Options for {@linkcode ReportCache}. */
export interface ReportCacheOptions<T = unknown> {
  /** Most entries kept (default 1000). */
  maxEntries?: number;
  /** Entries older than this are dropped (default 60 s). */
  ttlMs?: number;
  /** Clock in ms, replaceable in tests. */
  now?: () => number;
  /**
   * Bounds the total weight too (bytes, say) when given with `weigh`: least
   * recently used entries go until the rest fit, and a value heavier than the
   * bound on its own is not kept. Default: unbounded.
   */
  maxWeight?: number;
  /** The weight of a value (default 0). */
  weigh?: (value: T) => number;
}

/**
 * A bounded least-recently-used map with expiry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReportCache } from "./cache.ts";
 * const cache = new ReportCache<string>({ maxEntries: 1 });
 * cache.set("a", "A");
 * cache.set("b", "B");
 * assert.equal(cache.get("a"), undefined);
 * assert.equal(cache.get("b"), "B");
 * ```
 */
export class ReportCache<T> {
  readonly #entries = new Map<string, { value: T; storedAt: number; weight: number }>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #maxWeight: number;
  readonly #weigh: (value: T) => number;
  #weight = 0;

  /** Creates an empty cache. */
  constructor(options: ReportCacheOptions<T> = {}) {
    this.#maxEntries = options.maxEntries ?? 1000;
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#maxWeight = options.maxWeight ?? Infinity;
    this.#weigh = options.weigh ?? (() => 0);
  }

  /** Returns the fresh value for `key`, marking it most recently used. */
  get(key: string): T | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (this.#now() - entry.storedAt > this.#ttlMs) {
      this.#weight -= entry.weight;
      return undefined;
    }
    // A Map iterates in insertion order, so re-inserting makes it the newest.
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value`, evicting the least recently used entry when full. */
  set(key: string, value: T): void {
    this.delete(key);
    const weight = this.#weigh(value);
    if (weight > this.#maxWeight) return;
    this.#entries.set(key, { value, storedAt: this.#now(), weight });
    this.#weight += weight;
    while (this.#entries.size > this.#maxEntries || this.#weight > this.#maxWeight) {
      this.delete(this.#entries.keys().next().value!);
    }
  }

  /** Forgets `key` (after a delete). */
  delete(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#weight -= entry.weight;
  }

  /** Forgets every key that starts with `prefix` (a report and the views derived from it). */
  deletePrefix(prefix: string): void {
    for (const key of [...this.#entries.keys()]) {
      if (key.startsWith(prefix)) this.delete(key);
    }
  }

  /** The total weight of the entries held now. */
  get weight(): number {
    return this.#weight;
  }

  /** Forgets everything (after notifications may have been missed). */
  clear(): void {
    this.#entries.clear();
    this.#weight = 0;
  }

  /** Entries held now. */
  get size(): number {
    return this.#entries.size;
  }
}
