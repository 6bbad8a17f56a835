/**
 * Domain errors: a failure a client can act on, described by its kind.
 *
 * Services throw {@linkcode AppError}; they never know HTTP status codes.
 * `routes/middleware/problem.ts` is the one place that maps a kind to a status
 * and an RFC 9457 problem document, so the HTTP contract lives in one table.
 *
 * @module
 */

/** What went wrong, in terms a client can act on. */
export type ErrorKind =
  | "invalid_input"
  | "invalid_parameter"
  | "malformed_body"
  | "not_found"
  | "payload_too_large"
  | "unsupported_media_type"
  | "conflict"
  | "unavailable"
  | "processing_failed"
  | "unauthorized"
  | "forbidden"
  | "rate_limited"
  | "request_timeout"
  | "uri_too_long"
  | "insufficient_storage";

/** One field that failed validation: a dotted path into the input and why. */
export interface FieldError {
  /** Where in the input, e.g. `columns.value` or `query.limit`. */
  path: string;
  /** Why it was rejected, for a person to read. */
  message: string;
}

/** Optional parts of an {@linkcode AppError}. */
export interface AppErrorOptions {
  /** Field-level validation failures. */
  errors?: FieldError[];
  /** Seconds after which retrying may succeed (for `unavailable`/`conflict`). */
  retryAfterSeconds?: number;
  /** The underlying error, kept for logs only, never sent to a client. */
  cause?: unknown;
}

/**
 * A failure with a kind, a human-readable detail and optional field errors.
 *
 * @example Throw a validation error that names the field
 * ```ts
 * import { AppError } from "./errors.ts";
 * const error = new AppError("invalid_input", "The header has no numeric column", {
 *   errors: [{ path: "header", message: "Add at least one column after the timestamp" }],
 * });
 * console.assert(error.kind === "invalid_input");
 * ```
 */
export class AppError extends Error {
  /** What went wrong. */
  readonly kind: ErrorKind;
  /** Field-level validation failures, if any. */
  readonly errors: FieldError[] | undefined;
  /** Seconds after which a retry may succeed, if known. */
  readonly retryAfterSeconds: number | undefined;

  /** Creates an error of `kind` whose message is the client-facing detail. */
  constructor(kind: ErrorKind, detail: string, options: AppErrorOptions = {}) {
    super(detail, { cause: options.cause });
    this.name = "AppError";
    this.kind = kind;
    this.errors = options.errors;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/**
 * An error's stack, and its cause's, as one string for a log line (never for
 * a client): a `StorageError` is only useful with the SQLite error inside it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeError } from "./errors.ts";
 * const error = new Error("Cannot read", { cause: new Error("disk I/O error") });
 * assert.match(describeError(error), /Cannot read[\s\S]*Caused by: Error: disk I\/O error/);
 * assert.equal(describeError("plain"), "plain");
 * ```
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `\nCaused by: ${error.cause.stack}` : "";
  return `${error.stack ?? error.message}${cause}`;
}
