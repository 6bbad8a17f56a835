/**
 * The response and parameter schemas of the HTTP API.
 *
 * They are zod schemas so that the same objects validate requests and, through
 * @hono/zod-openapi, produce the OpenAPI document: the docs cannot drift from
 * the behaviour. Field names are snake_case, as in the JSON on the wire.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { REPORT_STATUSES } from "../services/reports/mod.ts";
import { COMPARE_AGG, COMPARE_NORMALIZE, MAX_COMPARE_IDS } from "../services/reports/compare.ts";
import { RESAMPLE_AGG, RESAMPLE_EVERY } from "../services/series/resample.ts";
import { parseTransform, TRANSFORM_FORMS } from "../services/series/transforms.ts";

const isoTime = z.string().meta({ format: "date-time", example: "2020-01-10T00:00:00.000Z" });
const nullableNumber = z.number().nullable();

/** Field-level validation failure. */
export const FieldErrorSchema = z.object({
  path: z.string().meta({ example: "query.limit" }),
  message: z.string().meta({ example: "Too big: expected number to be <=100" }),
}).meta({ id: "FieldError" });

/** RFC 9457 problem document. */
export const ProblemSchema = z.object({
  type: z.string().meta({
    description: "URI of the problem type; GET it for a description",
    example: "/problems/not-found",
  }),
  title: z.string().meta({ example: "Not found" }),
  status: z.number().int().meta({ example: 404 }),
  detail: z.string().optional().meta({
    example: 'There is no report with id "0190f5b8-0000-7000-8000-000000000000"',
  }),
  instance: z.string().optional().meta({
    example: "/v1/reports/0190f5b8-0000-7000-8000-000000000000",
  }),
  request_id: z.string().optional().meta({ example: "6f1c2f0e-93d5-4c57-9a3e-2a0f5e0f9b1d" }),
  errors: z.array(FieldErrorSchema).optional(),
}).meta({
  id: "Problem",
  description: "An RFC 9457 problem document, sent as application/problem+json",
});

const RejectedRowSchema = z.object({
  line: z.number().int().meta({ example: 7 }),
  reason: z.string().meta({ example: 'Column "value": "abc" is not a finite number' }),
}).meta({ id: "RejectedRow" });

const RowCountsSchema = z.object({
  received: z.number().int(),
  accepted: z.number().int(),
  rejected: z.number().int(),
  duplicates: z.number().int(),
  rejected_examples: z.array(RejectedRowSchema).meta({ description: "Up to 10 examples" }),
}).meta({ id: "RowCounts" });

const MaxDrawdownSchema = z.object({
  value: z.number().meta({ description: "trough / peak - 1, in [-1, 0]", example: -0.3412 }),
  peak: isoTime.nullable().meta({ description: "The running peak before the worst fall" }),
  trough: isoTime.nullable().meta({ description: "The lowest point of the worst fall" }),
  recovery: isoTime.nullable().meta({
    description: "First time back at the peak's value after the trough; null if never",
  }),
}).meta({ id: "MaxDrawdown", description: "The worst fall from a running peak" });

const TrendSchema = z.object({
  slope_per_day: z.number().meta({
    description: "Least-squares slope, units per day",
    example: 0.42,
  }),
  r2: nullableNumber.meta({
    description: "R squared in [0, 1]; null for constant values",
    example: 0.87,
  }),
}).meta({ id: "Trend", description: "Least-squares line of value against time" });

const CorrelationSchema = z.object({
  columns: z.array(z.string()).meta({ example: ["close", "volume"] }),
  matrix: z.array(z.array(nullableNumber)).meta({
    description: "Pearson's r on the rows where both columns are present; null where " +
      "fewer than 3 such rows or a column is constant on them",
    example: [[1, -0.21], [-0.21, 1]],
  }),
}).meta({ id: "Correlation" });

const ColumnStatsSchema = z.object({
  count: z.number().int(),
  missing: z.number().int(),
  min: nullableNumber,
  max: nullableNumber,
  mean: nullableNumber,
  stddev: nullableNumber.meta({ description: "Sample standard deviation (n - 1)" }),
  p50: nullableNumber,
  p90: nullableNumber,
  p99: nullableNumber,
  first: nullableNumber,
  last: nullableNumber,
  change: nullableNumber.meta({ description: "last - first" }),
  change_pct: nullableNumber.meta({ description: "change / |first| * 100; null when first is 0" }),
  // Analytics (services/series/analytics.ts); absent on reports processed before them.
  return_total: nullableNumber.optional().meta({
    description: "last / first - 1 over the present values; null unless every value is positive",
    example: 0.4218,
  }),
  cagr: nullableNumber.optional().meta({
    description: "Compound annual growth rate, (last / first)^(365.25 / days) - 1; " +
      "null when the span is under 30 days or a value is not positive",
    example: 0.0731,
  }),
  volatility_annualized: nullableNumber.optional().meta({
    description: "Sample stddev of log returns x sqrt(periods_per_year); null unless every " +
      "value is positive and there are at least three",
    example: 0.2841,
  }),
  max_drawdown: MaxDrawdownSchema.nullable().optional(),
  sharpe_like: nullableNumber.optional().meta({
    description: "Mean / sample stddev of simple returns x sqrt(periods_per_year), zero " +
      "risk-free rate (not a Sharpe ratio, hence the name); null when undefined",
    example: 0.61,
  }),
  trend: TrendSchema.nullable().optional(),
  outliers: z.number().int().nullable().optional().meta({
    description: "Points with |0.6745 (v - median) / MAD| > 3.5 (modified z-score, " +
      "Iglewicz and Hoaglin); null when the MAD is 0",
    example: 3,
  }),
  null_reasons: z.record(z.string(), z.string()).optional().meta({
    description: "Why a statistic above is null, keyed by its name",
    example: { cagr: "The span (12 days) is shorter than 30 days" },
  }),
}).meta({ id: "ColumnStats" });

const GapSchema = z.object({
  from: isoTime,
  to: isoTime,
  seconds: z.number(),
}).meta({ id: "Gap" });

const SummarySchema = z.object({
  start: isoTime,
  end: isoTime,
  points: z.number().int(),
  interval_median_s: nullableNumber,
  gaps: z.object({
    count: z.number().int(),
    threshold_s: nullableNumber.meta({ description: "3 x the median interval" }),
    largest: z.array(GapSchema).meta({ description: "The 10 largest, largest first" }),
  }),
  columns: z.record(z.string(), ColumnStatsSchema),
  periods_per_year: nullableNumber.optional().meta({
    description: "What returns are annualized with: 252 for daily data on weekdays, 12 for " +
      "monthly, else 365.25 days / the median interval; absent on older reports",
    example: 252,
  }),
  correlation: CorrelationSchema.nullable().optional().meta({
    description: "Null for more than 32 columns; absent on older reports",
  }),
  null_reasons: z.record(z.string(), z.string()).optional().meta({
    description: "Why a series-level statistic is null, keyed by its name",
    example: {},
  }),
}).meta({ id: "Summary" });

/** How an upload was read: `source.dialect`. */
export const SourceDialectSchema = z.object({
  encoding: z.string().optional().meta({
    description: "Text encoding from the byte order mark: utf-8, utf-8-bom, utf-16le or " +
      "utf-16be (text formats)",
    example: "utf-8",
  }),
  delimiter: z.string().optional().meta({ description: "CSV field separator", example: ";" }),
  decimal: z.string().optional().meta({ description: "CSV decimal mark", example: "," }),
  thousands: z.string().nullable().optional().meta({
    description: "CSV thousands separator, or null",
  }),
  shape: z.string().optional().meta({
    description: "JSON layout: columnar, points, records, split (pandas `orient` names) or " +
      "ndjson",
    example: "records",
  }),
  time_column: z.string().meta({ description: "Where the times came from", example: "Date" }),
  time_format: z.string().meta({
    description: "`iso8601/epoch`, the strftime pattern used, or `parquet` (typed column)",
    example: "%d.%m.%Y",
  }),
  timezone: z.string().nullable().meta({
    description: "IANA zone applied to times without an offset",
    example: "Europe/Berlin",
  }),
  detected: z.array(z.string()).meta({
    description: "Which fields were detected rather than given as parameters",
    example: ["delimiter", "decimal", "time_column", "time_format"],
  }),
  notes: z.array(z.string()).optional().meta({ description: "What was guessed, in words" }),
}).meta({ id: "SourceDialect" });

/** A report resource. */
export const ReportSchema = z.object({
  id: z.string().meta({ format: "uuid", example: "0190f5b8-3c4e-7a1b-8f00-5c2d9e6b1a20" }),
  name: z.string().meta({ example: "AVGO daily close" }),
  status: z.enum(REPORT_STATUSES),
  created_at: isoTime,
  updated_at: isoTime,
  source: z.union([
    z.object({
      kind: z.literal("upload"),
      format: z.enum(["csv", "json", "ndjson", "parquet"]),
      dialect: SourceDialectSchema.optional(),
    }),
    z.object({
      kind: z.literal("provider"),
      provider: z.enum(["stooq", "url"]),
      symbol: z.string().optional(),
      start: z.string().optional(),
      end: z.string().optional(),
      interval: z.enum(["d", "w", "m"]).optional(),
      url: z.string().optional(),
      cache: z.enum(["hit", "miss", "stale"]).nullable().meta({
        description: "Whether the upstream cache answered; null until fetched",
      }),
      dialect: SourceDialectSchema.optional(),
    }),
  ]),
  rows: RowCountsSchema.nullable(),
  summary: SummarySchema.nullable(),
  queued_at: isoTime.nullable().meta({ description: "When the upload was stored and queued" }),
  started_at: isoTime.nullable().meta({ description: "When a worker last started on it" }),
  finished_at: isoTime.nullable().meta({ description: "When it became ready or failed" }),
  error: ProblemSchema.nullable().meta({
    description: "Why processing failed, as a problem object (status failed only)",
  }),
  links: z.object({
    self: z.string().meta({ example: "/v1/reports/0190f5b8-3c4e-7a1b-8f00-5c2d9e6b1a20" }),
    series: z.string().meta({
      example: "/v1/reports/0190f5b8-3c4e-7a1b-8f00-5c2d9e6b1a20/series",
    }),
  }),
}).meta({ id: "Report" });

/** A page of reports. */
export const ReportListSchema = z.object({
  items: z.array(ReportSchema),
  next_cursor: z.string().nullable().meta({
    description: "Pass as `cursor` for the next page; null on the last page",
  }),
}).meta({ id: "ReportList" });

/** The default JSON form of a series. */
export const SeriesJsonSchema = z.object({
  timestamps: z.array(z.number()).meta({
    description: "Unix epoch seconds",
    example: [1578614400, 1578700800],
  }),
  columns: z.record(z.string(), z.array(z.number().nullable())).meta({
    example: { value: [1.5, null] },
  }),
}).meta({ id: "SeriesJson" });

/** uPlot's data layout: `[timestamps, column1, ...]`. */
export const SeriesUplotSchema = z.array(z.array(z.number().nullable())).meta({
  id: "SeriesUplot",
  example: [[1578614400, 1578700800], [1.5, null]],
});

/** `{id}` path parameter. */
export const ReportIdParamsSchema = z.object({
  id: z.string().meta({
    param: { name: "id", in: "path" },
    format: "uuid",
    example: "0190f5b8-3c4e-7a1b-8f00-5c2d9e6b1a20",
  }),
});

/** Query of `GET /v1/reports`. */
export const ListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).meta({
    param: { name: "limit", in: "query" },
    example: 20,
  }),
  cursor: z.string().min(1).max(200).optional().meta({
    param: { name: "cursor", in: "query" },
    description: "Opaque cursor from `next_cursor`",
  }),
  status: z.enum(REPORT_STATUSES).optional().meta({ param: { name: "status", in: "query" } }),
});

/** Headers of `POST /v1/reports`. */
export const CreateHeadersSchema = z.object({
  "idempotency-key": z.string().regex(/^[\x20-\x7e]{1,255}$/, "1 to 255 printable ASCII characters")
    .optional().meta({
      param: { name: "idempotency-key", in: "header" },
      description: "Retry safely: the same key with the same body returns the same report " +
        "(200) for 24 hours; the same key with another body is a 422",
      example: "upload-2026-11-27-001",
    }),
  "content-encoding": z.string().optional().meta({
    param: { name: "content-encoding", in: "header" },
    description: "`gzip` or `br` (or `identity`): decompressed while it streams; the size " +
      "and row limits apply to the decompressed bytes, so a small bomb is a 413 early. " +
      "Anything else is a 415",
    example: "gzip",
  }),
});

/** Query of `POST /v1/reports`. */
export const CreateQuerySchema = z.object({
  name: z.string().min(1).max(200).optional().meta({
    param: { name: "name", in: "query" },
    description: "Report name (1..200 characters); for JSON it wins over the body's name",
    example: "AVGO daily close",
  }),
  delimiter: z.string().max(8).optional().meta({
    param: { name: "delimiter", in: "query" },
    description: "CSV field separator: `,` `;` `|` or `tab`. Detected from the first lines " +
      "when absent",
    example: ";",
  }),
  decimal: z.string().max(8).optional().meta({
    param: { name: "decimal", in: "query" },
    description: "CSV decimal mark, `.` or `,`. A decimal comma is detected in `;` and TAB " +
      "files when no value has a decimal point",
    example: ",",
  }),
  thousands: z.string().max(8).optional().meta({
    param: { name: "thousands", in: "query" },
    description: "CSV thousands separator to drop from numbers: `,` `.` `'` or a space " +
      '(`"1,234.50"` with `thousands=,`)',
    example: ",",
  }),
  time_column: z.string().max(200).optional().meta({
    param: { name: "time_column", in: "query" },
    description: "The time column (CSV, Parquet) or key (JSON records, split, NDJSON). " +
      "Default: the first named timestamp, time, date, datetime or t in any case, else the " +
      "first column when 95% of its first 1,000 cells read as times",
    example: "Date",
  }),
  date_format: z.string().max(100).optional().meta({
    param: { name: "date_format", in: "query" },
    description: "strftime-style pattern of the times: %Y %m %d %H %M %S %f %z %b and %%. " +
      "Without it, ISO-8601 and epoch numbers are read, and common day-first or month-first " +
      "patterns are detected when only one fits; an ambiguous one (03/04/2020) is a 422 " +
      "naming this parameter",
    example: "%d.%m.%Y %H:%M",
  }),
  timezone: z.string().max(64).optional().meta({
    param: { name: "timezone", in: "query" },
    description: "IANA zone of date-times written without an offset. At DST changes a " +
      "repeated time is the earlier instant and a skipped time moves forward by the gap " +
      "(RFC 5545, Temporal 'compatible'). Dates without a time stay UTC midnight",
    example: "Europe/Berlin",
  }),
});

const formatParameter = z.enum(["json", "csv", "uplot"]).optional().meta({
  param: { name: "format", in: "query" },
  description: "Overrides the Accept header",
});
const fromParameter = z.string().min(1).max(64).optional().meta({
  param: { name: "from", in: "query" },
  description: "Inclusive start: ISO-8601 date or date-time, or Unix epoch (s or ms)",
  example: "2020-01-10",
});
const toParameter = z.string().min(1).max(64).optional().meta({
  param: { name: "to", in: "query" },
  description: "Inclusive end, same forms as `from`",
  example: "2020-02-10T00:00:00Z",
});
const pointsParameter = z.coerce.number().int().min(3).max(1_000_000).optional().meta({
  param: { name: "points", in: "query" },
  description: "Downsample each column with LTTB to this many points (first and last kept), " +
    "after resampling and transforms",
  example: 800,
});
const everyParameter = z.enum(RESAMPLE_EVERY, {
  error: `expected one of ${RESAMPLE_EVERY.join(", ")}`,
}).meta({
  param: { name: "every", in: "query" },
  description: "Resample into calendar-aligned UTC buckets labelled by their start: minutes, " +
    "hours and days from midnight, weeks from Monday, months from the 1st. Empty buckets are " +
    "omitted; with from/to, buckets are selected by their start",
  example: "1h",
});

/** Query of `GET /v1/reports/{id}/series`. */
export const SeriesQuerySchema = z.object({
  format: formatParameter,
  from: fromParameter,
  to: toParameter,
  points: pointsParameter,
  every: everyParameter.optional(),
  agg: z.enum(RESAMPLE_AGG, { error: `expected one of ${RESAMPLE_AGG.join(", ")}` })
    .optional().meta({
      param: { name: "agg", in: "query" },
      description: "Aggregate per bucket (default last); only with `every`. `ohlc` turns " +
        "each column c into c_open, c_high, c_low, c_close",
      example: "ohlc",
    }),
  transform: z.string().max(64).superRefine((text, context) => {
    const parsed = parseTransform(text);
    if (!parsed.ok) context.addIssue({ code: "custom", message: parsed.reason });
  }).optional().meta({
    param: { name: "transform", in: "query" },
    description: `Applied after resampling, over the whole series before from/to cut it: ` +
      `${TRANSFORM_FORMS}. Rows without a full window are null`,
    example: "rolling_mean:20",
  }),
});

/** Query of `GET /v1/compare`. */
export const CompareQuerySchema = z.object({
  ids: z.string().max(2000).superRefine((text, context) => {
    const ids = text.split(",").map((id) => id.trim());
    if (ids.some((id) => id === "")) {
      context.addIssue({ code: "custom", message: "expected report ids separated by commas" });
    } else if (ids.length > MAX_COMPARE_IDS) {
      context.addIssue({
        code: "custom",
        message: `at most ${MAX_COMPARE_IDS} ids (got ${ids.length})`,
      });
    } else if (new Set(ids).size !== ids.length) {
      context.addIssue({ code: "custom", message: "an id is repeated" });
    }
  }).meta({
    param: { name: "ids", in: "query" },
    description: `1 to ${MAX_COMPARE_IDS} report ids, comma-separated, each once`,
    example: "0190f5b8-3c4e-7a1b-8f00-5c2d9e6b1a20,0190f5b9-0a11-7c3d-9e00-1b2c3d4e5f60",
  }),
  every: everyParameter.default("1d"),
  agg: z.enum(COMPARE_AGG, { error: `expected one of ${COMPARE_AGG.join(", ")}` })
    .optional().meta({
      param: { name: "agg", in: "query" },
      description: "Aggregate per bucket (default last)",
      example: "last",
    }),
  normalize: z.enum(COMPARE_NORMALIZE, { error: `expected one of ${COMPARE_NORMALIZE.join(", ")}` })
    .default("none").meta({
      param: { name: "normalize", in: "query" },
      description: "`first`: rebase each column to 100 at its first value on the common " +
        "buckets within from/to",
      example: "first",
    }),
  format: formatParameter,
  from: fromParameter,
  to: toParameter,
  points: pointsParameter,
});

/** The health endpoints' body. */
export const HealthSchema = z.object({
  status: z.enum(["ok", "unavailable"]),
}).meta({ id: "Health" });
