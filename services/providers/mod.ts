/**
 * Market-data providers: a closed set of modules behind one small interface.
 *
 * A provider turns an import source into raw CSV bytes; everything after that
 * (parsing, cleaning, statistics, storage) is the same pipeline as an upload.
 * Adding a provider is one new file implementing {@linkcode Provider} plus a
 * line in {@linkcode createProviders}.
 *
 * @module
 */
import type { ProviderConfig } from "../runtime/config.ts";
import { CircuitBreaker } from "./breaker.ts";
import type { ImportSource } from "./import_schema.ts";
import { createStooqProvider } from "./stooq.ts";
import { createUrlProvider } from "./url.ts";

/** Raw CSV from an upstream. */
export interface FetchedSeries {
  /** The body, CSV in UTF-8. */
  csv: Uint8Array;
  /** Upstream attempts made (for metrics). */
  attempts: number;
}

/** One provider. */
export interface Provider<S extends ImportSource = ImportSource> {
  /** The `source.provider` value that selects it. */
  readonly name: S["provider"];
  /** What it fetches, for `GET /v1/providers`. */
  readonly description: string;
  /** Its request parameters and their rules, for `GET /v1/providers`. */
  readonly parameters: Record<string, string>;
  /** Its circuit breaker: one per provider, so one failing upstream cannot block another. */
  readonly breaker: CircuitBreaker;
  /** Checks a source beyond its schema (allow-lists, date rules); returns field errors. */
  validate(source: S, options: { today: string }): { path: string; message: string }[];
  /** The cache key of a source: equal keys mean the same upstream answer. */
  cacheKey(source: S): string;
  /** How long an answer for `source` stays fresh, in ms. */
  cacheTtlMs(source: S, options: { today: string }): number;
  /** Fetches the raw CSV. Throws `UpstreamError`. */
  fetchSeries(source: S, signal?: AbortSignal): Promise<FetchedSeries>;
}

/** The providers this instance has enabled, by name. */
export type ProviderRegistry = Map<string, Provider>;

/** Options shared by every provider. */
export interface ProviderOptions {
  /** The provider settings from the config. */
  config: ProviderConfig;
  /** Largest upstream body accepted. */
  maxBytes: number;
  /** Base of the retry backoff in ms (tests shorten it; default 250). */
  backoffBaseMs?: number;
}

/**
 * Builds the enabled providers: Stooq always, `url` only when
 * `REPORTD_FETCH_ALLOW_HOSTS` names at least one host.
 */
export function createProviders(options: ProviderOptions): ProviderRegistry {
  const providers: Provider[] = [createStooqProvider(options) as Provider];
  if (options.config.fetchAllowHosts.length > 0) {
    providers.push(createUrlProvider(options) as Provider);
  }
  return new Map(providers.map((provider) => [provider.name, provider]));
}
