/**
 * How many reportd instances share the database, learned from heartbeats, so
 * that each enforces its share of the rate limits: with N instances behind a
 * load balancer, each allows `rate / N`, and a client spread over all of them
 * meets the configured rate, not N times it, with no database round trip per
 * request.
 *
 * Every `intervalMs` (default 5 s) an instance writes its heartbeat and reads
 * the number of instances heard from within `3 * intervalMs`. Error bound
 * (docs/scaling.md): in a steady state with a load balancer that spreads a
 * client's requests evenly, the client gets the configured rate; while the
 * count is stale, after an instance started, the others still divide by the
 * old N for at most one interval (at most (N+1)/N of the rate, e.g. 4/3 at
 * N = 3); after an instance died, the rest divide by one too many for up to
 * three intervals (less than the rate: strict, never lax). A balancer that
 * sends one client to one instance only gives that client rate / N, which is
 * why round robin per request is the documented setting.
 *
 * @module
 */
import { heartbeatInstance, removeInstance } from "../../db/instances_repo.ts";
import type { Database } from "../../db/mod.ts";
import { describeError } from "../errors.ts";
import { getLogger } from "../telemetry/logger.ts";

const log = getLogger(["reportd", "instances"]);

/** Options for {@linkcode InstanceRegistry}. */
export interface InstanceRegistryOptions {
  /** The database the instances share. */
  db: Database;
  /** This instance's id (the jobs' `locked_by`, so one name per process). */
  id: string;
  /** Heartbeat interval in ms (default 5 s); silent for three of them is dead. */
  intervalMs?: number;
  /** Clock, replaceable in tests. */
  now?: () => Date;
}

/**
 * This instance's entry in the table of live instances, and the count it
 * last read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeDatabase, openDatabase } from "../../db/mod.ts";
 * import { InstanceRegistry } from "./instances.ts";
 * const db = await openDatabase(":memory:");
 * const registry = new InstanceRegistry({ db, id: "a" });
 * await registry.start();
 * assert.equal(registry.live, 1);
 * assert.equal(registry.share(), 1);
 * await registry.stop();
 * await closeDatabase(db);
 * ```
 */
export class InstanceRegistry {
  readonly #options: InstanceRegistryOptions;
  readonly #intervalMs: number;
  #live = 1;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Registers nothing yet: {@linkcode start} does. */
  constructor(options: InstanceRegistryOptions) {
    this.#options = options;
    this.#intervalMs = options.intervalMs ?? 5_000;
  }

  /** Instances alive at the last heartbeat, this one included (1 until the first). */
  get live(): number {
    return this.#live;
  }

  /** This instance's share of a shared budget: `1 / live`. */
  share(): number {
    return 1 / this.#live;
  }

  /**
   * Records the first heartbeat (failures are logged: with the database down
   * the count stays as it was) and keeps beating every interval.
   */
  async start(): Promise<void> {
    await this.#beat();
    this.#timer = setInterval(() => this.#beat(), this.#intervalMs);
    Deno.unrefTimer(this.#timer);
  }

  /** Stops beating and removes this instance, so the others' shares grow at once. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    try {
      await removeInstance(this.#options.db, this.#options.id);
    } catch (error) {
      // It ages out within three intervals anyway.
      log.warn("Could not remove this instance from the live list: {error}", {
        error: describeError(error),
      });
    }
  }

  async #beat(): Promise<void> {
    const now = this.#options.now?.() ?? new Date();
    try {
      const live = await heartbeatInstance(this.#options.db, {
        id: this.#options.id,
        now: now.toISOString(),
        staleBefore: new Date(now.getTime() - 3 * this.#intervalMs).toISOString(),
      });
      if (live !== this.#live) {
        log.info("Live instances: {live}; each enforces 1/{live} of the rate limits", { live });
      }
      this.#live = Math.max(1, live);
    } catch (error) {
      log.warn("Could not record this instance's heartbeat: {error}", {
        error: describeError(error),
      });
    }
  }
}
