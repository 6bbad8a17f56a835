/**
 * Stooq: daily, weekly or monthly OHLCV bars as CSV
 * (`Date,Open,High,Low,Close,Volume`). A body of `No data` means the symbol
 * is unknown or the range is empty.
 *
 * @module
 */
import { CircuitBreaker } from "./breaker.ts";
import { fetchUpstream, UpstreamError } from "./http_client.ts";
import type { StooqSourceSchema } from "./import_schema.ts";
import type { FetchedSeries, Provider, ProviderOptions } from "./mod.ts";
import type { z } from "zod";

type StooqSource = z.infer<typeof StooqSourceSchema>;

const DAY_MS = 86_400_000;

/** Creates the Stooq provider. */
export function createStooqProvider(options: ProviderOptions): Provider<StooqSource> {
  const { config } = options;
  const base = new URL(config.stooqUrl);
  return {
    name: "stooq",
    description: "Stooq daily, weekly and monthly OHLCV bars",
    parameters: {
      symbol: "1 to 32 characters of A-Z a-z 0-9 . ^ = _ - (e.g. avgo.us)",
      start: "YYYY-MM-DD, inclusive",
      end: `YYYY-MM-DD, inclusive, not after today, at most ${config.maxDays} days after start`,
      interval: "d, w or m",
    },
    breaker: new CircuitBreaker(),
    validate(source, { today }) {
      const errors = [];
      if (source.start > source.end) {
        errors.push({ path: "source.start", message: "Must not be after end" });
      }
      if (source.end > today) {
        errors.push({ path: "source.end", message: `Must not be after today (${today})` });
      }
      const days = (Date.parse(source.end) - Date.parse(source.start)) / DAY_MS;
      if (days > config.maxDays) {
        errors.push({
          path: "source.end",
          message:
            `The range is ${days} days; at most ${config.maxDays} (REPORTD_PROVIDER_MAX_DAYS)`,
        });
      }
      return errors;
    },
    cacheKey(source) {
      return [source.symbol.toLowerCase(), source.interval, source.start, source.end].join("|");
    },
    cacheTtlMs(source, { today }) {
      // Bars of past days never change; today's bar moves until the close.
      return source.end < today ? config.cacheTtlHistoricalMs : config.cacheTtlRecentMs;
    },
    async fetchSeries(source, signal): Promise<FetchedSeries> {
      const url = new URL(base);
      url.searchParams.set("s", source.symbol.toLowerCase());
      url.searchParams.set("d1", source.start.replaceAll("-", ""));
      url.searchParams.set("d2", source.end.replaceAll("-", ""));
      url.searchParams.set("i", source.interval);
      if (config.stooqApiKey !== undefined) url.searchParams.set("apikey", config.stooqApiKey);
      const response = await fetchUpstream(url, {
        timeoutMs: config.upstreamTimeoutMs,
        maxBytes: options.maxBytes,
        backoffBaseMs: options.backoffBaseMs,
        // Stooq redirects only within its own host.
        isAllowedHost: (host) => host === base.hostname,
        allowPrivate: config.fetchAllowPrivate,
        // The configured endpoint is the operator's choice, so its scheme is trusted.
        allowHttp: true,
        signal,
      });
      const text = new TextDecoder().decode(response.body.subarray(0, 64)).trim();
      if (/^no data/i.test(text)) {
        throw new UpstreamError(
          "not_found",
          `Stooq has no data for ${source.symbol} from ${source.start} to ${source.end}`,
        );
      }
      return { csv: response.body, attempts: response.attempts };
    },
  };
}
