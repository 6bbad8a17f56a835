/**
 * The report use cases: create, get, list, delete, read the series.
 *
 * This is the seam between HTTP and storage: it takes plain values (never a
 * Hono context) and calls repository functions (never SQL), so the same code
 * serves the API, the CLI and the tests.
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  countQueuedJobs,
  enqueueReport,
  type IdempotencyRecord,
  type NewJob,
} from "../../db/jobs_repo.ts";
import { type Database, listen } from "../../db/mod.ts";
import * as repo from "../../db/reports_repo.ts";
import type { Config } from "../runtime/config.ts";
import { AppError } from "../errors.ts";
import { isUuid, uuidv7 } from "../ids.ts";
import type { JobError, JobQueue, UploadTap } from "../jobs/queue.ts";
import type { RowCounts, Series, Summary, UploadFormat } from "../series/types.ts";
import { getLogger } from "../telemetry/logger.ts";
import { type CacheOutcome, defaultImportName, type Importer } from "../providers/imports.ts";
import {
  type ImportRequest,
  ImportRequestSchema,
  type ImportSource,
} from "../providers/import_schema.ts";
import { leadingJsonName } from "../series/json_name.ts";
import { HEAD_BYTES } from "../series/preflight.ts";
import type { ParseOptions, SourceDialect } from "../series/dialect.ts";
import {
  type BodyDeadline,
  CHUNK_BYTES,
  type ContentEncoding,
  decodeContentEncoding,
  peekBody,
  type ReceivedUpload,
  receiveUpload,
  type UploadSlots,
  withBodyDeadline,
  withBodyEndCheck,
} from "./uploads.ts";
import { hasScope, type Principal } from "../security/api_keys.ts";
import type { DiskSpace } from "../runtime/disk_space.ts";
import type { ReportCache } from "./cache.ts";

const log = getLogger(["reportd", "reports"]);

/** Report lifecycle states. */
export const REPORT_STATUSES = ["queued", "processing", "ready", "failed"] as const;

/** One of {@linkcode REPORT_STATUSES}. */
export type ReportStatus = (typeof REPORT_STATUSES)[number];

/** What the use cases need: the database, the queue and the limits from the config. */
export interface ReportsContext {
  /** The open database. */
  db: Database;
  /** Limits and settings. */
  config: Pick<Config, "maxPoints" | "maxBodyBytes" | "queueMax">;
  /** The job queue that processes uploads. */
  jobs:
    & Pick<JobQueue, "notify" | "estimateWaitSeconds" | "estimateDrainSeconds">
    & Partial<Pick<JobQueue, "openTap">>;
  /** Bounds the uploads being received at once. */
  uploads: UploadSlots;
  /** True once shutdown began: new uploads are refused before their body is read. */
  isShuttingDown?: () => boolean;
  /** Finished reports kept in memory for the read path. */
  cache?: ReportCache<Report>;
  /**
   * Decoded series of ready reports kept in memory (bounded in bytes), so
   * repeated reads (zooming, resampling, transforms) skip SQLite and decoding.
   * Keyed by report id; views derived from a series use keys that start with
   * the id, so that a delete can drop them all.
   */
  seriesCache?: ReportCache<Series>;
  /** Validates imports from providers; without it, import requests are refused. */
  importer?: Pick<Importer, "validate">;
  /** Cuts off request bodies that arrive too slowly (slow-loris); none without it. */
  bodyDeadline?: BodyDeadline;
  /** The disk's state: uploads get 507 while it is full (services/runtime/disk_space.ts). */
  space?: Pick<DiskSpace, "full" | "insufficient" | "noteError" | "afterDelete">;
  /** Clock, replaceable in tests. */
  now?: () => Date;
}

/** Where a report's data came from. */
export type ReportSource =
  | { kind: "upload"; format: UploadFormat; dialect?: SourceDialect }
  | (ImportSource & { kind: "provider"; cache: CacheOutcome | null });

/** A failed report's reason: a problem kind, its detail and field errors. */
export type ReportError = JobError;

/** A report as the domain sees it. */
export interface Report {
  id: string;
  name: string;
  status: ReportStatus;
  source: ReportSource;
  rows: RowCounts | null;
  summary: Summary | null;
  error: ReportError | null;
  /** ISO-8601 UTC. */
  createdAt: string;
  /** ISO-8601 UTC. */
  updatedAt: string;
  /** When the upload was stored and queued. */
  queuedAt: string | null;
  /** When a worker last started on it. */
  startedAt: string | null;
  /** When it became ready or failed. */
  finishedAt: string | null;
}

/** An upload to turn into a report. */
export interface UploadInput {
  /** The request body, read as it streams. */
  body: ReadableStream<Uint8Array> | null;
  /** How to parse it. */
  format: UploadFormat;
  /** A name from the query string; wins over a name in a JSON body. */
  name?: string;
  /** The Content-Length header, when sent (of the encoded body). */
  declaredBytes?: number;
  /** The Content-Encoding header; the size limits apply to the decoded bytes. */
  contentEncoding?: ContentEncoding;
  /** Validated parse options from the query (`?delimiter=` and the others). */
  parse?: ParseOptions;
  /** The Idempotency-Key header, when sent. */
  idempotencyKey?: string;
  /** The W3C `traceparent` of the request, linked from the job's span. */
  traceparent?: string;
  /** The principal id of the API key that sent it (none in open mode). */
  createdBy?: string;
}

/** What {@linkcode createReport} did. */
export interface CreateResult {
  /** The new report (queued) or, for a repeated Idempotency-Key, the earlier one. */
  report: Report;
  /** True when an Idempotency-Key matched an earlier request with the same body. */
  replayed: boolean;
}

/** Options for {@linkcode listReports}. */
export interface ListReportsOptions {
  /** Page size, 1..100. */
  limit: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string;
  /** Only reports in this state. */
  status?: ReportStatus;
}

/** One page of reports. */
export interface ReportPage {
  /** Newest first. */
  items: Report[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

/** Options of a series read: an inclusive time range and a point budget. */
export interface ReadSeriesOptions {
  /** Epoch milliseconds, inclusive. */
  from?: number;
  /** Epoch milliseconds, inclusive. */
  to?: number;
  /** Downsample each column to about this many points with LTTB (>= 3). */
  points?: number;
}

/** The name given to a report when neither the query nor the body names it. */
export const DEFAULT_REPORT_NAME = "Untitled report";

/**
 * Accepts an upload or an import request: checks capacity, streams the body
 * into storage (or validates the import), and queues a report for the
 * workers. Returns once the report and its job are committed, so "accepted"
 * means "will be processed, even after a crash".
 *
 * A JSON body whose top level has a `source` member is an import request
 * (small, so it is read and validated here); any other JSON is an upload.
 *
 * Throws `unavailable` (with a retry estimate) when shutting down, when the
 * queue is full or too many uploads are in flight; `payload_too_large`,
 * `malformed_body` or `invalid_input` for problems visible before parsing;
 * and `invalid_input` when an Idempotency-Key is reused with a different body.
 */
export async function createReport(
  context: ReportsContext,
  upload: UploadInput,
): Promise<CreateResult> {
  const { db, config } = context;
  if (context.isShuttingDown?.()) {
    await upload.body?.cancel();
    throw new AppError("unavailable", "The server is shutting down; retry shortly", {
      retryAfterSeconds: 5,
    });
  }
  if (context.space?.full() !== undefined) {
    // Refused before a byte of the body is stored: it could not be anyway.
    await upload.body?.cancel();
    throw context.space.insufficient();
  }
  if (await countQueuedJobs(db) >= config.queueMax) {
    await upload.body?.cancel();
    throw new AppError("unavailable", `The queue is full (${config.queueMax} jobs); retry later`, {
      retryAfterSeconds: await context.jobs.estimateDrainSeconds(),
    });
  }
  let nameInBody: string | undefined;
  let body = upload.body === null || context.bodyDeadline === undefined
    ? upload.body
    : withBodyDeadline(upload.body, context.bodyDeadline);
  // A body that ends early is the client's mistake: a 400 naming the cause.
  if (body !== null) body = withBodyEndCheck(body, { declaredBytes: upload.declaredBytes });
  if (body !== null && upload.contentEncoding !== undefined) {
    body = decodeContentEncoding(body, upload.contentEncoding);
  }
  if (upload.format === "json") {
    if (upload.declaredBytes !== undefined && upload.declaredBytes > config.maxBodyBytes) {
      await body?.cancel();
      throw new AppError("payload_too_large", `The body exceeds ${config.maxBodyBytes} bytes`);
    }
    const peeked = await peekBody(body, HEAD_BYTES);
    const request = peeked.complete ? readImportRequest(peeked.head) : undefined;
    if (request !== undefined) return await createImport(context, request, upload);
    body = peeked.body;
    // Shown from the start, not only once a worker has parsed the body.
    nameInBody = upload.name === undefined ? leadingJsonName(peeked.head) : undefined;
  }
  const release = context.uploads.tryAcquire();
  if (release === undefined) {
    await body?.cancel();
    throw new AppError("unavailable", "Too many uploads are being received; retry shortly", {
      retryAfterSeconds: 1,
    });
  }
  try {
    return await storeUpload(context, body, upload, { nameInBody, release });
  } catch (error) {
    // A full disk is a 507 with Retry-After, and it marks the disk full so
    // later uploads are refused before their bodies arrive.
    throw await context.space?.noteError(error) ?? error;
  }
}

/** Streams an upload into storage and queues its report; releases the upload slot when received. */
async function storeUpload(
  context: ReportsContext,
  body: ReadableStream<Uint8Array> | null,
  upload: UploadInput,
  options: { nameInBody?: string; release: () => void },
): Promise<CreateResult> {
  const { db, config } = context;
  const { nameInBody } = options;
  // A body larger than one chunk is processed by a worker while it arrives,
  // when one is idle (JobQueue.openTap); small ones are not worth a worker.
  let tap: UploadTap | undefined;
  let tapOpened = false;
  const expectedBytes =
    upload.contentEncoding === undefined || upload.contentEncoding === "identity"
      ? upload.declaredBytes
      : undefined;
  const openTap = () => {
    tapOpened = true;
    tap = context.jobs.openTap?.({ format: upload.format, parse: upload.parse, expectedBytes });
  };
  // With a Content-Length, at once: a worker started now is ready when the
  // first chunk is (starting it with that chunk kept the 1,000,000-row CSV's
  // first piece waiting 60 ms for the worker's modules to load).
  if (expectedBytes !== undefined && expectedBytes > CHUNK_BYTES) openTap();
  const onChunk = (chunk: Uint8Array) => {
    if (!tapOpened) openTap();
    tap?.write(chunk);
  };
  let received;
  try {
    received = await receiveUpload(db, body, {
      format: upload.format,
      parse: upload.parse,
      maxBytes: config.maxBodyBytes,
      maxPoints: config.maxPoints,
      declaredBytes: upload.declaredBytes,
      // Stored with the report and job rows: one commit for a small upload.
      deferLastChunk: true,
      onChunk,
    });
  } catch (error) {
    tap?.abort();
    throw error;
  } finally {
    options.release();
  }
  if (tap !== undefined) {
    if (received.lastChunk !== undefined) tap.write(received.lastChunk.data);
    tap.finish(received.uploadId);
  }
  try {
    const created = await queueUpload(context, upload, { received, nameInBody });
    if (created.replayed) tap?.abort();
    return created;
  } catch (error) {
    tap?.abort();
    throw error;
  }
}

/** Queues the report of a received upload. */
function queueUpload(
  context: ReportsContext,
  upload: UploadInput,
  options: { received: ReceivedUpload; nameInBody?: string },
): Promise<CreateResult> {
  const { received, nameInBody } = options;
  const now = timestamp(context);
  return queueReport(context, {
    createdBy: upload.createdBy,
    report: newReport({
      name: upload.name ?? nameInBody ?? DEFAULT_REPORT_NAME,
      source: { kind: "upload", format: upload.format },
      now,
    }),
    job: {
      uploadId: received.uploadId,
      lastChunk: received.lastChunk,
      format: upload.format,
      bytes: received.bytes,
      nameFromBody: upload.name === undefined && upload.format === "json",
      traceparent: upload.traceparent,
      parseOptions: upload.parse === undefined || Object.keys(upload.parse).length === 0
        ? undefined
        : { ...upload.parse },
    },
    idempotency: upload.idempotencyKey === undefined ? undefined : {
      key: upload.idempotencyKey,
      // The same bytes read with other options are another request.
      bodySha256: upload.parse === undefined || Object.keys(upload.parse).length === 0
        ? received.sha256
        : createHash("sha256").update(`${received.sha256} ${JSON.stringify(upload.parse)}`)
          .digest("hex"),
      createdAt: now,
    },
  });
}

/**
 * Queues an import from a provider: the report starts `queued` with a
 * `provider` source; the queue fetches the CSV (through the cache) and
 * processes it like an upload.
 */
async function createImport(
  context: ReportsContext,
  request: ImportRequest,
  upload: UploadInput,
): Promise<CreateResult> {
  if (context.importer === undefined) {
    throw new AppError("invalid_input", "This instance has no providers enabled", {
      errors: [{ path: "source", message: "Upload the series as CSV or JSON instead" }],
    });
  }
  context.importer.validate(request);
  const now = timestamp(context);
  const canonical = JSON.stringify(request);
  return await queueReport(context, {
    createdBy: upload.createdBy,
    report: newReport({
      name: upload.name ?? request.name ?? defaultImportName(request.source),
      source: { kind: "provider", ...request.source, cache: null },
      now,
    }),
    job: {
      uploadId: crypto.randomUUID(),
      format: "csv",
      bytes: 0,
      nameFromBody: false,
      traceparent: upload.traceparent,
      importSource: { ...request.source },
    },
    idempotency: upload.idempotencyKey === undefined ? undefined : {
      key: upload.idempotencyKey,
      bodySha256: createHash("sha256").update(canonical).digest("hex"),
      createdAt: now,
    },
  });
}

/**
 * Reads a small, complete JSON body: an import request when its top level has
 * `source` (validated here, 422 naming the fields), undefined for an upload.
 * Unparseable JSON is a 400 now: the body is small, so finding out is cheap.
 */
function readImportRequest(head: Uint8Array): ImportRequest | undefined {
  const text = new TextDecoder().decode(head);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError("malformed_body", "The body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || !("source" in value)) return undefined;
  const parsed = ImportRequestSchema.safeParse(value);
  if (!parsed.success) {
    throw new AppError("invalid_input", "The import request is invalid", {
      errors: parsed.error.issues.map((issue) => ({
        path: issue.path.map(String).join(".") || "body",
        message: issue.message,
      })),
    });
  }
  return parsed.data;
}

function newReport(init: { name: string; source: ReportSource; now: string }): Report {
  return {
    id: uuidv7(),
    name: init.name,
    status: "queued",
    source: init.source,
    rows: null,
    summary: null,
    error: null,
    createdAt: init.now,
    updatedAt: init.now,
    queuedAt: init.now,
    startedAt: null,
    finishedAt: null,
  };
}

async function queueReport(
  context: ReportsContext,
  entry: { report: Report; job: NewJob; idempotency?: IdempotencyRecord; createdBy?: string },
): Promise<CreateResult> {
  const { report, job, createdBy } = entry;
  // Idempotency keys are per caller: two API keys that happen to pick the
  // same Idempotency-Key must neither see each other's report nor collide.
  const idempotency = entry.idempotency === undefined || createdBy === undefined
    ? entry.idempotency
    : { ...entry.idempotency, key: `${createdBy} ${entry.idempotency.key}` };
  const result = await enqueueReport(context.db, toRecord(report), {
    job,
    idempotency,
    createdBy,
  });
  if (result.outcome === "key_reused") {
    throw new AppError(
      "invalid_input",
      "This Idempotency-Key was used with a different body; use a new key for a new upload",
      { errors: [{ path: "header.idempotency-key", message: "Reused with a different body" }] },
    );
  }
  if (result.outcome === "replayed") return { report: fromRecord(result.report), replayed: true };
  log.info("Job queued for report {report_id} ({bytes} bytes of {format})", {
    report_id: report.id,
    bytes: job.bytes,
    format: job.format,
    source: report.source.kind,
  });
  context.jobs.notify();
  return { report, replayed: false };
}

/**
 * Keeps the in-memory caches (finished reports, decoded series and their
 * views) true to the database when several instances share it: a report
 * deleted by any instance is dropped here as soon as the delete's
 * notification arrives (PostgreSQL NOTIFY: milliseconds), and everything is
 * dropped after the notification connection was lost and came back, since
 * deletes made meanwhile went unheard. The caches' age bound (60 s) covers
 * what neither catches. Returns a function that stops watching.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeDatabase, openDatabase } from "../../db/mod.ts";
 * import { ReportCache } from "./cache.ts";
 * import { type Report, watchDeletions } from "./mod.ts";
 * const db = await openDatabase(":memory:");
 * const cache = new ReportCache<Report>();
 * const stop = watchDeletions({ db, cache });
 * assert.equal(typeof stop, "function");
 * stop();
 * await closeDatabase(db);
 * ```
 */
export function watchDeletions(
  context: Pick<ReportsContext, "db" | "cache" | "seriesCache">,
): () => void {
  return listen(context.db, repo.REPORTS_CHANNEL, (id) => {
    if (id === undefined) {
      context.cache?.clear();
      context.seriesCache?.clear();
      return;
    }
    context.cache?.delete(id);
    // The series and every view derived from it, as deleteReport does.
    context.seriesCache?.deletePrefix(id);
  });
}

/** Returns the report with `id`; an unknown or malformed id is `not_found`. */
export async function getReport(context: ReportsContext, id: string): Promise<Report> {
  const cached = context.cache?.get(id);
  if (cached !== undefined) return cached;
  const record = isUuid(id) ? await repo.getReport(context.db, id) : undefined;
  if (record === undefined) throw notFound(id);
  const report = fromRecord(record);
  // Only finished reports are immutable; queued and processing ones change.
  if (report.status === "ready" || report.status === "failed") context.cache?.set(id, report);
  return report;
}

/** Returns one page of reports, newest first. */
export async function listReports(
  context: ReportsContext,
  options: ListReportsOptions,
): Promise<ReportPage> {
  const beforeId = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
  // Ask for one extra row to learn whether another page exists without a COUNT.
  const records = await repo.listReports(context.db, {
    limit: options.limit + 1,
    beforeId,
    status: options.status,
  });
  const items = records.slice(0, options.limit).map(fromRecord);
  const nextCursor = records.length > options.limit
    ? encodeCursor(items[items.length - 1].id)
    : null;
  return { items, nextCursor };
}

/**
 * Deletes the report with `id` and its series; `not_found` when there is none,
 * `forbidden` when `actor` (the caller's API key) neither created it nor is
 * an admin.
 */
export async function deleteReport(
  context: ReportsContext,
  id: string,
  options: { actor?: Principal } = {},
): Promise<void> {
  const { actor } = options;
  // With API keys, only the key that created the report, or an admin key, may
  // delete it; without (open mode, no actor) anyone may.
  if (actor !== undefined && !hasScope(actor, "admin") && isUuid(id)) {
    const owner = await repo.getReportOwner(context.db, id);
    if (owner === undefined) throw notFound(id);
    if (owner !== actor.id) {
      throw new AppError(
        "forbidden",
        "Only the API key that created this report, or an admin key, may delete it",
      );
    }
  }
  context.cache?.delete(id);
  // The series and every view derived from it (services/reports/series_view.ts).
  context.seriesCache?.deletePrefix(id);
  let deleted;
  try {
    deleted = isUuid(id) && await repo.deleteReport(context.db, id);
  } catch (error) {
    // On a full disk even a delete needs room (its WAL frames): noting the
    // error releases the reserve, and the delete is tried once more in it.
    if (await context.space?.noteError(error) === undefined) throw error;
    deleted = isUuid(id) && await repo.deleteReport(context.db, id);
  }
  if (!deleted) throw notFound(id);
  // Freed pages go back to the filesystem (and, after a full disk, the
  // reserve is written again, which lets uploads in).
  await context.space?.afterDelete(context.db);
}

/**
 * The whole cleaned series of a ready report, from the series cache when it
 * is there. Not ready yet is a `conflict`; failed is `invalid_input`. The
 * arrays may be shared with the cache: never mutate them.
 */
export async function loadReadySeries(context: ReportsContext, id: string): Promise<Series> {
  const report = await getReport(context, id);
  if (report.status === "failed") {
    throw new AppError("invalid_input", `Report ${id} failed: ${report.error?.detail ?? ""}`, {
      errors: report.error?.errors,
    });
  }
  if (report.status !== "ready") {
    throw new AppError("conflict", `Report ${id} is ${report.status}; its series is not ready`, {
      retryAfterSeconds: await context.jobs.estimateWaitSeconds(id),
    });
  }
  const cached = context.seriesCache?.get(id);
  if (cached !== undefined) return cached;
  const stored = await repo.getSeries(context.db, id);
  if (stored === undefined) throw notFound(id);
  context.seriesCache?.set(id, stored);
  return stored;
}

/** Bytes held by a series' arrays: the weight of a series cache entry. */
export function seriesBytes(series: Series): number {
  let bytes = series.timestamps.byteLength;
  for (const column of series.columns) bytes += column.byteLength;
  return bytes;
}

/**
 * Encodes a listing position as an opaque cursor. Clients must not build
 * cursors themselves: keeping the format private lets it change later.
 */
export function encodeCursor(lastId: string): string {
  return btoa(`v1:${lastId}`).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodeCursor(cursor: string): string {
  let text = "";
  try {
    text = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    // Fall through: an undecodable cursor is reported below like any other bad one.
  }
  const id = text.startsWith("v1:") ? text.slice(3) : "";
  if (!isUuid(id)) {
    throw new AppError("invalid_parameter", "The cursor is not one this server issued", {
      errors: [{ path: "query.cursor", message: "Use the next_cursor of a previous page" }],
    });
  }
  return id;
}

function notFound(id: string): AppError {
  return new AppError("not_found", `There is no report with id ${JSON.stringify(id)}`);
}

function timestamp(context: ReportsContext): string {
  return (context.now?.() ?? new Date()).toISOString();
}

function toRecord(report: Report): repo.ReportRecord {
  return {
    id: report.id,
    name: report.name,
    status: report.status,
    source: { ...report.source },
    rowCounts: report.rows === null ? null : { ...report.rows },
    summary: report.summary === null ? null : { ...report.summary },
    error: report.error === null ? null : { ...report.error },
    createdAt: report.createdAt,
    updatedAt: report.updatedAt,
    queuedAt: report.queuedAt,
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
  };
}

function fromRecord(record: repo.ReportRecord): Report {
  return {
    id: record.id,
    name: record.name,
    status: record.status,
    source: record.source as unknown as ReportSource,
    rows: record.rowCounts as unknown as RowCounts | null,
    summary: record.summary as unknown as Summary | null,
    error: record.error as unknown as ReportError | null,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    queuedAt: record.queuedAt,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
  };
}
