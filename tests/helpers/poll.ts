/**
 * Waiting for a report as an HTTP client would: poll `GET /v1/reports/{id}`
 * until a condition holds, with a bound on time. This is the documented way
 * for clients to wait for a 202'd upload; tests of a separate process have no
 * event to await, so they do the same, never a fixed sleep.
 *
 * @module
 */

/** A report as the API returns it (the fields tests read). */
// deno-lint-ignore no-explicit-any
export type ReportBody = Record<string, any>;

/** Options for {@linkcode pollReport}. */
export interface PollOptions {
  /** Stop when this returns true (default: status is ready or failed). */
  until?: (report: ReportBody) => boolean;
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Pause between polls (default 20 ms). */
  intervalMs?: number;
  /** Request headers (an API key). */
  headers?: Record<string, string>;
}

/** Polls the report at `baseUrl` until `until` holds; throws with the last state on timeout. */
export async function pollReport(
  baseUrl: string,
  id: string,
  options: PollOptions = {},
): Promise<ReportBody> {
  const until = options.until ??
    ((report: ReportBody) => report.status === "ready" || report.status === "failed");
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: ReportBody | undefined;
  while (Date.now() < deadline) {
    const response = await fetch(`${baseUrl}/v1/reports/${id}`, { headers: options.headers });
    last = await response.json();
    if (response.ok && until(last!)) return last!;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20));
  }
  throw new Error(`Report ${id} did not reach the expected state: ${JSON.stringify(last)}`);
}

/**
 * Calls `check` until it returns a value other than undefined, pausing
 * `intervalMs` (default 20 ms) between calls; throws naming `what` after
 * `timeoutMs` (default 30 s). For waits on another process, which has no
 * event to await.
 */
export async function pollUntil<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (true) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${options.timeoutMs ?? 30_000} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20));
  }
}
