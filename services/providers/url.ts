/**
 * The `url` provider: a CSV from an https URL the client names, but only from
 * hosts the operator listed in `REPORTD_FETCH_ALLOW_HOSTS`.
 *
 * User-supplied URLs are the classic server-side request forgery hole: the
 * server fetches what the client could not reach itself (the metadata service,
 * localhost, the private network). The defences, in order: an exact host
 * allowlist (no suffix or pattern matching: `evil-example.com` is not
 * `example.com`); https only; no credentials in the URL; every resolved
 * address public; redirects followed by hand and checked the same way; a
 * response size cap; and only `text/csv` or `text/plain` accepted.
 *
 * @module
 */
import { CircuitBreaker } from "./breaker.ts";
import { fetchUpstream, urlProblem } from "./http_client.ts";
import type { UrlSourceSchema } from "./import_schema.ts";
import type { FetchedSeries, Provider, ProviderOptions } from "./mod.ts";
import type { z } from "zod";

type UrlSource = z.infer<typeof UrlSourceSchema>;

/** Creates the url provider for the hosts in the config. */
export function createUrlProvider(options: ProviderOptions): Provider<UrlSource> {
  const { config } = options;
  const allowed = new Set(config.fetchAllowHosts);
  const isAllowedHost = (host: string) => allowed.has(host.toLowerCase());
  return {
    name: "url",
    description: "A CSV file from an allow-listed https URL",
    parameters: {
      url: `https URL on one of: ${[...allowed].join(", ")}`,
    },
    breaker: new CircuitBreaker(),
    validate(source) {
      const url = new URL(source.url);
      const errors = [];
      if (!isAllowedHost(url.hostname)) {
        errors.push({
          path: "source.url",
          message: `${url.hostname} is not in REPORTD_FETCH_ALLOW_HOSTS`,
        });
      }
      const problem = urlProblem(url, { allowHttp: config.fetchAllowHttp });
      if (problem !== undefined) errors.push({ path: "source.url", message: problem });
      return errors;
    },
    cacheKey(source) {
      return source.url;
    },
    cacheTtlMs() {
      // A file behind a URL may change at any time.
      return config.cacheTtlRecentMs;
    },
    async fetchSeries(source, signal): Promise<FetchedSeries> {
      const response = await fetchUpstream(new URL(source.url), {
        timeoutMs: config.upstreamTimeoutMs,
        maxBytes: options.maxBytes,
        backoffBaseMs: options.backoffBaseMs,
        isAllowedHost,
        allowPrivate: config.fetchAllowPrivate,
        allowHttp: config.fetchAllowHttp,
        signal,
      });
      return { csv: response.body, attempts: response.attempts };
    },
  };
}
