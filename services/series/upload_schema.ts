/**
 * Zod schemas of a JSON series upload, used both to validate request bodies and
 * to generate the OpenAPI document.
 *
 * They check the envelope only: the object shape, the name, that the arrays
 * exist and that every column is as long as `timestamps`. Elements are
 * `unknown` on purpose: a bad timestamp or value rejects that one row (counted
 * and reported, like a bad CSV line) instead of failing the whole upload, and
 * it keeps zod from running a schema on each of millions of elements.
 *
 * @module
 */

import { z } from "zod";

/** An optional report name supplied in the body. */
export const ReportNameSchema = z.string().min(1).max(200).meta({
  description: "Report name, 1 to 200 characters",
  example: "Boiler room temperature, January",
});

const timestampElement = z.unknown().meta({
  description: "An ISO-8601 date (`2020-01-10`, UTC midnight), a date-time with `Z` or an " +
    "offset (`2020-01-10T12:30:00+01:00`; `T` or a space; any fraction digits), or a Unix " +
    "epoch number or numeric string: seconds, or milliseconds when at least 1e11 in " +
    "magnitude. Anything else rejects the row.",
  example: "2020-01-10T12:30:00Z",
});

const valueElement = z.unknown().meta({
  description: "A finite JSON number, or null for a missing value. Anything else, including " +
    "numeric strings, rejects the row.",
  example: 21.5,
});

const pointElement = z.unknown().meta({
  description: "One row: exactly one timestamp key (`t`, `timestamp`, `time` or `date`) plus " +
    "value columns (a finite number or null; an absent key is a missing value). A point " +
    "that is not an object, or has a bad timestamp or value, is rejected.",
  example: { t: "2020-01-10T12:30:00Z", temperature: 21.5, humidity: null },
});

/** Columnar upload: one array of timestamps and one array per value column. */
export const ColumnarUploadSchema = z.object({
  name: ReportNameSchema.optional(),
  timestamps: z.array(timestampElement).meta({
    description: "One timestamp per row",
    example: ["2020-01-10T12:30:00Z", "2020-01-10T12:31:00Z"],
  }),
  columns: z.record(z.string(), z.array(valueElement)).refine(
    (columns) => Object.keys(columns).length > 0,
    { message: "Add at least one value column" },
  ).meta({
    description: "Value columns by name, in order; each array as long as `timestamps`. " +
      "Names are trimmed, must be non-empty, unique and not `timestamp`.",
    example: { temperature: [21.5, null] },
  }),
}).superRefine((body, ctx) => {
  const rows = body.timestamps.length;
  for (const [name, values] of Object.entries(body.columns)) {
    if (values.length !== rows) {
      ctx.addIssue({
        code: "custom",
        path: ["columns", name],
        message: `Has ${values.length} values but there are ${rows} timestamps`,
      });
    }
  }
}).meta({
  id: "ColumnarUpload",
  description: "A series as parallel arrays: `timestamps` and one array per column",
  example: {
    name: "Boiler room",
    timestamps: ["2020-01-10T12:30:00Z", "2020-01-10T12:31:00Z"],
    columns: { temperature: [21.5, 21.7], pressure: [1.2, null] },
  },
});

/** Row upload: an array of point objects. */
export const RowUploadSchema = z.object({
  name: ReportNameSchema.optional(),
  points: z.array(pointElement).meta({
    description: "One object per row; columns appear in order of first appearance",
    example: [{ t: "2020-01-10T12:30:00Z", temperature: 21.5 }],
  }),
}).meta({
  id: "RowUpload",
  description: "A series as an array of points, each with a timestamp and values",
  example: {
    name: "Boiler room",
    points: [
      { t: "2020-01-10T12:30:00Z", temperature: 21.5, pressure: 1.2 },
      { t: 1578659460, temperature: 21.7, pressure: null },
    ],
  },
});

/** Either upload shape; a body with `points` is the row form. */
export const SeriesUploadSchema = z.union([ColumnarUploadSchema, RowUploadSchema]).meta({
  id: "SeriesUpload",
  description: "A JSON series upload, columnar (`timestamps` + `columns`) or row form " +
    "(`points`). Rows with a bad timestamp or value are rejected and counted, not fatal.",
});

/** A validated columnar upload. */
export type ColumnarUpload = z.infer<typeof ColumnarUploadSchema>;
/** A validated row upload. */
export type RowUpload = z.infer<typeof RowUploadSchema>;

/** pandas `DataFrame.to_json(orient="records")`: a top-level array of row objects. */
export const PandasRecordsSchema = z.array(z.record(z.string(), z.unknown())).meta({
  id: "PandasRecordsUpload",
  description: "pandas orient=records: one object per row. The time key is named timestamp, " +
    "time, date, datetime or t (any case), or given as ?time_column=; the other keys are " +
    "value columns (numbers or null)",
  example: [{ Date: 1578614400000, Close: 1.5 }, { Date: 1578700800000, Close: null }],
});

/** pandas `DataFrame.to_json(orient="split")`. */
export const PandasSplitSchema = z.object({
  columns: z.array(z.string()),
  index: z.array(z.unknown()).optional().meta({
    description: "Row labels; the times when no column is named like one",
  }),
  data: z.array(z.array(z.unknown())),
}).meta({
  id: "PandasSplitUpload",
  description: "pandas orient=split: column names, an index and rows of values",
  example: { columns: ["Close"], index: [1578614400000, 1578700800000], data: [[1.5], [null]] },
});
