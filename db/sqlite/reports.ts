/**
 * SQLite: reports and series, the only SQL about them for this engine.
 *
 * @module
 */
import {
  fromRow,
  REPORT_COLUMNS,
  type ReportRow,
  reportValues,
  type SeriesColumnRow,
  seriesColumnRows,
  seriesFromRows,
} from "../rows.ts";
import type { ListOptions, ReportRecord, ReportStatus, StoredSeries } from "../types.ts";
import {
  noteWritten,
  run,
  type SqliteConnection as Database,
  statement,
  transaction,
} from "./connection.ts";

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
      "SELECT name, data FROM series_columns WHERE report_id = ? ORDER BY position",
    ).all(id) as unknown as SeriesColumnRow[];
    return seriesFromRows(rows);
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
  ).run(...reportValues(report));
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
  let bytes = 0;
  for (const row of seriesColumnRows(series)) {
    insert.run(reportId, row.position, row.name, row.data);
    bytes += row.data.byteLength;
  }
  noteWritten(db, bytes);
}
