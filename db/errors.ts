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
