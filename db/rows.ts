/**
 * Rows as both engines return them, and their conversion to records: the
 * tables are alike on SQLite and PostgreSQL (db/types.ts says why), so one
 * conversion serves both. Only db/sqlite/ and db/postgres/ use this module.
 *
 * @module
 */
import type {
  ApiKeyRecord,
  ClaimedJob,
  JobFormat,
  JobLease,
  JsonObject,
  NewJob,
  ReportRecord,
  ReportStatus,
  StoredSeries,
} from "./types.ts";

/** A `reports` row. */
export interface ReportRow {
  id: string;
  name: string;
  status: ReportStatus;
  source: string;
  row_counts: string | null;
  summary: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
  queued_at: string | null;
  started_at: string | null;
  finished_at: string | null;
}

/** The columns of `reports`, in the order {@linkcode ReportRow} expects. */
export const REPORT_COLUMNS = "id, name, status, source, row_counts, summary, error, created_at, " +
  "updated_at, queued_at, started_at, finished_at";

/** The values of a `reports` row for {@linkcode REPORT_COLUMNS}, in order. */
export function reportValues(report: ReportRecord): (string | null)[] {
  return [
    report.id,
    report.name,
    report.status,
    JSON.stringify(report.source),
    toJson(report.rowCounts),
    toJson(report.summary),
    toJson(report.error),
    report.createdAt,
    report.updatedAt,
    report.queuedAt,
    report.startedAt,
    report.finishedAt,
  ];
}

/** The columns a new `jobs` row gets besides `report_id`, in the order of {@linkcode jobValues}. */
export const JOB_COLUMNS =
  "upload_id, format, bytes, name_from_body, traceparent, import_source, parse_options";

/** The values of a new `jobs` row for {@linkcode JOB_COLUMNS}, in order. */
export function jobValues(job: NewJob): (string | number | null)[] {
  return [
    job.uploadId,
    job.format,
    job.bytes,
    job.nameFromBody ? 1 : 0,
    job.traceparent ?? null,
    job.importSource === undefined ? null : JSON.stringify(job.importSource),
    job.parseOptions === undefined ? null : JSON.stringify(job.parseOptions),
  ];
}

/** Converts a `reports` row to a record. */
export function fromRow(row: ReportRow): ReportRecord {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    source: JSON.parse(row.source),
    rowCounts: fromJson(row.row_counts),
    summary: fromJson(row.summary),
    error: fromJson(row.error),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    queuedAt: row.queued_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

/** A JSON object as text, or null. */
export function toJson(value: JsonObject | null | undefined): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

function fromJson(text: string | null): JsonObject | null {
  return text === null ? null : JSON.parse(text);
}

/**
 * A column's bytes. Float64Array bytes are stored in the platform's byte
 * order; every platform reportd is built for (x86_64, aarch64) is
 * little-endian, so a database moves between them (and engines) unchanged.
 */
function toBytes(values: Float64Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** A column back from its bytes, copied only when the driver's slice is unaligned. */
function toFloat64Array(bytes: Uint8Array): Float64Array {
  // A Float64Array view needs an 8-byte aligned offset; drivers hand back
  // slices of larger buffers at any offset.
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  return new Float64Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 8);
}

/** One `series_columns` row: position 0 holds the timestamps, 1..n the value columns. */
export interface SeriesColumnRow {
  position: number;
  name: string;
  data: Uint8Array;
}

/** The `series_columns` rows a series is stored as, in position order. */
export function seriesColumnRows(series: StoredSeries): SeriesColumnRow[] {
  return [
    { position: 0, name: "timestamp", data: toBytes(series.timestamps) },
    ...series.columns.map((column, index) => ({
      position: index + 1,
      name: series.names[index],
      data: toBytes(column),
    })),
  ];
}

/** A series back from its `series_columns` rows in position order; undefined when there are none. */
export function seriesFromRows(
  rows: readonly Pick<SeriesColumnRow, "name" | "data">[],
): StoredSeries | undefined {
  if (rows.length === 0) return undefined;
  const [timestamps, ...columns] = rows;
  return {
    timestamps: toFloat64Array(timestamps.data),
    names: columns.map((column) => column.name),
    columns: columns.map((column) => toFloat64Array(column.data)),
  };
}

/** The `jobs` columns a claim returns. */
export interface JobRow {
  report_id: string;
  upload_id: string;
  format: JobFormat;
  /** PostgreSQL's bigint may come back as a string. */
  bytes: number | string;
  attempts: number;
  name_from_body: number;
  traceparent: string | null;
  import_source: string | null;
  parse_options: string | null;
}

/** A claimed job from its row (with `attempts` already counting this claim) and lease. */
export function toClaimedJob(row: JobRow, lease: JobLease): ClaimedJob {
  return {
    reportId: row.report_id,
    uploadId: row.upload_id,
    format: row.format,
    bytes: Number(row.bytes),
    attempts: row.attempts,
    nameFromBody: row.name_from_body === 1,
    traceparent: row.traceparent,
    importSource: row.import_source === null ? null : JSON.parse(row.import_source),
    parseOptions: row.parse_options === null ? null : JSON.parse(row.parse_options),
    lease,
  };
}

/** An `api_keys` row. */
export interface ApiKeyRow {
  id: string;
  name: string;
  key_sha256: string;
  scopes: string;
  created_at: string;
  revoked_at: string | null;
}

/** The columns of `api_keys`, in the order {@linkcode ApiKeyRow} lists them. */
export const API_KEY_COLUMNS = "id, name, key_sha256, scopes, created_at, revoked_at";

/** The values of an `api_keys` row for {@linkcode API_KEY_COLUMNS}, in order. */
export function apiKeyValues(key: ApiKeyRecord): (string | null)[] {
  return [key.id, key.name, key.keySha256, key.scopes.join("+"), key.createdAt, key.revokedAt];
}

/** Converts an `api_keys` row to a record. */
export function apiKeyFromRow(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    keySha256: row.key_sha256,
    scopes: row.scopes.split("+"),
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

/**
 * Joins an upload's chunks (in `seq` order) into one buffer of exactly
 * `bytes` bytes, ready to be transferred to a worker without another copy.
 * Throws when the stored size differs: the upload is damaged or gone.
 */
export function joinChunks(
  chunks: Iterable<{ data: Uint8Array }>,
  expected: { uploadId: string; bytes: number },
): Uint8Array {
  const body = new Uint8Array(expected.bytes);
  let offset = 0;
  for (const { data } of chunks) {
    if (offset + data.byteLength > expected.bytes) {
      throw new Error(
        `Upload ${expected.uploadId} has more than the ${expected.bytes} bytes expected`,
      );
    }
    body.set(data, offset);
    offset += data.byteLength;
  }
  if (offset !== expected.bytes) {
    throw new Error(
      `Upload ${expected.uploadId} has ${offset} bytes stored, expected ${expected.bytes}`,
    );
  }
  return body;
}
