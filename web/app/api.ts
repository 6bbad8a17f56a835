/**
 * The page's one way to talk to the API: every request goes through
 * {@linkcode apiFetch}, which adds the API key when one is stored and turns
 * every failure (an HTTP error, a network error, a body that is not a problem
 * document) into an {@linkcode ApiError} carrying an RFC 9457 problem, so the
 * rest of the page has a single error shape to show.
 *
 * @module
 */
import type { Problem } from "./types.ts";

/** Where the API key is kept: this tab only, gone when it closes. */
const KEY_STORAGE = "reportd.api-key";

/**
 * Dispatched on `globalThis` when the server answers 401, so the page can ask
 * for a key wherever the request came from.
 */
export const UNAUTHORIZED_EVENT = "reportd:unauthorized";

/** An API failure, with the problem document that explains it. */
export class ApiError extends Error {
  /** The problem document (synthesized when the server sent none). */
  readonly problem: Problem;
  /** Seconds the server asked us to wait (`Retry-After`), if it did. */
  readonly retryAfterSeconds: number | undefined;

  /** Wraps `problem`; the message is its title and detail. */
  constructor(problem: Problem, retryAfterSeconds?: number) {
    super(describeProblem(problem));
    this.name = "ApiError";
    this.problem = problem;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * Reads a `Retry-After` header: delay-seconds or an HTTP date. Returns
 * seconds (at least 0), or undefined when absent or unreadable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRetryAfter } from "./api.ts";
 * assert.equal(parseRetryAfter("3"), 3);
 * const now = Date.parse("2026-01-01T00:00:00Z");
 * assert.equal(parseRetryAfter("Thu, 01 Jan 2026 00:00:05 GMT", now), 5);
 * assert.equal(parseRetryAfter("soon"), undefined);
 * ```
 */
export function parseRetryAfter(
  value: string | null,
  now: number = Date.now(),
): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/**
 * Turns whatever an error response carried into a problem document: the body
 * itself when it is one, otherwise a problem built from the status line, so a
 * proxy's HTML error page still reads sensibly.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toProblem } from "./api.ts";
 * assert.equal(toProblem(502, "Bad Gateway", "<html>").title, "Bad Gateway");
 * const problem = { type: "/problems/not-found", title: "Not found", status: 404 };
 * assert.deepEqual(toProblem(404, "", problem), problem);
 * ```
 */
export function toProblem(status: number, statusText: string, body: unknown): Problem {
  if (isProblem(body)) return body;
  return {
    type: "about:blank",
    title: statusText || `HTTP error ${status}`,
    status,
    detail: `The server answered ${status} without an explanation`,
  };
}

function isProblem(body: unknown): body is Problem {
  if (typeof body !== "object" || body === null) return false;
  const candidate = body as Record<string, unknown>;
  return typeof candidate.title === "string" && typeof candidate.status === "number";
}

/**
 * One line for a person: the problem's title, then its detail when it adds
 * something.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeProblem } from "./api.ts";
 * const problem = { type: "t", title: "Not found", status: 404, detail: "No report 1" };
 * assert.equal(describeProblem(problem), "Not found: No report 1");
 * ```
 */
export function describeProblem(problem: Problem): string {
  const detail = problem.detail?.trim();
  return detail ? `${problem.title}: ${detail}` : problem.title;
}

/**
 * The form control a field error's path points at: its last dotted segment
 * (`query.name` is the `name` field).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fieldName } from "./api.ts";
 * assert.equal(fieldName("query.name"), "name");
 * assert.equal(fieldName("body.source.symbol"), "symbol");
 * ```
 */
export function fieldName(path: string): string {
  return path.split(".").at(-1) ?? path;
}

/** The stored API key, or null when none is set. */
export function storedApiKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    // Storage can be disabled by the browser's privacy settings; the page
    // still works against an open server.
    return null;
  }
}

/** Stores the API key for this tab, or forgets it when `key` is empty. */
export function storeApiKey(key: string): void {
  try {
    if (key === "") sessionStorage.removeItem(KEY_STORAGE);
    else sessionStorage.setItem(KEY_STORAGE, key);
  } catch {
    throw new ApiError({
      type: "about:blank",
      title: "Cannot store the key",
      status: 0,
      detail: "This browser does not allow session storage for this page",
    });
  }
}

/**
 * `fetch` for the API: same origin, the API key as a bearer token when one is
 * stored, and any non-2xx answer (but 304) thrown as an {@linkcode ApiError}.
 */
export async function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (!headers.has("accept")) headers.set("accept", "application/json");
  const key = storedApiKey();
  if (key !== null) headers.set("authorization", `Bearer ${key}`);
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError({
      type: "about:blank",
      title: "Network error",
      status: 0,
      detail: "The server could not be reached; check the connection and try again",
    });
  }
  if (response.ok || response.status === 304) return response;
  if (response.status === 401) globalThis.dispatchEvent(new Event(UNAUTHORIZED_EVENT));
  const body = await response.json().catch(() => undefined);
  throw new ApiError(
    toProblem(response.status, response.statusText, body),
    parseRetryAfter(response.headers.get("retry-after")),
  );
}

/** {@linkcode apiFetch} and the JSON body. */
export async function apiJson<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await apiFetch(path, init);
  return await response.json() as T;
}
