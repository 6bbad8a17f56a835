/**
 * Errors to RFC 9457 problem documents: the one place where a failure becomes
 * an HTTP status.
 *
 * Services throw {@linkcode AppError} with a kind; storage throws
 * {@linkcode StorageError}; anything else is a bug. Each is answered with
 * `application/problem+json`, and nothing internal (stack, SQL, paths) ever
 * reaches the client: unexpected errors are logged in full and answered with a
 * generic 500 that carries the request id, so an operator can find the log line.
 *
 * @module
 */
import type { Context } from "hono";
import type { HTTPResponseError } from "hono/types";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import { isStorageFull, StorageError } from "../../db/errors.ts";
import { FULL_RETRY_AFTER_SECONDS } from "../../services/runtime/disk_space.ts";
import { AppError, describeError, type ErrorKind, type FieldError } from "../../services/errors.ts";
import { getLogger } from "../../services/telemetry/logger.ts";
import { requestPath } from "./host.ts";

/** The media type of every error response. */
export const PROBLEM_CONTENT_TYPE = "application/problem+json";

const MAX_INSTANCE_LENGTH = 1024;

/** An RFC 9457 problem document as reportd sends it. */
export interface ProblemDocument {
  /** A URI naming the problem type; `/problems/<slug>` on this server documents it. */
  type: string;
  /** A short summary of the type, the same for every occurrence. */
  title: string;
  /** The HTTP status code. */
  status: number;
  /** What went wrong this time, for a person to read. */
  detail?: string;
  /** The path of the request that failed. */
  instance?: string;
  /** The request's id, to quote when reporting a problem. */
  request_id?: string;
  /** Field-level validation failures. */
  errors?: FieldError[];
}

/** A problem type: its status, title and what it means (shown at `/problems/<slug>`). */
export interface ProblemType {
  status: ContentfulStatusCode;
  title: string;
  description: string;
}

/** Every problem type reportd answers with, by slug. */
export const PROBLEM_TYPES = {
  "invalid-input": {
    status: 422,
    title: "Invalid input",
    description: "The body was read but its content cannot be used; `errors` names the fields.",
  },
  "invalid-parameter": {
    status: 400,
    title: "Invalid request parameter",
    description: "A path or query parameter is malformed or out of range; `errors` names it.",
  },
  "malformed-body": {
    status: 400,
    title: "Malformed request body",
    description: "The body cannot be parsed at all (for example JSON with a syntax error).",
  },
  "not-found": {
    status: 404,
    title: "Not found",
    description: "No resource exists at this path (or the report was deleted).",
  },
  "method-not-allowed": {
    status: 405,
    title: "Method not allowed",
    description: "The path exists but not for this method; the `Allow` header lists the methods.",
  },
  "conflict": {
    status: 409,
    title: "Conflict",
    description: "The resource is not in a state that allows this yet; retry after `Retry-After`.",
  },
  "payload-too-large": {
    status: 413,
    title: "Payload too large",
    description: "The body or its number of rows exceeds the configured limit.",
  },
  "unsupported-media-type": {
    status: 415,
    title: "Unsupported media type",
    description: "Send `text/csv` or `application/json` in UTF-8.",
  },
  "unauthorized": {
    status: 401,
    title: "Unauthorized",
    description: "No valid API key was sent: send `Authorization: Bearer <key>` (see the " +
      "`WWW-Authenticate` header).",
  },
  "forbidden": {
    status: 403,
    title: "Forbidden",
    description: "The API key is valid but lacks the scope this needs (read, write or admin), " +
      "or the report was created by another key.",
  },
  "request-timeout": {
    status: 408,
    title: "Request timeout",
    description: "The request body did not arrive in time (REPORTD_BODY_TIMEOUT and " +
      "REPORTD_BODY_MIN_RATE); send it again, faster or smaller.",
  },
  "uri-too-long": {
    status: 414,
    title: "URI too long",
    description: "The path or the query string exceeds the length reportd accepts.",
  },
  "too-many-requests": {
    status: 429,
    title: "Too many requests",
    description: "This client used up its request budget; retry after `Retry-After` seconds. " +
      "The `RateLimit-*` headers show the budget.",
  },
  "insufficient-storage": {
    status: 507,
    title: "Insufficient storage",
    description: "The server's disk is full, so the upload was not stored; retry after " +
      "`Retry-After` seconds. Reads and deletes keep working.",
  },
  "service-unavailable": {
    status: 503,
    title: "Service unavailable",
    description: "A dependency such as the database is not answering; retry later.",
  },
  "processing-failed": {
    status: 500,
    title: "Processing failed",
    description: "Processing crashed on every attempt; stored on the failed report, not sent as " +
      "a response status. The raw upload is kept for REPORTD_FAILED_RETENTION for inspection.",
  },
  "internal-error": {
    status: 500,
    title: "Internal server error",
    description: "An unexpected failure; it was logged with the request id.",
  },
} as const satisfies Record<string, ProblemType>;

/** A slug of {@linkcode PROBLEM_TYPES}. */
export type ProblemSlug = keyof typeof PROBLEM_TYPES;

const SLUG_BY_KIND: Record<ErrorKind, ProblemSlug> = {
  invalid_input: "invalid-input",
  invalid_parameter: "invalid-parameter",
  malformed_body: "malformed-body",
  not_found: "not-found",
  payload_too_large: "payload-too-large",
  unsupported_media_type: "unsupported-media-type",
  conflict: "conflict",
  unavailable: "service-unavailable",
  processing_failed: "processing-failed",
  unauthorized: "unauthorized",
  forbidden: "forbidden",
  rate_limited: "too-many-requests",
  request_timeout: "request-timeout",
  uri_too_long: "uri-too-long",
  insufficient_storage: "insufficient-storage",
};

/** Options for {@linkcode problemResponse}. */
export interface ProblemOptions {
  /** What went wrong this time. */
  detail?: string;
  /** Field-level failures. */
  errors?: FieldError[];
  /** Extra response headers (`Allow`, `Retry-After`, ...). */
  headers?: Record<string, string>;
}

/**
 * Builds the problem object of type `slug` without request details: for
 * responses, and for the `error` member of a failed report.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { problemObject } from "./problem.ts";
 * assert.deepEqual(problemObject("not-found", { detail: "Gone" }), {
 *   type: "/problems/not-found",
 *   title: "Not found",
 *   status: 404,
 *   detail: "Gone",
 *   errors: undefined,
 * });
 * ```
 */
export function problemObject(
  slug: ProblemSlug,
  options: Pick<ProblemOptions, "detail" | "errors"> = {},
): ProblemDocument {
  const type: ProblemType = PROBLEM_TYPES[slug];
  return {
    type: `/problems/${slug}`,
    title: type.title,
    status: type.status,
    detail: options.detail,
    errors: options.errors,
  };
}

/** Returns the problem slug for a domain error kind. */
export function slugForKind(kind: ErrorKind): ProblemSlug {
  return SLUG_BY_KIND[kind];
}

/**
 * Builds a problem response of type `slug` for the request in `c`.
 *
 * @example
 * ```ts ignore
 * return problemResponse(c, "not-found", { detail: "There is no report with id \"x\"" });
 * ```
 */
export function problemResponse(
  c: Context,
  slug: ProblemSlug,
  options: ProblemOptions = {},
): Response {
  // The target's path, not one a forged Host header made up (host.ts).
  const path = requestPath(c);
  const body: ProblemDocument = {
    ...problemObject(slug, options),
    // Capped: a problem must not echo a megabyte of path back (414 is for exactly that).
    instance: path.length > MAX_INSTANCE_LENGTH ? `${path.slice(0, MAX_INSTANCE_LENGTH)}...` : path,
    request_id: c.get("requestId"),
  };
  return c.body(JSON.stringify(body), PROBLEM_TYPES[slug].status, {
    ...options.headers,
    "content-type": PROBLEM_CONTENT_TYPE,
  });
}

/** The app's error handler: maps every thrown value to a problem response. */
export function handleError(error: Error | HTTPResponseError, c: Context): Response {
  if (error instanceof AppError) {
    const headers: Record<string, string> = {};
    if (error.retryAfterSeconds !== undefined) {
      headers["retry-after"] = String(Math.max(1, Math.ceil(error.retryAfterSeconds)));
    }
    return problemResponse(c, SLUG_BY_KIND[error.kind], {
      detail: error.message,
      errors: error.errors,
      headers,
    });
  }
  if (error instanceof StorageError && isStorageFull(error)) {
    return problemResponse(c, "insufficient-storage", {
      detail: "The server's disk is full; nothing was changed. Retry later",
      headers: { "retry-after": String(FULL_RETRY_AFTER_SECONDS) },
    });
  }
  if (error instanceof StorageError) {
    getLogger(["reportd", "http"]).error("Storage failure on {method} {path}: {error}", {
      method: c.req.method,
      path: c.req.path,
      error: describeError(error),
    });
    return problemResponse(c, "service-unavailable", {
      detail: "The database is not answering; retry shortly",
      headers: { "retry-after": "5" },
    });
  }
  // Middleware built on Hono's (the handler timeout) throws HTTPException; a
  // domain error carried as its cause is answered like any other AppError.
  if (error instanceof HTTPException && error.cause instanceof AppError) {
    return handleError(error.cause, c);
  }
  if (error instanceof HTTPException && error.status < 500) {
    return problemResponse(c, slugForStatus(error.status), { detail: error.message });
  }
  getLogger(["reportd", "http"]).error("Unhandled error on {method} {path}: {error}", {
    method: c.req.method,
    path: c.req.path,
    error: describeError(error),
  });
  return problemResponse(c, "internal-error", {
    detail: "Something went wrong on our side; quote the request_id when reporting it",
  });
}

/** The app's not-found handler: unknown routes are 404 problems too. */
export function handleNotFound(c: Context): Response {
  return problemResponse(c, "not-found", { detail: `Nothing is served at ${c.req.path}` });
}

/** Builds the 405 problem used by Hono's `methodNotAllowed` middleware. */
export function methodNotAllowedResponse(c: Context, methods: string[]): Response {
  return problemResponse(c, "method-not-allowed", {
    detail: `${c.req.method} is not supported here; use ${methods.join(", ")}`,
    headers: { allow: methods.join(", ") },
  });
}

/**
 * Converts a zod error into field errors with dotted paths prefixed by where
 * the value came from (`query`, `path`, `body`).
 */
export function fieldErrors(error: z.ZodError, prefix: string): FieldError[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].join("."),
    message: issue.message,
  }));
}

function slugForStatus(status: number): ProblemSlug {
  const found = Object.entries(PROBLEM_TYPES).find(([, type]) => type.status === status);
  return (found?.[0] as ProblemSlug | undefined) ?? "invalid-parameter";
}
