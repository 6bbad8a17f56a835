/**
 * SQLite: the table of live instances (one, on SQLite). Mirrors
 * db/postgres/instances.ts statement for statement.
 *
 * @module
 */
import type { HeartbeatOptions } from "../types.ts";
import { run, type SqliteConnection as Database, statement, transaction } from "./connection.ts";

/**
 * Records this instance's heartbeat, forgets instances silent since
 * `staleBefore`, and returns how many are alive (this one included).
 */
export function heartbeatInstance(db: Database, options: HeartbeatOptions): Promise<number> {
  return run("record the instance's heartbeat", () =>
    transaction(db, () => {
      statement(
        db,
        "INSERT INTO instances (id, started_at, heartbeat_at) VALUES (?, ?, ?) " +
          "ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
      ).run(options.id, options.now, options.now);
      statement(db, "DELETE FROM instances WHERE heartbeat_at < ?").run(options.staleBefore);
      const row = statement(db, "SELECT count(*) AS live FROM instances").get() as {
        live: number;
      };
      return Number(row.live);
    }));
}

/** Removes this instance (at shutdown), so the others' shares grow at once. */
export function removeInstance(db: Database, id: string): Promise<void> {
  return run("remove the instance", () => {
    statement(db, "DELETE FROM instances WHERE id = ?").run(id);
  });
}
