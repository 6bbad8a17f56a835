/**
 * Watching reports until they settle: the page's polling, in one place.
 *
 * A report is `queued` or `processing` for anything from milliseconds to
 * minutes, and the API has no push channel, so the page polls
 * `GET /v1/reports/{id}`. Polling is cheap only if it is polite:
 *
 * - it backs off (0.5 s, 0.75 s, ... up to 10 s) while nothing changes, and
 *   starts quick again when something does or a new report is watched;
 * - a `Retry-After` from the server (a 503 or 429 under load) is a floor for
 *   the next delay, never undercut;
 * - it asks about a few reports per round at most, oldest answer first, so a
 *   burst of uploads does not become a burst of requests;
 * - it stops completely when nothing is pending: no timer is left running.
 *
 * The clock and the fetch are injected, so this logic is tested without a
 * browser and without waiting.
 *
 * @module
 */
import { isPending, type Report } from "./types.ts";

/** How the delay between polling rounds grows. */
export interface BackoffOptions {
  /** The first delay, and the delay after a change (ms). */
  initialMs: number;
  /** The longest delay (ms). */
  maxMs: number;
  /** Growth per round without change. */
  factor: number;
}

/** The page's polling pace. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 10_000, factor: 1.5 };

/**
 * The delay before the next round: the backoff step, raised to the server's
 * `Retry-After` when it asked for longer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_BACKOFF, nextDelay } from "./watcher.ts";
 * assert.equal(nextDelay(500, DEFAULT_BACKOFF), 750);
 * assert.equal(nextDelay(9_000, DEFAULT_BACKOFF), 10_000);
 * assert.equal(nextDelay(500, DEFAULT_BACKOFF, 3), 3_000);
 * ```
 */
export function nextDelay(
  previousMs: number,
  options: BackoffOptions,
  retryAfterSeconds?: number,
): number {
  const step = Math.min(options.maxMs, Math.round(previousMs * options.factor));
  return Math.max(step, (retryAfterSeconds ?? 0) * 1000);
}

/** What a {@linkcode ReportWatcher} needs from the outside. */
export interface WatcherDeps {
  /** Fetches one report; rejects with an error that may carry `retryAfterSeconds`. */
  fetchReport(id: string, signal: AbortSignal): Promise<Report>;
  /** Called with a report whenever its status changes (settling is a change too). */
  onChange(report: Report): void;
  /** Called when a report can no longer be fetched (deleted: 404). */
  onGone?(id: string): void;
  /** Schedules `run` after `ms`; returns a cancel function. Default: setTimeout. */
  schedule?(run: () => void, ms: number): () => void;
  /** The pace; {@linkcode DEFAULT_BACKOFF} by default. */
  backoff?: BackoffOptions;
  /** Reports asked about per round (default 4). */
  perRound?: number;
}

interface Watched {
  status: Report["status"];
  lastPolled: number;
}

/** Polls pending reports until each is ready or failed. */
export class ReportWatcher {
  readonly #deps: WatcherDeps;
  readonly #backoff: BackoffOptions;
  readonly #watched = new Map<string, Watched>();
  #delay: number;
  #cancel: (() => void) | undefined;
  #round = 0;
  #aborter = new AbortController();
  #running = false;
  #stopped = false;
  #current: Promise<void> = Promise.resolve();

  /** A watcher that polls nothing until {@linkcode ReportWatcher.watch} is called. */
  constructor(deps: WatcherDeps) {
    this.#deps = deps;
    this.#backoff = deps.backoff ?? DEFAULT_BACKOFF;
    this.#delay = this.#backoff.initialMs;
  }

  /** The ids still being polled. */
  get pending(): string[] {
    return [...this.#watched.keys()];
  }

  /** True while a round is scheduled or running. */
  get active(): boolean {
    return this.#cancel !== undefined || this.#running;
  }

  /** Resolves when the round in progress, if any, has finished. */
  idle(): Promise<void> {
    return this.#current;
  }

  /**
   * Polls `report` until it settles; a settled report is ignored. Watching
   * something new brings the pace back to the quickest.
   */
  watch(report: Pick<Report, "id" | "status">): void {
    if (!isPending(report.status)) return;
    if (this.#watched.has(report.id)) return;
    this.#watched.set(report.id, { status: report.status, lastPolled: -1 });
    this.#stopped = false;
    this.#delay = this.#backoff.initialMs;
    this.#reschedule(this.#delay);
  }

  /** Stops polling `id` (for example after it was deleted). */
  unwatch(id: string): void {
    this.#watched.delete(id);
    if (this.#watched.size === 0) this.stop();
  }

  /** Stops every timer and request; {@linkcode ReportWatcher.watch} starts again. */
  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
    this.#cancel = undefined;
    this.#aborter.abort();
    this.#aborter = new AbortController();
  }

  /** Runs a round now (when the tab becomes visible again, say). */
  resume(): void {
    this.#stopped = false;
    if (this.#watched.size > 0) this.#reschedule(0);
  }

  #reschedule(ms: number): void {
    if (this.#running) return; // the running round schedules the next one itself
    this.#cancel?.();
    const schedule = this.#deps.schedule ?? defaultSchedule;
    this.#cancel = schedule(() => {
      this.#cancel = undefined;
      this.#current = this.#runRound();
    }, ms);
  }

  async #runRound(): Promise<void> {
    this.#running = true;
    const round = ++this.#round;
    // Least recently asked first, so every pending report gets its turn.
    const ids = [...this.#watched.entries()]
      .sort(([, a], [, b]) => a.lastPolled - b.lastPolled)
      .slice(0, this.#deps.perRound ?? 4)
      .map(([id]) => id);
    const signal = this.#aborter.signal;
    let changed = false;
    let retryAfter: number | undefined;
    await Promise.all(ids.map(async (id) => {
      const watched = this.#watched.get(id);
      if (watched === undefined) return;
      watched.lastPolled = round;
      try {
        const report = await this.#deps.fetchReport(id, signal);
        if (!this.#watched.has(id)) return; // unwatched while the request ran
        if (report.status !== watched.status || !isPending(report.status)) {
          changed = true;
          watched.status = report.status;
          if (!isPending(report.status)) this.#watched.delete(id);
          this.#deps.onChange(report);
        }
      } catch (error) {
        if (signal.aborted) return;
        const status = (error as { problem?: { status?: number } }).problem?.status;
        if (status === 404) {
          this.#watched.delete(id);
          this.#deps.onGone?.(id);
          return;
        }
        // Anything else (offline, 503, 429) is transient: keep the report and
        // wait at least as long as the server asked.
        const seconds = (error as { retryAfterSeconds?: number }).retryAfterSeconds;
        if (seconds !== undefined) retryAfter = Math.max(retryAfter ?? 0, seconds);
      }
    }));
    this.#running = false;
    if (this.#stopped || this.#watched.size === 0) return;
    this.#delay = changed && retryAfter === undefined
      ? this.#backoff.initialMs
      : nextDelay(this.#delay, this.#backoff, retryAfter);
    this.#reschedule(this.#delay);
  }
}

function defaultSchedule(run: () => void, ms: number): () => void {
  const timer = setTimeout(run, ms);
  return () => clearTimeout(timer);
}
