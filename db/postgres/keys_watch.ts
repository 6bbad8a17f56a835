/**
 * PostgreSQL: what this instance may believe about API keys without asking
 * again ({@linkcode KeysWatch}): that no key exists (open mode), and the
 * records of the keys that requests present. Apart from keys.ts because
 * keys.ts is bound whole as repository operations (db/bind.ts), and this is
 * engine state, not an operation.
 *
 * @module
 */
import { type ApiKeyRecord, KEYS_CACHED_MAX, KEYS_CHANNEL } from "../types.ts";
import type { Listener } from "./connection.ts";

/**
 * How long an answer about keys is believed without asking PostgreSQL again,
 * in ms. The notification ends it at once; this bounds the case it cannot:
 * a listener connection that died without the client noticing yet.
 */
export const KEYS_TRUST_MS = 1_000;

/** Options for {@linkcode KeysWatch}. */
export interface KeysWatchOptions {
  /** Does any key exist, revoked or not? */
  hasKeys: () => Promise<boolean>;
  /** The key with this id, or undefined. */
  getKey: (id: string) => Promise<ApiKeyRecord | undefined>;
  /** The clock in ms (default `performance.now`; tests move time with their own). */
  now?: () => number;
  /** Key records kept at most (default {@linkcode KEYS_CACHED_MAX}; past it the oldest goes). */
  maxRecords?: number;
}

interface Believed<T> {
  value: T;
  /** Clock time until which it is believed. */
  until: number;
  refreshing: boolean;
}

/**
 * Remembers answers about API keys for as long as they cannot have changed
 * unheard: the answer came from a query made while the listener was already
 * LISTENing on {@linkcode KEYS_CHANNEL}, no key was created or revoked since
 * (both are announced when they commit: keys.ts), the listener is still up,
 * and {@linkcode KEYS_TRUST_MS} has not passed. Any announcement, a lost or
 * re-established listener, or a change through the same handle forgets
 * everything, so a revocation anywhere is refused from the next request
 * after the notification arrives (well under a millisecond on loopback).
 *
 * Two answers are kept: "no key exists" (once a key exists,
 * services/security/api_keys.ts remembers that for good: keys are revoked, never
 * deleted) and the records of keys that exist. While an answer is believed,
 * a use in the last quarter of its second asks again in the background, so
 * it stays believed under load without a gap.
 *
 * @example
 * ```ts ignore
 * const watch = new KeysWatch(listener, {
 *   hasKeys: () => hasApiKeys(connection),
 *   getKey: (id) => getApiKey(connection, id),
 * });
 * await watch.ask(); // false, and now known
 * watch.known(); // false, without a query, for up to a second
 * ```
 */
export class KeysWatch {
  readonly #listener: Pick<Listener, "add" | "listening">;
  readonly #options: KeysWatchOptions;
  readonly #now: () => number;
  /** Bumped by every announcement and reconnection: an answer from before is stale. */
  #epoch = 0;
  #subscribed = false;
  #open: Believed<false> | undefined;
  readonly #records = new Map<string, Believed<ApiKeyRecord>>();

  /** A watch that hears announcements through `listener` and asks with `options`. */
  constructor(listener: Pick<Listener, "add" | "listening">, options: KeysWatchOptions) {
    this.#listener = listener;
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  /** False while "no key exists" is believed; undefined when only a query can say. */
  known(): boolean | undefined {
    if (this.#open === undefined) return undefined;
    if (this.#believe(this.#open, () => this.ask())) return false;
    this.#open = undefined;
    return undefined;
  }

  /**
   * The record of key `id` while it is believed; undefined when only
   * {@linkcode lookup} can say.
   */
  record(id: string): ApiKeyRecord | undefined {
    const kept = this.#records.get(id);
    if (kept === undefined) return undefined;
    if (this.#believe(kept, () => this.lookup(id))) return kept.value;
    this.#records.delete(id);
    return undefined;
  }

  /**
   * Forgets every answer, and any still on its way: called when this handle
   * creates or revokes a key, so this process knows at once, before the
   * announcement comes back to it.
   */
  forget(): void {
    this.#epoch++;
    this.#open = undefined;
    this.#records.clear();
  }

  /** Asks whether a key exists and remembers a "no" it can trust. */
  async ask(): Promise<boolean> {
    return await this.#query(this.#options.hasKeys, (exists, until) => {
      this.#open = exists || until === undefined
        ? undefined
        : { value: false, until, refreshing: false };
    });
  }

  /** Reads key `id` and remembers its record when it can trust it. */
  lookup(id: string): Promise<ApiKeyRecord | undefined> {
    return this.#query(() => this.#options.getKey(id), (record, until) => {
      this.#records.delete(id);
      if (record === undefined || until === undefined) return;
      this.#records.set(id, { value: record, until, refreshing: false });
      if (this.#records.size > (this.#options.maxRecords ?? KEYS_CACHED_MAX)) {
        this.#records.delete(this.#records.keys().next().value!);
      }
    });
  }

  /**
   * Whether `answer` is still believed; in the last quarter of its time it is
   * asked again in the background (once), so uses keep their answer instead
   * of all awaiting a query at once when it runs out: shipped read p99 on
   * PostgreSQL 6.9 and 9.6 ms without, 4.4 and 4.8 ms with (docs/benchmarks.md,
   * issue 15).
   */
  #believe(answer: Believed<unknown>, refresh: () => Promise<unknown>): boolean {
    const left = answer.until - this.#now();
    if (left <= 0 || !this.#listener.listening(KEYS_CHANNEL)) return false;
    if (left < KEYS_TRUST_MS / 4 && !answer.refreshing) {
      answer.refreshing = true;
      refresh().catch(() => {}).finally(() => answer.refreshing = false);
    }
    return true;
  }

  /**
   * Runs `query` and hands its answer to `keep` with the time it may be
   * believed until, or undefined when something may have changed unheard
   * meanwhile (then nothing may be kept, and an older answer is dropped).
   */
  async #query<T>(
    query: () => Promise<T>,
    keep: (value: T, until: number | undefined) => void,
  ): Promise<T> {
    if (!this.#subscribed) {
      this.#subscribed = true;
      // A payload (a key created or revoked) or undefined (reconnected: some
      // may be missed). Either way nothing known before is certain.
      this.#listener.add(KEYS_CHANNEL, () => this.forget());
    }
    const epoch = this.#epoch;
    // Only a LISTEN that was in place before the query started can have
    // heard a change committed after the query's snapshot.
    const heard = this.#listener.listening(KEYS_CHANNEL);
    const started = this.#now();
    const value = await query();
    const trusted = heard && epoch === this.#epoch && this.#listener.listening(KEYS_CHANNEL);
    keep(value, trusted ? started + KEYS_TRUST_MS : undefined);
    return value;
  }
}
