/**
 * The HTTP application: middleware order and route registration.
 *
 * `createApp` takes its dependencies as arguments (no globals, no environment
 * reads), so tests build a fresh app per test with `app.request(...)` and no
 * network, while `main.ts` hands the same app to `Deno.serve`.
 *
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { methodNotAllowed } from "hono/method-not-allowed";
import { secureHeaders } from "hono/secure-headers";
import type { Database } from "../db/mod.ts";
import type { Config } from "../services/config.ts";
import { AppError } from "../services/errors.ts";
import type { ReportsContext } from "../services/reports.ts";
import { UploadSlots } from "../services/uploads.ts";
import { ReportCache } from "../services/report_cache.ts";
import type { Importer } from "../services/imports.ts";
import type { Telemetry } from "../services/telemetry/mod.ts";
import { registerDocsRoutes } from "./docs.ts";
import { registerHealthRoutes } from "./health.ts";
import { registerMetricsRoutes } from "./metrics.ts";
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

/** Everything the app needs from the outside world. */
export interface AppDeps {
  /** The open database. */
  db: Database;
  /** The validated configuration. */
  config: Pick<Config, "maxBodyBytes" | "maxPoints" | "queueMax" | "maxInflightUploads">;
  /** The job queue that processes uploads. */
  jobs: ReportsContext["jobs"];
  /** Imports from market-data providers; without it there is no `GET /v1/providers`. */
  importer?: Importer;
  /** The service version, shown in the OpenAPI document. */
  version: string;
  /** Returns true once shutdown has begun (readiness turns 503). */
  isShuttingDown?: () => boolean;
  /** Clock for timestamps, replaceable in tests. */
  now?: () => Date;
  /**
   * Spans, metrics and access lines for every request, and `GET /metrics`.
   * `main.ts` always passes it; tests that do not look at telemetry, and the
   * benchmark's baseline, leave it out.
   */
  telemetry?: Pick<Telemetry, "http" | "renderPrometheus">;
}

/**
 * Builds the Hono application.
 *
 * Middleware order matters: the request id comes first so every later layer
 * (logs, problems) can quote it; request telemetry comes next, so the span,
 * the duration and the access line cover everything after it; security
 * headers wrap every response,
 * including errors; the 405 check runs after routing has failed to match.
 */
export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
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
  app.use(requestId());
  if (deps.telemetry !== undefined) app.use(requestTelemetry(deps.telemetry));
  app.use(secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      frameAncestors: ["'none'"],
    },
    crossOriginEmbedderPolicy: false,
    // A route that sets its own policy (the docs page) keeps it.
    overwrite: false,
  }));
  app.use(methodNotAllowed({ app, onMethodNotAllowed: methodNotAllowedResponse }));
  app.onError(handleError);
  app.notFound(handleNotFound);

  registerHealthRoutes(app, { db: deps.db, isShuttingDown: deps.isShuttingDown });
  registerReportRoutes(app, {
    reports: {
      db: deps.db,
      config: deps.config,
      jobs: deps.jobs,
      uploads: new UploadSlots(deps.config.maxInflightUploads),
      isShuttingDown: deps.isShuttingDown,
      cache: new ReportCache(),
      importer: deps.importer,
      now: deps.now,
    },
  });
  if (deps.importer !== undefined) registerProviderRoutes(app, { importer: deps.importer });
  registerDocsRoutes(app, { version: deps.version });
  registerWebRoutes(app);
  if (deps.telemetry !== undefined) registerMetricsRoutes(app, { telemetry: deps.telemetry });
  return app;
}
