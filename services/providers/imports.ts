/**
 * Imports from market-data providers: validation, the upstream cache, the
 * circuit breakers, and turning upstream failures into report failures.
 *
 * An import is a job like an upload: `POST /v1/reports` with a `source`
 * queues it, and the queue calls {@linkcode Importer.fetch} instead of reading
 * an upload; the CSV it returns goes through the same worker pipeline.
 *
 * @module
 */
import type { Database } from "../../db/mod.ts";
import { getCachedAnswer, putCachedAnswer } from "../../db/upstream_cache_repo.ts";
import { AppError, type ErrorKind } from "../errors.ts";
import type { CircuitState } from "./breaker.ts";
import { UpstreamError } from "./http_client.ts";
import type { ImportRequest, ImportSource } from "./import_schema.ts";
import type { ProviderRegistry } from "./mod.ts";
import { getLogger } from "../telemetry/logger.ts";

const log = getLogger(["reportd", "providers"]);

/** Where an import's data came from. */
export type CacheOutcome = "hit" | "miss" | "stale";

/** The CSV for an import and how the cache answered. */
export interface ImportedCsv {
  csv: Uint8Array;
  cache: CacheOutcome;
}

/** A provider as `GET /v1/providers` shows it. */
export interface ProviderStatus {
  name: string;
  description: string;
  parameters: Record<string, string>;
  /** `closed` is healthy; `open` rejects calls; `half_open` lets one probe through. */
  circuit: CircuitState;
  /** Whether calls go through now. */
  reachable: boolean;
  /** Seconds until an open circuit lets a probe through. */
  retry_after_s: number;
}

/** Options for {@linkcode Importer}. */
export interface ImporterOptions {
  db: Database;
  providers: ProviderRegistry;
  /** Clock, replaceable in tests. */
  now?: () => Date;
  /** Called after each cache lookup and upstream call (metrics). */
  onEvent?: (event: ImportEvent) => void;
}

/** What happened during an import, for metrics. */
export type ImportEvent =
  | { type: "cache"; provider: string; outcome: CacheOutcome }
  | { type: "upstream"; provider: string; outcome: string; durationMs: number };

const FAILURE_KINDS: Record<UpstreamError["failure"], ErrorKind> = {
  unavailable: "unavailable",
  not_found: "invalid_input",
  rejected: "invalid_input",
  forbidden: "invalid_input",
  invalid: "invalid_input",
};

/** Validates imports and fetches their CSV through the cache and the breakers. */
export class Importer {
  readonly #options: ImporterOptions;

  /** Creates an importer over the enabled providers. */
  constructor(options: ImporterOptions) {
    this.#options = options;
  }

  /** The enabled providers and their circuit states. */
  status(): ProviderStatus[] {
    return [...this.#options.providers.values()].map((provider) => ({
      name: provider.name,
      description: provider.description,
      parameters: provider.parameters,
      circuit: provider.breaker.state,
      reachable: provider.breaker.state !== "open",
      retry_after_s: provider.breaker.retryAfterSeconds,
    }));
  }

  /**
   * Checks what the schema cannot: that the provider is enabled, date rules,
   * allow-lists. Throws `invalid_input` naming the fields.
   */
  validate(request: ImportRequest): void {
    const provider = this.#options.providers.get(request.source.provider);
    if (provider === undefined) {
      throw new AppError(
        "invalid_input",
        `The provider ${request.source.provider} is not enabled`,
        {
          errors: [{
            path: "source.provider",
            message: `Enabled: ${[...this.#options.providers.keys()].join(", ")}`,
          }],
        },
      );
    }
    const errors = provider.validate(request.source, { today: this.#today() });
    if (errors.length > 0) {
      throw new AppError("invalid_input", "The import request is invalid", { errors });
    }
  }

  /**
   * Returns the CSV for `source`: from the cache while fresh; otherwise from
   * the upstream (and caches it); when the upstream fails or its circuit is
   * open, from an expired cache entry if there is one (`stale`). Throws
   * {@linkcode AppError} with a reason fit for a failed report.
   */
  async fetch(source: ImportSource, signal?: AbortSignal): Promise<ImportedCsv> {
    const { db, providers } = this.#options;
    const provider = providers.get(source.provider);
    if (provider === undefined) {
      throw new AppError("unavailable", `The provider ${source.provider} is not enabled`);
    }
    const key = provider.cacheKey(source);
    const now = this.#now();
    const cached = await getCachedAnswer(db, provider.name, key);
    if (cached !== undefined && Date.parse(cached.expiresAt) > now.getTime()) {
      return this.#answer(provider.name, { csv: cached.body, cache: "hit" });
    }
    if (!provider.breaker.tryAcquire()) {
      if (cached !== undefined) {
        return this.#answer(provider.name, { csv: cached.body, cache: "stale" });
      }
      throw new AppError(
        "unavailable",
        `The provider ${provider.name} is unavailable after repeated failures; ` +
          `retry in ${provider.breaker.retryAfterSeconds} s`,
        { retryAfterSeconds: provider.breaker.retryAfterSeconds },
      );
    }
    const started = performance.now();
    try {
      const fetched = await provider.fetchSeries(source, signal);
      provider.breaker.recordSuccess();
      this.#event({
        type: "upstream",
        provider: provider.name,
        outcome: "success",
        durationMs: performance.now() - started,
      });
      await putCachedAnswer(db, provider.name, {
        key,
        body: fetched.csv,
        fetchedAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + provider.cacheTtlMs(source, { today: this.#today() }))
          .toISOString(),
      });
      return this.#answer(provider.name, { csv: fetched.csv, cache: "miss" });
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      this.#event({
        type: "upstream",
        provider: provider.name,
        outcome: error.failure,
        durationMs: performance.now() - started,
      });
      // Only an upstream that does not answer properly counts against its
      // circuit; a clear "no such symbol" is a healthy answer.
      if (error.failure === "unavailable") provider.breaker.recordFailure();
      else provider.breaker.recordSuccess();
      log.warn("Import from {provider} failed: {reason}", {
        provider: provider.name,
        failure: error.failure,
        reason: error.message,
      });
      if (error.failure === "unavailable" && cached !== undefined) {
        return this.#answer(provider.name, { csv: cached.body, cache: "stale" });
      }
      throw new AppError(FAILURE_KINDS[error.failure], error.message, {
        retryAfterSeconds: error.failure === "unavailable" ? 60 : undefined,
        cause: error,
      });
    }
  }

  #answer(provider: string, imported: ImportedCsv): ImportedCsv {
    this.#event({ type: "cache", provider, outcome: imported.cache });
    return imported;
  }

  #event(event: ImportEvent): void {
    this.#options.onEvent?.(event);
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  #today(): string {
    return this.#now().toISOString().slice(0, 10);
  }
}

/**
 * A readable default name for an import, e.g. `avgo.us (d) 2020-01-10..2020-02-10`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultImportName } from "./imports.ts";
 * assert.equal(
 *   defaultImportName({ provider: "url", url: "https://example.org/data/prices.csv" }),
 *   "prices.csv",
 * );
 * ```
 */
export function defaultImportName(source: ImportSource): string {
  if (source.provider === "stooq") {
    return `${source.symbol} (${source.interval}) ${source.start}..${source.end}`;
  }
  const url = new URL(source.url);
  return url.pathname.split("/").filter(Boolean).at(-1) ?? url.hostname;
}
