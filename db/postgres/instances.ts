/**
 * PostgreSQL: the table of live instances, by which each instance takes its
 * share of the rate limits. Mirrors db/sqlite/instances.ts.
 *
 * @module
 */
import type { HeartbeatOptions } from "../types.ts";
import {
  execute,
  type PostgresConnection as Database,
  rows,
  run,
  transaction,
} from "./connection.ts";

/**
 * Records this instance's heartbeat, forgets instances silent since
 * `staleBefore`, and returns how many are alive (this one included).
 */
export function heartbeatInstance(db: Database, options: HeartbeatOptions): Promise<number> {
  return run("record the instance's heartbeat", () =>
    transaction(db, async (client) => {
      await execute(
        client,
        "INSERT INTO instances (id, started_at, heartbeat_at) VALUES ($1, $2, $2) " +
          "ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
        [options.id, options.now],
      );
      await execute(client, "DELETE FROM instances WHERE heartbeat_at < $1", [
        options.staleBefore,
      ]);
      const [row] = await rows<{ live: number }>(
        client,
        "SELECT count(*) AS live FROM instances",
      );
      return Number(row.live);
    }));
}

/** Removes this instance (at shutdown), so the others' shares grow at once. */
export function removeInstance(db: Database, id: string): Promise<void> {
  return run("remove the instance", async () => {
    await execute(db, "DELETE FROM instances WHERE id = $1", [id]);
  });
}
