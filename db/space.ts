/**
 * Giving disk space back, whichever engine: after deletes, and on demand
 * (`main.ts vacuum`). SQLite does the work (db/sqlite/space.ts); PostgreSQL's
 * autovacuum reuses freed space by itself, so there it is a no-op.
 *
 * @module
 */
import type { Database } from "./mod.ts";
import type { SpaceResult } from "./types.ts";

export type { SpaceResult } from "./types.ts";

/**
 * Returns free pages to the filesystem where the engine can (SQLite with
 * incremental auto-vacuum); otherwise reports the size unchanged.
 */
export async function reclaimSpace(db: Database): Promise<SpaceResult> {
  if (db.operations.reclaimSpace !== undefined) return await db.operations.reclaimSpace();
  const size = await db.operations.sizeBytes();
  return { before: size, after: size };
}

/**
 * Rewrites the SQLite database at `path` compactly, with incremental
 * auto-vacuum on from then on (`main.ts vacuum`; stop the service first).
 */
export async function vacuumDatabase(path: string): Promise<SpaceResult> {
  const { vacuumSqlite } = await import("./sqlite/space.ts");
  return await vacuumSqlite(path);
}
