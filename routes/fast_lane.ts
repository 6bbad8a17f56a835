/**
 * The fast lane: the two requests a busy server answers most, `GET /healthz`
 * and `GET /v1/reports/{id}` of a finished report in the cache, answered
 * without the Hono app, from a response prepared once per report.
 *
 * Why: on the project's 2-core machine a bare `Deno.serve` answers a constant
 * body with about 7 us of CPU; the app spent about 75 us on a cached report
 * read (docs/benchmarks.md, issue 15). Most of that is not the work (a map
 * lookup) but the way there: a dozen middleware layers, each a closure, a
 * promise and a turn of Hono's dispatcher, and then building the response:
 * `new Response` checks every header value character by character, and a
 * read carries 18 headers. Here the response is a clone of one built when
 * the report was first served (a clone copies the checked header list as it
 * is), plus the four headers that change per request.
 *
 * It does what the middleware does for these requests, with the same
 * functions, in the same order: request id, span and duration, security
 * headers (in the prepared response), Host check, API keys (a valid key with
 * the `read` scope when keys are required), rate limit (per key, or per
 * address), and the access line. Anything it is not sure about goes to the
 * app unchanged: another method or path, a query string, a body,
 * `If-None-Match`, anything at all with CORS on, a report not in the cache or
 * not finished, a missing, invalid or insufficient key (the app answers 401 or
 * 403), a request the rate limiter would refuse (the app then refuses it with
 * its problem document).
 * tests/api/fast_lane_test.ts checks that both ways give the same response.
 *
 * @module
 */
import type { ReportCache } from "../services/reports/cache.ts";
import type { Report } from "../services/reports/mod.ts";
import type { RateLimiter } from "../services/security/rate_limit.ts";
import type { Telemetry } from "../services/telemetry/mod.ts";
import { roundMilliseconds } from "../services/telemetry/logger.ts";
import { type ApiKeys, hasScope, type Principal } from "../services/security/api_keys.ts";
import { HEALTH_BODY } from "./health.ts";
import { bearerToken } from "./middleware/auth.ts";
import { isValidHost } from "./middleware/host.ts";
import { securityHeaderList } from "./middleware/hygiene.ts";
import type { InflightRequests } from "./middleware/inflight.ts";
import { clientAddressOf, rateLimitClient, rateLimitHeaders } from "./middleware/rate_limit.ts";
import { chooseRequestId, REQUEST_ID_HEADER } from "./middleware/request_id.ts";
import { accessLogger, writeAccessLine } from "./middleware/request_telemetry.ts";
import { isFinished, reportCacheHeaders, reportJson } from "./reports.ts";

/** A `Deno.serve` handler. */
export type ServeHandler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/**
 * A handler with the fast lane in front. `answered` counts the requests the
 * lane answered itself (tests check with it that the lane was taken).
 */
export type FastLaneHandler = ServeHandler & { readonly answered: number };

/** What the fast lane needs: the app's own parts, never copies of them. */
export interface FastLaneOptions {
  /** The app's report cache: only reports found there are answered here. */
  reports: ReportCache<Report>;
  /** Spans, metrics and access lines; without it, none (as in the app). */
  telemetry?: Pick<Telemetry, "http">;
  /** API keys: when required, a read needs a valid key with the `read` scope. */
  keys?: Pick<ApiKeys, "required" | "requiredNow" | "authenticate" | "authenticateNow">;
  /** Reading reports needs no key (`REPORTD_PUBLIC_READ`). */
  publicRead: boolean;
  /** The app's rate limiter (the same buckets), when limits are on. */
  limiter?: RateLimiter;
  /** Believe `X-Forwarded-For` for the client address. */
  trustProxy: boolean;
  /** HSTS on. */
  hsts: boolean;
  /** CORS is configured: every request goes to the app. */
  cors: boolean;
  /** Requests in flight, for a graceful shutdown. */
  inflight?: InflightRequests;
}

/** A response prepared once: clone it, add the per-request headers. */
interface Prepared {
  response: Response;
  bytes: number;
}

const REPORT_PREFIX = "/v1/reports/";
const HEALTH_ROUTE = "/healthz";
const REPORT_ROUTE = "/v1/reports/:id";

/**
 * Wraps the app's handler: the fast lane's requests are answered here, all
 * others by `app`.
 *
 * @example
 * ```ts ignore
 * Deno.serve(withFastLane(app.fetch, { reports: cache, trustProxy: false, hsts: false, cors: false }));
 * ```
 */
export function withFastLane(app: ServeHandler, options: FastLaneOptions): FastLaneHandler {
  const log = accessLogger();
  let answered = 0;
  const security = securityHeaderList({ hsts: options.hsts, csp: true });
  const health = prepare(JSON.stringify(HEALTH_BODY), {}, security);
  const prepared = new WeakMap<Report, Prepared>();

  function respond(request: Request, path: string, route: string, answer: Prepared): Response {
    const scope = options.telemetry?.http.start({ method: "GET", path, headers: request.headers });
    const id = chooseRequestId(request.headers.get(REQUEST_ID_HEADER));
    const response = answer.response.clone();
    response.headers.append(REQUEST_ID_HEADER, id);
    answered++;
    if (scope !== undefined) {
      const elapsedMs = scope.finish({ route, status: 200 });
      writeAccessLine(log, {
        request_id: id,
        method: "GET",
        route,
        status: 200,
        duration_ms: roundMilliseconds(elapsedMs),
        bytes_in: 0,
        bytes_out: answer.bytes,
        trace_id: scope.traceId,
        span_id: scope.spanId,
      });
    }
    return response;
  }

  function readReport(
    request: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
    read: { path: string; report: Report; principal?: Principal },
  ): Response | undefined {
    const { path, report, principal } = read;
    let limits: Record<string, string> | undefined;
    if (options.limiter !== undefined) {
      const client = rateLimitClient(
        principal,
        clientAddressOf(request.headers, info.remoteAddr.hostname, options),
      );
      const decision = options.limiter.take("read", client);
      // A refusal spent nothing: the app asks again and answers its 429.
      if (decision?.allowed === false) return undefined;
      if (decision !== undefined) limits = rateLimitHeaders(decision);
    }
    let answer = prepared.get(report);
    if (answer === undefined) {
      answer = prepare(reportJson(report), reportCacheHeaders(report), security);
      prepared.set(report, answer);
    }
    const response = respond(request, path, REPORT_ROUTE, answer);
    if (limits !== undefined) {
      for (const name in limits) response.headers.append(name, limits[name]);
    }
    return response;
  }

  const handler: ServeHandler = function fastLane(request, info) {
    // With CORS on, the app's CORS layer adds headers (`Vary: Origin`, the
    // exposed headers) to every response: the lane stays out of the way.
    if (request.method !== "GET" || request.body !== null || options.cors) {
      return app(request, info);
    }
    const url = request.url;
    const path = url.slice(url.indexOf("/", url.indexOf("//") + 2));
    const headers = request.headers;
    if (path === HEALTH_ROUTE) {
      if (!isValidHost(headers.get("host"))) return app(request, info);
      return respond(request, path, HEALTH_ROUTE, health);
    }
    if (!path.startsWith(REPORT_PREFIX)) return app(request, info);
    const report = options.reports.get(path.slice(REPORT_PREFIX.length));
    if (
      report === undefined || !isFinished(report) || headers.has("if-none-match") ||
      !isValidHost(headers.get("host"))
    ) {
      return app(request, info);
    }
    const keys = options.keys;
    // A public read is not authenticated at all, as in auth.ts.
    if (keys === undefined || options.publicRead) {
      return readReport(request, info, { path, report }) ?? app(request, info);
    }
    // Keys can appear at any moment (`keys create` in another process):
    // asked per request, as the app does, synchronously when the engine can
    // say at once: no promise chain, and on PostgreSQL no round trip (161 ->
    // 41 to 49 us of server time per read, docs/benchmarks.md). Without a
    // valid key that may read, the app answers (401 or 403).
    const required = keys.requiredNow();
    if (required === false) {
      return readReport(request, info, { path, report }) ?? app(request, info);
    }
    if (required === true) {
      // The same for a key the engine knows at once (on PostgreSQL, one read
      // within the last second; db/keys_repo.ts knownApiKey).
      const token = bearerToken(headers.get("authorization"));
      const principal = token === undefined ? null : keys.authenticateNow(token);
      if (principal === null || (principal !== undefined && !hasScope(principal, "read"))) {
        return app(request, info);
      }
      if (principal !== undefined) {
        return readReport(request, info, { path, report, principal }) ?? app(request, info);
      }
    }
    const handled = keys.required().then(async (required) => {
      if (!required) return readReport(request, info, { path, report }) ?? app(request, info);
      const token = bearerToken(headers.get("authorization"));
      const principal = token === undefined ? undefined : await keys.authenticate(token);
      if (principal === undefined || !hasScope(principal, "read")) return app(request, info);
      return readReport(request, info, { path, report, principal }) ?? app(request, info);
    });
    options.inflight?.track(handled);
    return handled;
  };
  return Object.defineProperty(handler, "answered", { get: () => answered }) as FastLaneHandler;
}

function prepare(
  body: string,
  headers: Record<string, string>,
  security: readonly (readonly [string, string])[],
): Prepared {
  const list: [string, string][] = security.map(([name, value]) => [name, value]);
  list.push(...Object.entries(headers), ["content-type", "application/json"]);
  const response = new Response(body, { headers: list });
  return { response, bytes: new TextEncoder().encode(body).byteLength };
}
