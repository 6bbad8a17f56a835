/**
 * Outgoing HTTP for providers: timeouts, retries with backoff and jitter,
 * `Retry-After`, a response size cap, a content-type check, and SSRF guards
 * on every hop (the first URL and every redirect).
 *
 * @module
 */
import { lookup } from "node:dns/promises";
import { concatBytes } from "../bytes.ts";
import { tracedFetch } from "../telemetry/tracing.ts";
import { isPublicAddress } from "./addresses.ts";

/** Why an upstream call failed, for the report's problem kind. */
export type UpstreamFailure =
  | "unavailable" // network errors, timeouts, 429 and 5xx after retries
  | "not_found" // 404 or the provider's own "no data"
  | "rejected" // another 4xx
  | "forbidden" // the URL, a redirect or its address is not allowed
  | "invalid"; // wrong content type, too large, unreadable

/** A failed upstream call. */
export class UpstreamError extends Error {
  /** What kind of failure. */
  readonly failure: UpstreamFailure;

  /** Creates an error of `failure` kind; the message is fit for a failed report. */
  constructor(failure: UpstreamFailure, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "UpstreamError";
    this.failure = failure;
  }
}

/** Options for {@linkcode fetchUpstream}. */
export interface FetchUpstreamOptions {
  /** Timeout of each attempt, in ms. */
  timeoutMs: number;
  /** Largest body accepted; a larger one fails the call. */
  maxBytes: number;
  /** Host names the URL and every redirect may lead to. */
  isAllowedHost: (host: string) => boolean;
  /** Allow loopback and private addresses (tests only). */
  allowPrivate: boolean;
  /** Allow plain http (tests only). */
  allowHttp: boolean;
  /** Attempts in all (default 3). */
  attempts?: number;
  /** Longest wait honoured from a `Retry-After`, in ms (default 30 s). */
  maxRetryAfterMs?: number;
  /** Base of the exponential backoff, in ms (default 250). */
  backoffBaseMs?: number;
  /** Headers to send (e.g. `traceparent`). */
  headers?: Record<string, string>;
  /** Cancels the whole call (shutdown). */
  signal?: AbortSignal;
}

/** A successful response. */
export interface UpstreamResponse {
  /** The body, at most `maxBytes`. */
  body: Uint8Array;
  /** The response's media type. */
  contentType: string;
  /** The attempts made, including the successful one. */
  attempts: number;
}

const ACCEPTED_TYPES = new Set(["text/csv", "text/plain", "application/csv"]);
const MAX_REDIRECTS = 3;

/**
 * GETs `url`, retrying network errors, 429 and 5xx (and nothing else) up to
 * `attempts` times with exponential backoff and full jitter, or after the
 * server's `Retry-After` when it sends one. Redirects are followed by hand,
 * each one checked like the first URL.
 */
export async function fetchUpstream(
  url: URL,
  options: FetchUpstreamOptions,
): Promise<UpstreamResponse> {
  const attempts = options.attempts ?? 3;
  let lastError: UpstreamError | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let retryAfterMs: number | undefined;
    try {
      const response = await fetchFollowingRedirects(url, options);
      if (response.status === 429 || response.status >= 500) {
        await response.body?.cancel();
        retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
        lastError = new UpstreamError(
          "unavailable",
          `The upstream answered ${response.status} ${response.statusText}`.trim(),
        );
      } else if (!response.ok) {
        await response.body?.cancel();
        throw new UpstreamError(
          response.status === 404 ? "not_found" : "rejected",
          `The upstream answered ${response.status} ${response.statusText}`.trim(),
        );
      } else {
        const contentType = mediaType(response.headers.get("content-type"));
        if (!ACCEPTED_TYPES.has(contentType)) {
          await response.body?.cancel();
          throw new UpstreamError(
            "invalid",
            `The upstream sent ${contentType || "no content type"}, not CSV`,
          );
        }
        const body = await readCapped(response, options.maxBytes);
        return { body, contentType, attempts: attempt };
      }
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      if (options.signal?.aborted) throw new UpstreamError("unavailable", "The call was cancelled");
      lastError = new UpstreamError("unavailable", describeNetworkError(error, options), {
        cause: error,
      });
    }
    if (attempt < attempts) await delay(backoff(attempt, retryAfterMs, options), options.signal);
  }
  throw new UpstreamError(
    "unavailable",
    `${lastError?.message ?? "The upstream failed"} (after ${attempts} attempts)`,
    { cause: lastError },
  );
}

/**
 * What is wrong with `url` before any lookup, or undefined: the scheme must
 * be https (or http where allowed) and the URL must carry no credentials.
 * Used when a request is validated and again before every fetch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { urlProblem } from "./http_client.ts";
 * assert.equal(urlProblem(new URL("https://example.org/a.csv"), { allowHttp: false }), undefined);
 * assert.match(urlProblem(new URL("http://example.org/"), { allowHttp: false }) ?? "", /https/);
 * ```
 */
export function urlProblem(
  url: URL,
  options: Pick<FetchUpstreamOptions, "allowHttp">,
): string | undefined {
  if (url.protocol !== "https:" && !(options.allowHttp && url.protocol === "http:")) {
    return `Only https URLs may be fetched, not ${url.protocol}`;
  }
  if (url.username !== "" || url.password !== "") return "URLs with credentials are not fetched";
  return undefined;
}

/**
 * Throws `forbidden` unless `url` may be fetched: http(s) only (https unless
 * allowed), no credentials in it, and every address its host resolves to is
 * public unless private ones are allowed.
 *
 * The addresses are resolved here and again by `fetch`, so a DNS server that
 * changes its answer in between ("DNS rebinding") could still slip through;
 * Deno's fetch cannot be pinned to an address. The exact host allowlist is
 * the first line of defence, this check the second.
 */
export async function checkUrl(
  url: URL,
  options: Pick<FetchUpstreamOptions, "allowPrivate" | "allowHttp">,
): Promise<void> {
  const problem = urlProblem(url, options);
  if (problem !== undefined) throw new UpstreamError("forbidden", problem);
  if (options.allowPrivate) return;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: string[];
  try {
    addresses = (await lookup(host, { all: true })).map((entry) => entry.address);
  } catch (error) {
    throw new UpstreamError("unavailable", `Cannot resolve ${host}`, { cause: error });
  }
  const blocked = addresses.find((address) => !isPublicAddress(address));
  if (blocked !== undefined || addresses.length === 0) {
    throw new UpstreamError("forbidden", `${host} resolves to a non-public address`);
  }
}

async function fetchFollowingRedirects(
  url: URL,
  options: FetchUpstreamOptions,
): Promise<Response> {
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    if (!options.isAllowedHost(current.hostname)) {
      throw new UpstreamError("forbidden", `${current.hostname} is not an allowed host`);
    }
    await checkUrl(current, options);
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    // Each hop is a client span that carries `traceparent` to the upstream.
    const response = await tracedFetch(current, {
      redirect: "manual",
      signal,
      headers: { accept: "text/csv, text/plain;q=0.9", ...options.headers },
    });
    if (response.status < 300 || response.status >= 400 || response.status === 304) {
      return response;
    }
    await response.body?.cancel();
    const location = response.headers.get("location");
    if (location === null) throw new UpstreamError("rejected", "A redirect without a Location");
    const next = new URL(location, current);
    if (!options.isAllowedHost(next.hostname)) {
      throw new UpstreamError("forbidden", `A redirect to ${next.hostname} is not allowed`);
    }
    current = next;
  }
  throw new UpstreamError("rejected", `More than ${MAX_REDIRECTS} redirects`);
}

async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw tooLarge(maxBytes);
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const part of response.body ?? []) {
      total += part.byteLength;
      if (total > maxBytes) {
        await response.body?.cancel().catch(() => {});
        throw tooLarge(maxBytes);
      }
      parts.push(part);
    }
  } catch (error) {
    if (error instanceof UpstreamError) throw error;
    throw new UpstreamError("unavailable", "The upstream connection broke mid-response", {
      cause: error,
    });
  }
  return concatBytes(parts, total);
}

function tooLarge(maxBytes: number): UpstreamError {
  return new UpstreamError("invalid", `The upstream response exceeds ${maxBytes} bytes`);
}

/** Full jitter: a random wait up to base x 2^attempt, or the server's Retry-After. */
function backoff(attempt: number, retryAfterMs: number | undefined, options: FetchUpstreamOptions) {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, options.maxRetryAfterMs ?? 30_000);
  const ceiling = Math.min(10_000, (options.backoffBaseMs ?? 250) * 2 ** attempt);
  return Math.random() * ceiling;
}

/**
 * Parses `Retry-After` (delay-seconds or an HTTP date) into milliseconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRetryAfter } from "./http_client.ts";
 * assert.equal(parseRetryAfter("2"), 2000);
 * assert.equal(parseRetryAfter("soon"), undefined);
 * ```
 */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function mediaType(header: string | null): string {
  return (header ?? "").split(";")[0].trim().toLowerCase();
}

function describeNetworkError(error: unknown, options: FetchUpstreamOptions): string {
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return `The upstream did not answer within ${options.timeoutMs} ms`;
  }
  return "The upstream could not be reached";
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
