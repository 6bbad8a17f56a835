/**
 * `/v1/reports`: thin handlers. Each one validates its input, calls one use
 * case in services/reports/mod.ts and shapes the response; no SQL, no parsing of
 * series here.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { AppError } from "../services/errors.ts";
import * as reports from "../services/reports/mod.ts";
import { currentTraceparent } from "../services/telemetry/tracing.ts";
import { seriesToCsv } from "../services/series/csv_out.ts";
import { seriesToJson, seriesToUplot } from "../services/series/json_out.ts";
import { parseTimestamp } from "../services/series/timestamps.ts";
import {
  ColumnarUploadSchema,
  PandasRecordsSchema,
  PandasSplitSchema,
  RowUploadSchema,
} from "../services/series/upload_schema.ts";
import { ImportRequestSchema } from "../services/providers/import_schema.ts";
import type { Series, UploadFormat } from "../services/series/types.ts";
import { validateParseOptions } from "../services/series/dialect.ts";
import { CONTENT_ENCODINGS, type ContentEncoding } from "../services/reports/uploads.ts";
import { parseTransform, type Transform } from "../services/series/transforms.ts";
import { readSeriesView } from "../services/reports/series_view.ts";
import { fieldErrors, problemObject, slugForKind } from "./middleware/problem.ts";
import type { AppEnv } from "./middleware/request_id.ts";
import { problemContent } from "./openapi.ts";
import {
  CreateHeadersSchema,
  CreateQuerySchema,
  ListQuerySchema,
  ReportIdParamsSchema,
  ReportListSchema,
  ReportSchema,
  SeriesJsonSchema,
  SeriesQuerySchema,
  SeriesUplotSchema,
} from "./schemas.ts";

/** What the report routes need. */
export interface ReportRouteDeps {
  /** Context for the use cases. */
  reports: reports.ReportsContext;
}

/** A ready series never changes, so clients and caches may keep it. */
const SERIES_CACHE_CONTROL = "private, max-age=31536000, immutable";

const badRequest = problemContent("A parameter is malformed or out of range");
const notFound = problemContent("No report with this id");
const unavailable = problemContent("The database is not answering");

const createReportRoute = createRoute({
  method: "post",
  path: "/v1/reports",
  operationId: "createReport",
  tags: ["reports"],
  summary: "Upload a time series; it is processed in the background",
  description: "The first CSV column is the timestamp (`timestamp`, `time`, `date` or `t`); " +
    "every other column is a numeric series. JSON comes in columnar or row form, or names a " +
    "`source` to import from a provider (see GET /v1/providers). The upload is " +
    "stored, then parsed and summarized by a worker: poll the report until its status is " +
    "`ready` or `failed`.",
  request: {
    query: CreateQuerySchema,
    headers: CreateHeadersSchema,
    body: {
      required: true,
      content: {
        "text/csv": {
          schema: z.string().meta({
            example: "timestamp,value\n2020-01-10,1.5\n2020-01-11,1.7\n",
          }),
        },
        "application/json": {
          schema: z.union([
            ColumnarUploadSchema,
            RowUploadSchema,
            PandasRecordsSchema,
            PandasSplitSchema,
            ImportRequestSchema,
          ]),
        },
        "application/x-ndjson": {
          schema: z.string().meta({
            description: "One JSON object per line, keys as in pandas' orient=records",
            example: '{"Date":"2020-01-10","Close":1.5}\n{"Date":"2020-01-11","Close":null}\n',
          }),
        },
        "application/vnd.apache.parquet": {
          schema: z.string().meta({
            format: "binary",
            description: "A TIMESTAMP or DATE column and numeric columns; Snappy, gzip, " +
              "Zstandard, Brotli or LZ4. Other column types are named in a 422",
          }),
        },
      },
    },
  },
  responses: {
    200: {
      description: "An Idempotency-Key retry: the report created by the first request",
      content: { "application/json": { schema: ReportSchema } },
    },
    202: {
      description: "Accepted: the upload is stored and the report is queued",
      headers: z.object({ Location: z.string().meta({ example: "/v1/reports/0190f5b8-..." }) }),
      content: { "application/json": { schema: ReportSchema } },
    },
    400: problemContent(
      "The body is not JSON, ends before its Content-Length or last chunk, or a parameter or " +
        "header is malformed",
    ),
    413: problemContent("The body, or its number of lines, exceeds the limit"),
    415: problemContent("The content type or the Content-Encoding is not supported"),
    422: problemContent(
      "Visibly unusable (bad CSV header, no data rows, not a JSON object), or an " +
        "Idempotency-Key reused with a different body",
    ),
    503: problemContent("The queue is full or too many uploads are in flight; see Retry-After"),
    507: problemContent("The server's disk is full; nothing was stored; see Retry-After"),
  },
}) satisfies RouteConfig;

const listReportsRoute = createRoute({
  method: "get",
  path: "/v1/reports",
  operationId: "listReports",
  tags: ["reports"],
  summary: "List reports, newest first",
  request: { query: ListQuerySchema },
  responses: {
    200: {
      description: 'One page of reports; `Link: <...>; rel="next"` when there is more',
      content: { "application/json": { schema: ReportListSchema } },
    },
    400: badRequest,
    503: unavailable,
  },
});

const getReportRoute = createRoute({
  method: "get",
  path: "/v1/reports/{id}",
  operationId: "getReport",
  tags: ["reports"],
  summary: "Get a report",
  request: { params: ReportIdParamsSchema },
  responses: {
    200: {
      description: "The report; a finished one (ready or failed) carries a strong ETag",
      content: { "application/json": { schema: ReportSchema } },
    },
    304: { description: "Not modified (If-None-Match matched a finished report)" },
    404: notFound,
    503: unavailable,
  },
});

const getSeriesRoute = createRoute({
  method: "get",
  path: "/v1/reports/{id}/series",
  operationId: "getReportSeries",
  tags: ["reports"],
  summary: "Get the cleaned series as JSON, CSV or uPlot arrays",
  request: { params: ReportIdParamsSchema, query: SeriesQuerySchema },
  responses: {
    200: {
      description: "The series (strong ETag; immutable once ready)",
      content: {
        "application/json": { schema: z.union([SeriesJsonSchema, SeriesUplotSchema]) },
        "text/csv": {
          schema: z.string().meta({ example: "timestamp,value\n2020-01-10T00:00:00.000Z,1.5\n" }),
        },
      },
    },
    304: { description: "Not modified (If-None-Match matched)" },
    400: badRequest,
    404: notFound,
    409: problemContent("The report is not ready yet; retry after Retry-After seconds"),
    422: problemContent("The report failed; the detail says why"),
    503: unavailable,
  },
});

const deleteReportRoute = createRoute({
  method: "delete",
  path: "/v1/reports/{id}",
  operationId: "deleteReport",
  tags: ["reports"],
  summary: "Delete a report and its series",
  request: { params: ReportIdParamsSchema },
  responses: {
    204: { description: "Deleted" },
    404: notFound,
    503: unavailable,
  },
});

/** Registers the `/v1/reports` routes. */
export function registerReportRoutes(app: OpenAPIHono<AppEnv>, deps: ReportRouteDeps): void {
  const context = deps.reports;

  // The upload is documented through the registry but handled by a plain
  // route: @hono/zod-openapi would parse and validate a JSON body on the main
  // thread, while reportd leaves every element-level check to the series
  // parser (which rejects bad rows instead of failing the whole upload).
  app.openAPIRegistry.registerPath(createReportRoute);
  app.post("/v1/reports", requireUploadFormat, async (c) => {
    const query = parseRequestPart(CreateQuerySchema, c.req.query(), "query");
    const headers = parseRequestPart(
      CreateHeadersSchema,
      { "idempotency-key": c.req.header("idempotency-key") },
      "header",
    );
    const length = c.req.header("content-length");
    const parse = validateParseOptions({
      delimiter: query.delimiter,
      decimal: query.decimal,
      thousands: query.thousands,
      timeColumn: query.time_column,
      dateFormat: query.date_format,
      timezone: query.timezone,
    });
    const { report, replayed } = await reports.createReport(context, {
      body: c.req.raw.body,
      format: uploadFormat(c),
      name: query.name,
      parse,
      contentEncoding: contentEncoding(c),
      declaredBytes: length === undefined ? undefined : Number(length),
      idempotencyKey: headers["idempotency-key"],
      // Our server span (a child of the caller's, if any): the job's span links to it.
      traceparent: currentTraceparent(),
      createdBy: c.get("auth")?.principal?.id,
    });
    if (replayed) return c.json(toReportBody(report), 200, { location: selfLink(report.id) });
    return c.json(toReportBody(report), 202, { location: selfLink(report.id) });
  });

  app.openapi(listReportsRoute, async (c) => {
    const query = c.req.valid("query");
    const page = await reports.listReports(context, query);
    if (page.nextCursor !== null) {
      const next = new URLSearchParams({ limit: String(query.limit), cursor: page.nextCursor });
      if (query.status !== undefined) next.set("status", query.status);
      c.header("link", `</v1/reports?${next}>; rel="next"`);
    }
    return c.json({ items: page.items.map(toReportBody), next_cursor: page.nextCursor }, 200);
  });

  app.openapi(getReportRoute, async (c) => {
    const report = await reports.getReport(context, c.req.valid("param").id);
    const headers = reportCacheHeaders(report);
    if (headers.etag !== undefined && matchesEtag(c.req.header("if-none-match"), headers.etag)) {
      return c.body(null, 304, headers) as never;
    }
    return c.body(reportJson(report), 200, {
      ...headers,
      "content-type": "application/json",
    }) as never;
  });

  app.openapi(getSeriesRoute, async (c) => {
    const { id } = c.req.valid("param");
    const query = c.req.valid("query");
    const format = query.format ?? (prefersCsv(c.req.header("accept")) ? "csv" : "json");
    const range = {
      from: query.from === undefined ? undefined : timestampParameter(query.from, "from"),
      to: query.to === undefined ? undefined : timestampParameter(query.to, "to"),
    };
    const transform = query.transform === undefined
      ? undefined
      : parseTransformParameter(query.transform);
    const report = await reports.getReport(context, id);
    const variant: unknown[] = [format, range.from, range.to, query.points];
    // Analytics parameters join the variant only when given, so existing ETags stay valid.
    if (query.every !== undefined || query.agg !== undefined || transform !== undefined) {
      variant.push(query.every, query.agg, query.transform);
    }
    const etag = report.status === "ready" ? await seriesEtag(report.id, variant) : undefined;
    const cacheHeaders: Record<string, string> = etag === undefined
      ? {}
      : { etag, "cache-control": SERIES_CACHE_CONTROL, vary: "Accept" };
    if (etag !== undefined && matchesEtag(c.req.header("if-none-match"), etag)) {
      return c.body(null, 304, cacheHeaders);
    }
    const series = await readSeriesView(context, id, {
      ...range,
      points: query.points,
      every: query.every,
      agg: query.agg,
      transform,
    });
    return sendSeries(c, series, {
      format,
      headers: cacheHeaders,
      filename: `report-${report.id}`,
    });
  });

  app.openapi(deleteReportRoute, async (c) => {
    const auth = c.get("auth");
    await reports.deleteReport(context, c.req.valid("param").id, {
      actor: auth?.required ? auth.principal : undefined,
    });
    return c.body(null, 204);
  });
}

/** True for a report whose representation will not change again. */
export function isFinished(report: reports.Report): boolean {
  return report.status === "ready" || report.status === "failed";
}

/**
 * The caching headers of `GET /v1/reports/{id}`. Only a finished report has
 * a stable representation worth a validator (`ETag`); a queued one changes,
 * so clients must revalidate (poll) every time.
 */
export function reportCacheHeaders(report: reports.Report): Record<string, string> {
  return isFinished(report)
    ? { etag: `"${report.id}.${report.status}"`, "cache-control": "private, no-cache" }
    : { "cache-control": "no-store" };
}

// A finished report never changes, so its JSON is serialized once and kept
// beside the cached report (keyed by the object, so it goes when it goes).
const serialized = new WeakMap<reports.Report, string>();

/** The JSON text of `GET /v1/reports/{id}`; a finished report's is made once and kept. */
export function reportJson(report: reports.Report): string {
  let body = serialized.get(report);
  if (body === undefined) {
    body = JSON.stringify(toReportBody(report));
    if (isFinished(report)) serialized.set(report, body);
  }
  return body;
}

/** The JSON body of a report: snake_case fields plus links. */
export function toReportBody(report: reports.Report): z.infer<typeof ReportSchema> {
  return {
    id: report.id,
    name: report.name,
    status: report.status,
    created_at: report.createdAt,
    updated_at: report.updatedAt,
    source: report.source,
    rows: report.rows,
    summary: report.summary,
    queued_at: report.queuedAt,
    started_at: report.startedAt,
    finished_at: report.finishedAt,
    error: report.error === null ? null : problemObject(slugForKind(report.error.kind), {
      detail: report.error.detail,
      errors: report.error.errors,
    }),
    links: { self: selfLink(report.id), series: `${selfLink(report.id)}/series` },
  };
}

function selfLink(id: string): string {
  return `/v1/reports/${id}`;
}

const MEDIA_TYPES: Record<string, UploadFormat> = {
  "text/csv": "csv",
  "application/json": "json",
  "application/x-ndjson": "ndjson",
  "application/vnd.apache.parquet": "parquet",
};

/** Rejects unknown media types and encodings before a byte of the body is read. */
async function requireUploadFormat(c: Context, next: () => Promise<void>): Promise<void> {
  uploadFormat(c);
  contentEncoding(c);
  await next();
}

/** The upload's Content-Encoding; anything but gzip, br or identity is a 415 (RFC 9110). */
function contentEncoding(c: Context): ContentEncoding | undefined {
  const header = c.req.header("content-encoding");
  if (header === undefined) return undefined;
  const value = header.trim().toLowerCase();
  if (!(CONTENT_ENCODINGS as readonly string[]).includes(value)) {
    throw new AppError(
      "unsupported_media_type",
      `Content-Encoding ${JSON.stringify(header)} is not supported; send gzip, br or none`,
    );
  }
  return value as ContentEncoding;
}

// Strict on purpose: each parameter once, well-formed, and only those that
// mean something here (`charset`, which must be UTF-8, and CSV's `header`).
// A lenient parser is where two components start to disagree about a body.
// CSV may say utf-16: Excel's "Unicode text" is UTF-16 with a byte order
// mark, and the mark (not the label) decides how it is decoded.
const MEDIA_TYPE_PARAMETERS: Record<UploadFormat, Record<string, RegExp>> = {
  csv: { charset: /^(utf-8|utf-16|utf-16le|utf-16be)$/, header: /^(present|absent)$/ },
  json: { charset: /^utf-8$/ },
  ndjson: { charset: /^utf-8$/ },
  parquet: {},
};

function uploadFormat(c: Context): UploadFormat {
  const header = c.req.header("content-type") ?? "";
  const [mediaType, ...parameters] = header.split(";").map((part) => part.trim().toLowerCase());
  // Own properties only: "constructor" is not a media type (a fuzz finding).
  const format = Object.hasOwn(MEDIA_TYPES, mediaType) ? MEDIA_TYPES[mediaType] : undefined;
  const seen = new Set<string>();
  const valid = format !== undefined && parameters.every((parameter) => {
    const match = /^([a-z0-9!#$&^_.+-]+)=("?)([^";]*)\2$/.exec(parameter);
    if (match === null || seen.has(match[1])) return false;
    seen.add(match[1]);
    const allowed = MEDIA_TYPE_PARAMETERS[format];
    return Object.hasOwn(allowed, match[1]) && allowed[match[1]].test(match[3]);
  });
  if (!valid) {
    throw new AppError(
      "unsupported_media_type",
      `Content-Type ${JSON.stringify(header)} is not supported; ` +
        "send text/csv, application/json, application/x-ndjson or " +
        "application/vnd.apache.parquet",
    );
  }
  return format;
}

function parseRequestPart<T extends z.ZodType>(
  schema: T,
  input: unknown,
  where: "query" | "header",
): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new AppError("invalid_parameter", `The ${where} parameters are invalid`, {
      errors: fieldErrors(parsed.error, where),
    });
  }
  return parsed.data;
}

/**
 * Answers with a series in `format`: CSV as a download named `filename`.csv,
 * JSON columns or uPlot arrays; `headers` go on the response.
 */
export function sendSeries(
  c: Context,
  series: Series,
  options: { format: "json" | "csv" | "uplot"; headers: Record<string, string>; filename: string },
): Response {
  if (options.format === "csv") {
    return c.body(seriesToCsv(series), 200, {
      ...options.headers,
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${options.filename}.csv"`,
    });
  }
  const body = options.format === "uplot" ? seriesToUplot(series) : seriesToJson(series);
  return c.json(body, 200, options.headers);
}

/** The parsed `transform` parameter (the schema has validated it already). */
function parseTransformParameter(text: string): Transform {
  const parsed = parseTransform(text);
  if (!parsed.ok) {
    throw new AppError("invalid_parameter", "The transform parameter is invalid", {
      errors: [{ path: "query.transform", message: parsed.reason }],
    });
  }
  return parsed.transform;
}

/** Epoch ms of a `from`/`to` query parameter; a 400 naming it when malformed. */
export function timestampParameter(value: string, name: string): number {
  const parsed = parseTimestamp(value);
  if (!parsed.ok) {
    throw new AppError("invalid_parameter", `The ${name} parameter is not a timestamp`, {
      errors: [{ path: `query.${name}`, message: parsed.reason }],
    });
  }
  return parsed.ms;
}

/** True when the Accept header ranks text/csv before application/json. */
export function prefersCsv(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const csv = accept.indexOf("text/csv");
  const json = accept.indexOf("application/json");
  return csv !== -1 && (json === -1 || csv < json);
}

async function seriesEtag(id: string, variant: unknown[]): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(JSON.stringify(variant)),
  );
  const hex = Array.from(
    new Uint8Array(digest).slice(0, 8),
    (byte) => byte.toString(16).padStart(2, "0"),
  )
    .join("");
  return `"${id}-${hex}"`;
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.trim() === "*" || header.split(",").some((candidate) => candidate.trim() === etag);
}
