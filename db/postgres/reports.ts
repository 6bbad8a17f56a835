/**
 * PostgreSQL: reports and series, the only SQL about them for this engine.
 * Mirrors db/sqlite/reports.ts statement for statement.
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
import { REPORTS_CHANNEL } from "../types.ts";
import {
  type Client,
  execute,
  type PostgresConnection as Database,
  rows,
  run,
  transaction,
} from "./connection.ts";

/** Inserts a report and, when given, its series, in one transaction. */
export function insertReport(
  db: Database,
  report: ReportRecord,
  options: { series?: StoredSeries } = {},
): Promise<void> {
  return run("store the report", () =>
    transaction(db, async (client) => {
      await insertReportRow(client, report);
      if (options.series) await insertSeries(client, report.id, options.series);
    }));
}

/** Returns the report with this id, or undefined. Never loads the series. */
export function getReport(db: Database, id: string): Promise<ReportRecord | undefined> {
  return run("read the report", async () => {
    const [row] = await rows<ReportRow>(
      db,
      `SELECT ${REPORT_COLUMNS} FROM reports WHERE id = $1`,
      [id],
    );
    return row === undefined ? undefined : fromRow(row);
  });
}

/** Returns up to `limit` reports, newest first, by keyset pagination on the id. */
export function listReports(db: Database, options: ListOptions): Promise<ReportRecord[]> {
  return run("list reports", async () => {
    const where: string[] = [];
    const params: unknown[] = [];
    if (options.status !== undefined) {
      params.push(options.status);
      where.push(`status = $${params.length}`);
    }
    if (options.beforeId !== undefined) {
      params.push(options.beforeId);
      where.push(`id < $${params.length}`);
    }
    params.push(Math.trunc(options.limit));
    const clause = where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`;
    const found = await rows<ReportRow>(
      db,
      `SELECT ${REPORT_COLUMNS} FROM reports ${clause} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return found.map(fromRow);
  });
}

/** Returns who created the report, or undefined when there is no such report. */
export function getReportOwner(db: Database, id: string): Promise<string | null | undefined> {
  return run("read the report's owner", async () => {
    const [row] = await rows<{ created_by: string | null }>(
      db,
      "SELECT created_by FROM reports WHERE id = $1",
      [id],
    );
    return row?.created_by;
  });
}

/** Deletes a report and (by cascade) its series and job, and its raw upload. */
export function deleteReport(db: Database, id: string): Promise<boolean> {
  return run("delete the report", () =>
    transaction(db, async (client) => {
      await execute(
        client,
        "DELETE FROM upload_chunks WHERE upload_id = " +
          "(SELECT upload_id FROM jobs WHERE report_id = $1)",
        [id],
      );
      const deleted = await execute(client, "DELETE FROM reports WHERE id = $1", [id]) > 0;
      // Sent on commit, never for a rolled-back delete: every instance's
      // listener drops the report from its caches (services/reports/mod.ts).
      if (deleted) await execute(client, "SELECT pg_notify($1, $2)", [REPORTS_CHANNEL, id]);
      return deleted;
    }));
}

/** Loads the stored series of a report, or undefined when it has none. */
export function getSeries(db: Database, id: string): Promise<StoredSeries | undefined> {
  return run("read the series", async () => {
    const found = await rows<SeriesColumnRow>(
      db,
      "SELECT name, data FROM series_columns WHERE report_id = $1 ORDER BY position",
      [id],
    );
    return seriesFromRows(found);
  });
}

/** Counts reports by status (all four keys present). */
export function countReportsByStatus(db: Database): Promise<Record<ReportStatus, number>> {
  return run("count reports", async () => {
    const counts: Record<ReportStatus, number> = { queued: 0, processing: 0, ready: 0, failed: 0 };
    const found = await rows<{ status: ReportStatus; n: number }>(
      db,
      "SELECT status, count(*)::integer AS n FROM reports GROUP BY status",
    );
    for (const row of found) counts[row.status] = row.n;
    return counts;
  });
}

/** Inserts one `reports` row on `client` (inside the caller's transaction). */
export async function insertReportRow(client: Client, report: ReportRecord): Promise<void> {
  await execute(
    client,
    `INSERT INTO reports (${REPORT_COLUMNS}) ` +
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    reportValues(report),
  );
}

/**
 * Writes a series' columns on `client` (inside the caller's transaction), one
 * statement per column. Not one `unnest($3::bytea[])` statement: pg sends an
 * array parameter as a text literal, each `bytea` hex-encoded (twice the bytes
 * plus escaping), while a lone `Uint8Array` parameter goes in binary; with a
 * 1,000,000-point series (8 MB per column) one statement made the job about
 * three times slower end to end (bench/ingest.ts --database=postgres, 30.7 s
 * against 10.9 s on SQLite under the same load).
 */
export async function insertSeries(
  client: Client,
  reportId: string,
  series: StoredSeries,
): Promise<void> {
  for (const row of seriesColumnRows(series)) {
    await execute(
      client,
      "INSERT INTO series_columns (report_id, position, name, data) VALUES ($1, $2, $3, $4)",
      [reportId, row.position, row.name, row.data],
    );
  }
}
