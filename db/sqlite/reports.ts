/**
 * SQLite: reports and series, the only SQL about them for this engine.
 *
 * @module
 */
import type {
  JsonObject,
  ListOptions,
  ReportRecord,
  ReportStatus,
  StoredSeries,
} from "../types.ts";
import { run, type SqliteConnection as Database, statement, transaction } from "./connection.ts";

/** A `reports` row as SQLite returns it. */
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

/**
 * Inserts a report and, when given, its series, in one transaction: a reader
 * never sees a ready report without its data.
 */
export function insertReport(
  db: Database,
  report: ReportRecord,
  options: { series?: StoredSeries } = {},
): Promise<void> {
  return run("store the report", () => {
    transaction(db, () => {
      insertReportRow(db, report);
      if (options.series) insertSeries(db, report.id, options.series);
    });
  });
}

/** Returns the report with this id, or undefined. Never loads the series. */
export function getReport(db: Database, id: string): Promise<ReportRecord | undefined> {
  return run("read the report", () => {
    const row = statement(db, `SELECT ${REPORT_COLUMNS} FROM reports WHERE id = ?`).get(id);
    return row === undefined ? undefined : fromRow(row as unknown as ReportRow);
  });
}

/**
 * Returns up to `limit` reports, newest first (ids are UUIDv7, so id order is
 * creation order). Keyset pagination on the primary key stays fast however
 * deep the client pages, unlike OFFSET.
 */
export function listReports(db: Database, options: ListOptions): Promise<ReportRecord[]> {
  return run("list reports", () => {
    const where: string[] = [];
    const params: string[] = [];
    if (options.status !== undefined) {
      where.push("status = ?");
      params.push(options.status);
    }
    if (options.beforeId !== undefined) {
      where.push("id < ?");
      params.push(options.beforeId);
    }
    const clause = where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`;
    const rows = statement(
      db,
      `SELECT ${REPORT_COLUMNS} FROM reports ${clause} ORDER BY id DESC LIMIT ?`,
    ).all(...params, Math.trunc(options.limit));
    return rows.map((row) => fromRow(row as unknown as ReportRow));
  });
}

/**
 * Returns who created the report (an API key principal id, or null when it
 * was created without keys), or undefined when there is no such report.
 */
export function getReportOwner(db: Database, id: string): Promise<string | null | undefined> {
  return run("read the report's owner", () => {
    const row = statement(db, "SELECT created_by FROM reports WHERE id = ?").get(id) as
      | { created_by: string | null }
      | undefined;
    return row?.created_by;
  });
}

/** Deletes a report and (by foreign-key cascade) its series. Returns whether it existed. */
export function deleteReport(db: Database, id: string): Promise<boolean> {
  return run("delete the report", () =>
    transaction(db, () => {
      // A raw upload is keyed by its upload id, not the report, so it goes first.
      statement(
        db,
        "DELETE FROM upload_chunks WHERE upload_id = (SELECT upload_id FROM jobs WHERE report_id = ?)",
      ).run(id);
      const result = statement(db, "DELETE FROM reports WHERE id = ?").run(id);
      return Number(result.changes) > 0;
    }));
}

/** Loads the stored series of a report, or undefined when it has none. */
export function getSeries(db: Database, id: string): Promise<StoredSeries | undefined> {
  return run("read the series", () => {
    const rows = statement(
      db,
      "SELECT position, name, data FROM series_columns WHERE report_id = ? ORDER BY position",
    ).all(id) as unknown as { position: number; name: string; data: Uint8Array }[];
    if (rows.length === 0) return undefined;
    const [timestamps, ...columns] = rows;
    return {
      timestamps: toFloat64Array(timestamps.data),
      names: columns.map((column) => column.name),
      columns: columns.map((column) => toFloat64Array(column.data)),
    };
  });
}

/**
 * Inserts one `reports` row. Synchronous and transaction-free: db/ modules call
 * it inside their own transactions.
 */
export function insertReportRow(db: Database, report: ReportRecord): void {
  statement(
    db,
    `INSERT INTO reports (${REPORT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
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
  );
}

/** Counts reports by status (all four keys present). */
export function countReportsByStatus(db: Database): Promise<Record<ReportStatus, number>> {
  return run("count reports", () => {
    const counts: Record<ReportStatus, number> = { queued: 0, processing: 0, ready: 0, failed: 0 };
    const rows = statement(db, "SELECT status, count(*) AS n FROM reports GROUP BY status").all();
    for (const row of rows as unknown as { status: ReportStatus; n: number }[]) {
      counts[row.status] = row.n;
    }
    return counts;
  });
}

/**
 * Writes a series' columns for a report. Synchronous and transaction-free on
 * purpose: callers in db/ run it inside their own transaction.
 */
export function insertSeries(db: Database, reportId: string, series: StoredSeries): void {
  const insert = statement(
    db,
    "INSERT INTO series_columns (report_id, position, name, data) VALUES (?, ?, ?, ?)",
  );
  insert.run(reportId, 0, "timestamp", toBytes(series.timestamps));
  series.columns.forEach((column, index) => {
    insert.run(reportId, index + 1, series.names[index], toBytes(column));
  });
}

/** Converts a `reports` row to a record (for db/ modules that select reports). */
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

function toJson(value: JsonObject | null): string | null {
  return value === null ? null : JSON.stringify(value);
}

function fromJson(text: string | null): JsonObject | null {
  return text === null ? null : JSON.parse(text);
}

// Float64Array bytes are stored in the platform's byte order. Every platform
// reportd is built for (x86_64, aarch64) is little-endian, so a database file
// moves between them unchanged.
function toBytes(values: Float64Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

function toFloat64Array(bytes: Uint8Array): Float64Array {
  // A Float64Array view needs an 8-byte aligned offset; copy only when the
  // driver hands back an unaligned slice.
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  return new Float64Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 8);
}
