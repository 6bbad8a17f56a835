/**
 * `GET /v1/compare`: several ready reports aligned on common buckets, as one
 * series. A thin handler: validate, call services/reports/compare.ts, answer
 * in the same formats as a report's series.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { compareReports } from "../services/reports/compare.ts";
import type { ReportsContext } from "../services/reports/mod.ts";
import type { AppEnv } from "./middleware/request_id.ts";
import { problemContent } from "./openapi.ts";
import { prefersCsv, sendSeries, timestampParameter } from "./reports.ts";
import { CompareQuerySchema, SeriesJsonSchema, SeriesUplotSchema } from "./schemas.ts";

/** What the compare route needs. */
export interface CompareRouteDeps {
  /** Context for the use cases. */
  reports: ReportsContext;
}

const compareRoute = createRoute({
  method: "get",
  path: "/v1/compare",
  operationId: "compareReports",
  tags: ["reports"],
  summary: "Several reports aligned on common buckets, optionally rebased to 100",
  description: "Resamples each report to `every` with `agg`, keeps the buckets all of them " +
    "have, and names the columns `<report name>.<column>` (with ` (<id>)` after the name when " +
    "two reports share it). `from`/`to` choose the window; with `normalize=first` each column " +
    "is rebased to 100 at its first value in it. Errors name the id: unknown 404, failed 422, " +
    "not ready 409.",
  request: { query: CompareQuerySchema },
  responses: {
    200: {
      description: "The aligned series, in the same forms as a report's series",
      content: {
        "application/json": { schema: z.union([SeriesJsonSchema, SeriesUplotSchema]) },
        "text/csv": {
          schema: z.string().meta({
            example: "timestamp,AVGO.close,NVDA.close\n2020-01-10T00:00:00.000Z,100,100\n",
          }),
        },
      },
    },
    400: problemContent("A parameter is malformed, or more than 10 ids"),
    404: problemContent("An id names no report"),
    409: problemContent("A report is not ready yet; retry after Retry-After seconds"),
    422: problemContent("A report failed, or a column cannot be rebased (first value <= 0)"),
    503: problemContent("The database is not answering"),
  },
});

/** Registers `GET /v1/compare`. */
export function registerCompareRoutes(app: OpenAPIHono<AppEnv>, deps: CompareRouteDeps): void {
  app.openapi(compareRoute, async (c) => {
    const query = c.req.valid("query");
    const series = await compareReports(deps.reports, {
      ids: query.ids.split(",").map((id) => id.trim()),
      every: query.every,
      agg: query.agg,
      normalize: query.normalize,
      from: query.from === undefined ? undefined : timestampParameter(query.from, "from"),
      to: query.to === undefined ? undefined : timestampParameter(query.to, "to"),
      points: query.points,
    });
    const format = query.format ?? (prefersCsv(c.req.header("accept")) ? "csv" : "json");
    // Not cacheable like one report's series: a compared report may be deleted.
    return sendSeries(c, series, {
      format,
      headers: { "cache-control": "no-store" },
      filename: "compare",
    });
  });
}
