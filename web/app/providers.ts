/**
 * Which market-data providers the server offers, from `GET /v1/providers`.
 * A server without provider support answers 404 there, which the page reads
 * as "none", so it works the same with and without imports.
 *
 * @module
 */
import { ApiError, apiJson } from "./api.ts";

/** A provider as the page uses it. */
export interface Provider {
  /** Its name in `source.provider`. */
  name: string;
  /** A line describing it. */
  description: string;
  /** False while its circuit breaker is open. */
  reachable: boolean;
  /** Seconds until an open circuit tries again. */
  retryAfterSeconds: number;
}

/**
 * The providers the import form can use, from a `GET /v1/providers` body:
 * those that take a `symbol` (a provider that fetches a URL needs a form of
 * its own). Anything unexpected in the body is skipped rather than trusted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { symbolProviders } from "./providers.ts";
 * const health = { circuit: "closed", reachable: true, retry_after_s: 0 };
 * const body = {
 *   items: [
 *     { name: "stooq", description: "Stooq", parameters: { symbol: "avgo.us" }, ...health },
 *     { name: "url", description: "A CSV URL", parameters: { url: "https" }, ...health },
 *   ],
 * };
 * assert.deepEqual(symbolProviders(body).map((provider) => provider.name), ["stooq"]);
 * assert.deepEqual(symbolProviders({ error: "nope" }), []);
 * ```
 */
export function symbolProviders(body: unknown): Provider[] {
  const items = (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) return [];
  const providers: Provider[] = [];
  for (const item of items) {
    if (typeof item !== "object" || item === null) continue;
    const candidate = item as Record<string, unknown>;
    const parameters = candidate.parameters as Record<string, unknown> | undefined;
    if (typeof candidate.name !== "string" || parameters?.symbol === undefined) continue;
    providers.push({
      name: candidate.name,
      description: typeof candidate.description === "string" ? candidate.description : "",
      reachable: candidate.reachable !== false,
      retryAfterSeconds: typeof candidate.retry_after_s === "number" ? candidate.retry_after_s : 0,
    });
  }
  return providers;
}

/** Asks the server for its providers; none when it has no provider support. */
export async function fetchProviders(): Promise<Provider[]> {
  try {
    return symbolProviders(await apiJson<unknown>("/v1/providers"));
  } catch (error) {
    if (error instanceof ApiError && error.problem.status === 404) return [];
    throw error;
  }
}
