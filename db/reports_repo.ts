/**
 * Reports and series, engine-neutral: what services call. Each function
 * forwards to the engine the database was opened with (db/sqlite/reports.ts
 * or db/postgres/reports.ts, where the SQL is).
 *
 * @module
 */
import type { Database } from "./mod.ts";
import type { ListOptions, ReportRecord, ReportStatus, StoredSeries } from "./types.ts";

export type { JsonObject, ListOptions, ReportRecord, ReportStatus, StoredSeries } from "./types.ts";
export { REPORTS_CHANNEL } from "./types.ts";

/**
 * Inserts a report and, when given, its series, in one transaction: a reader
 * never sees a ready report without its data.
 */
export function insertReport(
  db: Database,
  report: ReportRecord,
  options: { series?: StoredSeries } = {},
): Promise<void> {
  return db.repositories.insertReport(report, options);
}

/** Returns the report with this id, or undefined. Never loads the series. */
export function getReport(db: Database, id: string): Promise<ReportRecord | undefined> {
  return db.repositories.getReport(id);
}

/**
 * Returns up to `limit` reports, newest first (ids are UUIDv7, so id order is
 * creation order). Keyset pagination on the primary key stays fast however
 * deep the client pages, unlike OFFSET.
 */
export function listReports(db: Database, options: ListOptions): Promise<ReportRecord[]> {
  return db.repositories.listReports(options);
}

/**
 * Returns who created the report (an API key principal id, or null when it
 * was created without keys), or undefined when there is no such report.
 */
export function getReportOwner(db: Database, id: string): Promise<string | null | undefined> {
  return db.repositories.getReportOwner(id);
}

/**
 * Deletes a report, its series, job and raw upload. Returns whether it
 * existed; when it did, {@linkcode REPORTS_CHANNEL} announces its id to every
 * process using the database once the delete is committed.
 */
export function deleteReport(db: Database, id: string): Promise<boolean> {
  return db.repositories.deleteReport(id);
}

/** Loads the stored series of a report, or undefined when it has none. */
export function getSeries(db: Database, id: string): Promise<StoredSeries | undefined> {
  return db.repositories.getSeries(id);
}

/** Counts reports by status (all four keys present). */
export function countReportsByStatus(db: Database): Promise<Record<ReportStatus, number>> {
  return db.repositories.countReportsByStatus();
}
