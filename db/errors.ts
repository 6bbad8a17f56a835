/**
 * Storage failures, kept apart from the domain's errors so that db/ imports
 * nothing from services/ (dependencies point one way: services -> db).
 *
 * @module
 */

/**
 * The database could not do what was asked (locked, full, corrupt, closed).
 * The HTTP layer answers it with 503 and a generic message: the cause goes to
 * the log only, because SQL and file paths must never reach a client.
 */
export class StorageError extends Error {
  /** Wraps `cause` with a message that is safe to log. */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "StorageError";
  }
}

/**
 * True when `error` (or its cause) says the disk or the database is full:
 * SQLite's `SQLITE_FULL` ("database or disk is full") or the OS's `ENOSPC`
 * ("No space left on device"). node:sqlite gives no error code here, so the
 * message is what is left to tell.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isStorageFull, StorageError } from "./errors.ts";
 * const full = new StorageError("Cannot store the upload", {
 *   cause: new Error("database or disk is full"),
 * });
 * assert.ok(isStorageFull(full));
 * assert.ok(!isStorageFull(new StorageError("Cannot read", { cause: new Error("locked") })));
 * ```
 */
export function isStorageFull(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    if (/database or disk is full|No space left on device|os error 28/.test(current.message)) {
      return true;
    }
    current = current.cause;
  }
  return false;
}
