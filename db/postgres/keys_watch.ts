/**
 * PostgreSQL: whether an API key exists, answered from memory while that
 * cannot have changed unheard ({@linkcode OpenModeWatch}). Apart from
 * keys.ts because keys.ts is bound whole as repository operations
 * (db/bind.ts), and this is engine state, not an operation.
 *
 * @module
 */
import { KEYS_CHANNEL } from "../types.ts";
import type { Listener } from "./connection.ts";

/**
 * How long "no key exists" is believed without asking PostgreSQL again, in
 * ms. The notification closes open mode at once; this bounds the case it
 * cannot: a listener connection that died without the client noticing yet.
 */
export const OPEN_MODE_TRUST_MS = 1_000;

/**
 * Remembers that no API key exists, for as long as that cannot have changed
 * unheard: the answer came from a query made while the listener was already
 * LISTENing on {@linkcode KEYS_CHANNEL}, no key was announced since, the
 * listener is still up, and {@linkcode OPEN_MODE_TRUST_MS} has not passed.
 * A key created by any process is announced when its insert commits
 * (`insertApiKey` in keys.ts), so the next request after the notification
 * arrives (well under a millisecond on loopback) is asked for a key.
 *
 * Only "no key" is kept: once a key exists, services/api_keys.ts remembers
 * that for good (keys are revoked, never deleted).
 *
 * While "no" is known, a read in the last quarter of the second asks again
 * in the background, so the answer stays known without a gap.
 *
 * @example
 * ```ts ignore
 * const watch = new OpenModeWatch(listener, { query: () => hasApiKeys(connection) });
 * await watch.ask(); // false, and now known
 * watch.known(); // false, without a query, for up to a second
 * ```
 */
export class OpenModeWatch {
  readonly #listener: Pick<Listener, "add" | "listening">;
  /** Bumped by every announcement and reconnection: an answer from before is stale. */
  #epoch = 0;
  #openUntil = 0;
  #subscribed = false;
  #refreshing = false;
  readonly #query: () => Promise<boolean>;
  readonly #now: () => number;

  /**
   * A watch that hears announcements through `listener` and asks
   * `options.query` (does a key exist?); `options.now` is its clock in ms
   * (default `performance.now`; tests move time with their own).
   */
  constructor(
    listener: Pick<Listener, "add" | "listening">,
    options: { query: () => Promise<boolean>; now?: () => number },
  ) {
    this.#listener = listener;
    this.#query = options.query;
    this.#now = options.now ?? (() => performance.now());
  }

  /** False while "no key exists" is known; undefined when only a query can say. */
  known(): boolean | undefined {
    if (this.#openUntil === 0) return undefined;
    const left = this.#openUntil - this.#now();
    if (left > 0 && this.#listener.listening(KEYS_CHANNEL)) {
      // Asked again in the background before it runs out, so reads keep
      // their synchronous answer instead of all awaiting a query at once
      // every second: shipped read p99 on PostgreSQL 6.9 and 9.6 ms without,
      // 4.4 and 4.8 ms with (docs/benchmarks.md, issue 15).
      if (left < OPEN_MODE_TRUST_MS / 4 && !this.#refreshing) {
        this.#refreshing = true;
        this.ask().catch(() => {}).finally(() => this.#refreshing = false);
      }
      return false;
    }
    this.#openUntil = 0;
    return undefined;
  }

  /**
   * Forgets "no key", and any answer still on its way: called when this
   * handle stores a key, so this process knows at once, before the
   * announcement comes back to it.
   */
  forget(): void {
    this.#epoch++;
    this.#openUntil = 0;
  }

  /** Asks whether a key exists and remembers a "no" it can trust. */
  async ask(): Promise<boolean> {
    if (!this.#subscribed) {
      this.#subscribed = true;
      // A payload (a new key) or undefined (reconnected: some may be missed).
      this.#listener.add(KEYS_CHANNEL, () => this.forget());
    }
    const epoch = this.#epoch;
    // Only a LISTEN that was in place before the query started can have
    // heard a key committed after the query's snapshot.
    const heard = this.#listener.listening(KEYS_CHANNEL);
    const started = this.#now();
    const found = await this.#query();
    if (found) this.#openUntil = 0;
    else if (heard && epoch === this.#epoch && this.#listener.listening(KEYS_CHANNEL)) {
      this.#openUntil = started + OPEN_MODE_TRUST_MS;
    }
    return found;
  }
}
