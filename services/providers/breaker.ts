/**
 * A circuit breaker: after repeated failures, stop calling an upstream for a
 * while, so a provider in trouble is not hammered by our retries and our jobs
 * fail fast with a clear "unavailable" instead of each waiting for timeouts.
 *
 * closed --(N consecutive failures)--> open --(cool-down)--> half-open
 * half-open lets exactly one probe through: success closes, failure re-opens.
 *
 * @module
 */

/** The breaker's state, as `GET /v1/providers` shows it. */
export type CircuitState = "closed" | "open" | "half_open";

/** Options for {@linkcode CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit (default 5). */
  failureThreshold?: number;
  /** How long it stays open before one probe is allowed, in ms (default 30 s). */
  coolDownMs?: number;
  /** Clock in ms, replaceable in tests. */
  now?: () => number;
}

/**
 * Tracks one upstream's health.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CircuitBreaker } from "./breaker.ts";
 * let now = 0;
 * const breaker = new CircuitBreaker({ failureThreshold: 2, coolDownMs: 100, now: () => now });
 * breaker.recordFailure();
 * breaker.recordFailure();
 * assert.equal(breaker.tryAcquire(), false);
 * now = 100;
 * assert.equal(breaker.tryAcquire(), true); // the half-open probe
 * assert.equal(breaker.tryAcquire(), false); // only one
 * breaker.recordSuccess();
 * assert.equal(breaker.state, "closed");
 * ```
 */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #coolDownMs: number;
  readonly #now: () => number;
  #failures = 0;
  #openedAt: number | undefined;
  #probing = false;

  /** Creates a closed breaker. */
  constructor(options: CircuitBreakerOptions = {}) {
    this.#threshold = options.failureThreshold ?? 5;
    this.#coolDownMs = options.coolDownMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  /** The current state. */
  get state(): CircuitState {
    if (this.#openedAt === undefined) return "closed";
    return this.#now() - this.#openedAt >= this.#coolDownMs ? "half_open" : "open";
  }

  /** Seconds until a probe will be allowed (0 unless open). */
  get retryAfterSeconds(): number {
    if (this.#openedAt === undefined) return 0;
    return Math.max(0, Math.ceil((this.#openedAt + this.#coolDownMs - this.#now()) / 1000));
  }

  /**
   * Asks to make one upstream call. False while open, and while half-open
   * once the single probe is out; the caller then fails fast.
   */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === "closed") return true;
    if (state === "open" || this.#probing) return false;
    this.#probing = true;
    return true;
  }

  /** The call succeeded: close the circuit. */
  recordSuccess(): void {
    this.#failures = 0;
    this.#openedAt = undefined;
    this.#probing = false;
  }

  /** The call failed: count it, and open (again) at the threshold or after a failed probe. */
  recordFailure(): void {
    this.#failures++;
    if (this.#probing || this.#failures >= this.#threshold) this.#openedAt = this.#now();
    this.#probing = false;
  }
}
