/**
 * Live instances, engine-neutral: each reportd instance records a heartbeat
 * and learns how many instances are alive, to enforce its share of the rate
 * limits without a database round trip per request (services/runtime/instances.ts).
 *
 * @module
 */
import type { Database } from "./mod.ts";
import type { HeartbeatOptions } from "./types.ts";

export type { HeartbeatOptions } from "./types.ts";

/**
 * Records `options.id`'s heartbeat at `options.now`, forgets instances whose
 * last heartbeat is before `options.staleBefore`, and returns how many
 * instances are alive, this one included (so at least 1).
 */
export function heartbeatInstance(db: Database, options: HeartbeatOptions): Promise<number> {
  return db.repositories.heartbeatInstance(options);
}

/** Removes an instance (at shutdown). */
export function removeInstance(db: Database, id: string): Promise<void> {
  return db.repositories.removeInstance(id);
}
