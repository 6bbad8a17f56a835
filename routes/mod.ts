/**
 * The HTTP application: middleware order and route registration.
 *
 * `createApp` takes its dependencies as arguments (no globals, no environment
 * reads), so tests build a fresh app per test with `app.request(...)` and no
 * network. `main.ts` serves `createHandler`'s handler: the same app behind
 * the fast lane (fast_lane.ts), which answers probes and cached report reads
 * without the middleware chain.
 *
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { methodNotAllowed } from "hono/method-not-allowed";
import type { Database } from "../db/mod.ts";
import type { Config } from "../services/runtime/config.ts";
import { AppError } from "../services/errors.ts";
import {
  type Report,
  type ReportsContext,
  seriesBytes,
  watchDeletions,
} from "../services/reports/mod.ts";
import { UploadSlots } from "../services/reports/uploads.ts";
import { ReportCache } from "../services/reports/cache.ts";
import type { Importer } from "../services/providers/imports.ts";
import type { Telemetry } from "../services/telemetry/mod.ts";
import type { ApiKeys } from "../services/security/api_keys.ts";
import { type RateLimit, RateLimiter } from "../services/security/rate_limit.ts";
import { registerCompareRoutes } from "./compare.ts";
import { registerDocsRoutes } from "./docs.ts";
import { type FastLaneHandler, withFastLane } from "./fast_lane.ts";
import { registerHealthRoutes } from "./health.ts";
import { registerMetricsRoutes } from "./metrics.ts";
import { authenticate, authorize } from "./middleware/auth.ts";
import { type InflightRequests, trackInflight } from "./middleware/inflight.ts";
import { corsPolicy, requestLimits, securityHeaders, validHost } from "./middleware/hygiene.ts";
import { rateLimit } from "./middleware/rate_limit.ts";
import { handlerTimeout } from "./middleware/timeout.ts";
import {
  fieldErrors,
  handleError,
  handleNotFound,
  methodNotAllowedResponse,
} from "./middleware/problem.ts";
import { type AppEnv, requestId } from "./middleware/request_id.ts";
import { requestTelemetry } from "./middleware/request_telemetry.ts";
import { registerProviderRoutes } from "./providers.ts";
import { registerReportRoutes } from "./reports.ts";
import { registerWebRoutes } from "./web.ts";

/** The series cache's size when the config leaves it out (tests): 256 MiB, as REPORTD_SERIES_CACHE_MB. */
const DEFAULT_SERIES_CACHE_BYTES = 256 * 1024 * 1024;

/** Everything the app needs from the outside world. */
export interface AppDeps {
  /** The open database. */
  db: Database;
  /** The validated configuration. */
  config:
    & Pick<Config, "maxBodyBytes" | "maxPoints" | "queueMax" | "maxInflightUploads">
    & Partial<Pick<Config, "seriesCacheBytes">>;
  /** The job queue that processes uploads. */
  jobs: ReportsContext["jobs"];
  /** Imports from market-data providers; without it there is no `GET /v1/providers`. */
  importer?: Importer;
  /** The service version, shown in the OpenAPI document. */
  version: string;
  /** Returns true once shutdown has begun (readiness turns 503). */
  isShuttingDown?: () => boolean;
  /** Counts requests being handled, so shutdown can let them finish (main.ts). */
  inflight?: InflightRequests;
  /** The disk's state: full means 507 for uploads and 503 from `/readyz`. */
  space?: ReportsContext["space"];
  /** Clock for timestamps, replaceable in tests. */
  now?: () => Date;
  /**
   * Spans, metrics and access lines for every request, and `GET /metrics`.
   * `main.ts` always passes it; tests that do not look at telemetry, and the
   * benchmark's baseline, leave it out.
   */
  telemetry?: Pick<Telemetry, "http" | "renderPrometheus">;
  /**
   * API keys, rate limits, CORS, HSTS and timeouts (docs/security.md).
   * `main.ts` always passes it, from the configuration; without it the app is
   * in open mode with no limits, which is what most tests want.
   */
  security?: SecurityOptions;
}

/** Access control and abuse resistance; every part is off when left out. */
export interface SecurityOptions {
  /** Checks bearer keys; without it (or with no key anywhere) the API is open. */
  keys?: Pick<ApiKeys, "required" | "requiredNow" | "authenticate" | "authenticateNow">;
  /** Reading reports needs no key. */
  publicRead?: boolean;
  /** `/metrics` needs no key. */
  publicMetrics?: boolean;
  /** Believe `X-Forwarded-For` for the client address. */
  trustProxy?: boolean;
  /** Per-client budgets; without them nothing is rate-limited. */
  rateLimits?: {
    read: RateLimit;
    write: RateLimit;
    maxBuckets?: number;
    /** This instance's share of the budgets (1/N of N live instances; default 1). */
    share?: () => number;
  };
  /** Exact origins allowed by CORS. */
  corsOrigins?: readonly string[];
  /** Send `Strict-Transport-Security`. */
  hsts?: boolean;
  /** Longest handler time (uploads aside), in ms. */
  handlerTimeoutMs?: number;
  /** Deadline for request bodies: a start and a pace that extends it. */
  body?: { timeoutMs: number; minBytesPerSecond: number };
}

/**
 * Builds the Hono application. The middleware order is deliberate; the
 * comment in the body says why each layer is where it is.
 */
export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  return buildApp(deps).app;
}

/**
 * The handler `main.ts` serves: the app of {@linkcode createApp} behind the
 * fast lane, which shares its report cache, rate limiter and telemetry.
 *
 * @example
 * ```ts ignore
 * Deno.serve(createHandler({ db, config, jobs, version: "1.0.0" }));
 * ```
 */
export function createHandler(deps: AppDeps): FastLaneHandler {
  const { app, cache, limiter, cors } = buildApp(deps);
  const security = deps.security ?? {};
  return withFastLane(app.fetch, {
    reports: cache,
    telemetry: deps.telemetry,
    keys: security.keys,
    publicRead: security.publicRead ?? false,
    limiter,
    trustProxy: security.trustProxy ?? false,
    hsts: security.hsts ?? false,
    cors,
    inflight: deps.inflight,
  });
}

function buildApp(
  deps: AppDeps,
): {
  app: OpenAPIHono<AppEnv>;
  cache: ReportCache<Report>;
  limiter?: RateLimiter;
  /** CORS middleware is installed (the fast lane then stays out). */
  cors: boolean;
} {
  const app = new OpenAPIHono<AppEnv>({
    // Parameter validation failures from @hono/zod-openapi become 400 problems
    // naming the field, like every other error. A malformed report id is
    // deliberately not a validation error: it is simply not found.
    defaultHook: (result) => {
      if (!result.success) {
        const where = result.target === "param" ? "path" : result.target;
        throw new AppError("invalid_parameter", `The ${where} parameters are invalid`, {
          errors: fieldErrors(result.error, where),
        });
      }
    },
  });
  const security = deps.security ?? {};
  // Middleware order, outermost first, and why:
  // 0. In-flight tracking (main.ts only): shutdown waits for whatever runs.
  // 1. Request id: every later layer (logs, problem documents) quotes it.
  // 2. Telemetry: the span, the duration and the access line cover everything
  //    after it, refusals (401, 403, 429) included.
  // 3. Security headers: set on every response below, errors and refusals too.
  // 4. CORS: a browser's preflight carries no key, so it is answered before
  //    authentication; refusals below carry Access-Control-Allow-Origin, so a
  //    page can read why it was refused.
  // 5. Host, then request-line caps: a Host that is not an authority could
  //    rewrite the routed path (host.ts), so it is refused (400) before
  //    anything acts on that path; an over-long path or query is refused
  //    (414) before anything parses or logs it.
  // 6. Authentication: finds the caller on paths that need a scope; refuses
  //    nothing, and leaves public paths (probes) alone, database and all.
  // 7. Rate limit: per key, or per address without a valid one. Before
  //    authorization, so requests that will be refused still spend budget and
  //    guessing keys is throttled like anything else. Probes are exempt.
  // 8. Authorization: 401/403 by path. Health, readiness, /docs,
  //    /openapi.json, the page and its static files are public; /v1 needs
  //    read or write; /metrics needs admin unless REPORTD_PUBLIC_METRICS.
  // 9. Handler timeout: only around work that runs for an allowed request.
  // 10. 405: runs after routing has failed to match a method, so it must not
  //     tell an anonymous caller which methods exist under /v1 (8 came first).
  // Every refusal is a problem document (problem.ts), like every error.
  if (deps.inflight !== undefined) app.use(trackInflight(deps.inflight));
  app.use(requestId());
  if (deps.telemetry !== undefined) app.use(requestTelemetry(deps.telemetry));
  app.use(securityHeaders({ hsts: security.hsts ?? false }));
  const corsMiddleware = corsPolicy(security.corsOrigins ?? []);
  if (corsMiddleware !== undefined) app.use(corsMiddleware);
  app.use(validHost());
  app.use(requestLimits());
  if (security.keys !== undefined) app.use(authenticate(security.keys, security));
  const limiter = security.rateLimits === undefined
    ? undefined
    : new RateLimiter(security.rateLimits);
  if (limiter !== undefined) {
    app.use(rateLimit(limiter, { trustProxy: security.trustProxy ?? false }));
  }
  if (security.keys !== undefined) app.use(authorize(security));
  if (security.handlerTimeoutMs !== undefined) app.use(handlerTimeout(security.handlerTimeoutMs));
  app.use(methodNotAllowed({ app, onMethodNotAllowed: methodNotAllowedResponse }));
  app.onError(handleError);
  app.notFound(handleNotFound);

  registerHealthRoutes(app, {
    db: deps.db,
    isShuttingDown: deps.isShuttingDown,
    diskFull: deps.space === undefined ? undefined : () => deps.space?.full(),
  });
  const cache = new ReportCache<Report>();
  const reports: ReportsContext = {
    db: deps.db,
    config: deps.config,
    jobs: deps.jobs,
    uploads: new UploadSlots(deps.config.maxInflightUploads),
    isShuttingDown: deps.isShuttingDown,
    cache,
    seriesCache: new ReportCache({
      maxWeight: deps.config.seriesCacheBytes ?? DEFAULT_SERIES_CACHE_BYTES,
      weigh: seriesBytes,
    }),
    importer: deps.importer,
    bodyDeadline: security.body,
    space: deps.space,
    now: deps.now,
  };
  // Caches are per instance; deletes on any instance reach them through the
  // database. The app lives as long as its database: never unsubscribed.
  watchDeletions(reports);
  registerReportRoutes(app, { reports });
  registerCompareRoutes(app, { reports });
  if (deps.importer !== undefined) registerProviderRoutes(app, { importer: deps.importer });
  registerDocsRoutes(app, { version: deps.version, access: security });
  registerWebRoutes(app);
  if (deps.telemetry !== undefined) registerMetricsRoutes(app, { telemetry: deps.telemetry });
  return { app, cache, limiter, cors: corsMiddleware !== undefined };
}
