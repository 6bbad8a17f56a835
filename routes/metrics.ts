/**
 * `GET /metrics`: every instrument in Prometheus' text format, on the app's
 * own port (no second listener to secure and open in a firewall).
 *
 * It exposes operational numbers, not data: request rates, latencies, job
 * counts, memory. Keep it off the public internet all the same: bind reportd
 * to a private interface or let the reverse proxy refuse `/metrics`
 * (docs/observability.md).
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { PROMETHEUS_CONTENT_TYPE, type Telemetry } from "../services/telemetry/mod.ts";
import type { AppEnv } from "./middleware/request_id.ts";

const metricsRoute = createRoute({
  method: "get",
  path: "/metrics",
  operationId: "getMetrics",
  tags: ["operations"],
  summary: "Metrics in Prometheus text format",
  description: "Request, job, database and process metrics for a Prometheus scrape. " +
    "Every metric is described in docs/observability.md.",
  responses: {
    200: {
      description: "The current value of every instrument",
      content: {
        "text/plain": {
          schema: z.string().meta({
            example:
              "# HELP http_server_active_requests Number of HTTP server requests in flight\n" +
              "# TYPE http_server_active_requests gauge\n" +
              'http_server_active_requests{http_request_method="GET"} 1\n',
          }),
        },
      },
    },
  },
});

/** What `/metrics` needs. */
export interface MetricsRouteDeps {
  /** The telemetry whose instruments are rendered. */
  telemetry: Pick<Telemetry, "renderPrometheus">;
}

/** Registers `GET /metrics`. */
export function registerMetricsRoutes(app: OpenAPIHono<AppEnv>, deps: MetricsRouteDeps): void {
  // Documented through the registry, served by a plain route: the body is text
  // in a format the OpenAPI schema can only call "a string".
  app.openAPIRegistry.registerPath(metricsRoute);
  app.get("/metrics", async (c) => {
    const text = await deps.telemetry.renderPrometheus();
    return c.body(text, 200, {
      "content-type": PROMETHEUS_CONTENT_TYPE,
      // Each scrape must see the values of now, never a cached copy.
      "cache-control": "no-store",
    });
  });
}
