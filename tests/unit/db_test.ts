import assert from "node:assert/strict";
import {
  closeDatabase,
  migrateDatabase,
  openDatabase,
  querySql,
  schemaVersion,
  StorageError,
} from "../../db/mod.ts";
import { MIGRATIONS } from "../../db/sqlite/migrations/mod.ts";
import {
  deleteReport,
  getReport,
  getSeries,
  insertReport,
  listReports,
  type ReportRecord,
} from "../../db/reports_repo.ts";

function record(id: string, status: ReportRecord["status"] = "ready"): ReportRecord {
  return {
    id,
    name: `report ${id}`,
    status,
    source: { kind: "upload", format: "csv" },
    rowCounts: { received: 1 },
    summary: { points: 1 },
    error: null,
    createdAt: "2020-01-01T00:00:00.000Z",
    updatedAt: "2020-01-01T00:00:00.000Z",
    queuedAt: "2020-01-01T00:00:00.000Z",
    startedAt: "2020-01-01T00:00:00.000Z",
    finishedAt: "2020-01-01T00:00:00.000Z",
  };
}

async function tempDatabase() {
  const dir = await Deno.makeTempDir({ prefix: "reportd-db-test-" });
  const db = await openDatabase(`${dir}/nested/reportd.db`);
  return {
    db,
    dir,
    async [Symbol.asyncDispose]() {
      await closeDatabase(db);
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("Every .sql file in db/sqlite/migrations is listed in order", async () => {
  const files = [];
  for await (const entry of Deno.readDir(new URL("../../db/sqlite/migrations/", import.meta.url))) {
    if (entry.name.endsWith(".sql")) files.push(entry.name.replace(/\.sql$/, ""));
  }
  files.sort();
  assert.deepEqual(MIGRATIONS.map((migration) => migration.name), files);
  // The version is the file's number, and numbers only grow.
  MIGRATIONS.forEach((migration, index) => {
    assert.equal(migration.version, Number(migration.name.slice(0, 4)));
    if (index > 0) assert.ok(migration.version > MIGRATIONS[index - 1].version);
  });
});

Deno.test("openDatabase creates the directory, uses WAL and migrates once", async () => {
  await using temp = await tempDatabase();
  assert.equal(await schemaVersion(temp.db), MIGRATIONS.at(-1)?.version);
  const [mode] = await querySql(temp.db, "PRAGMA journal_mode") as { journal_mode: string }[];
  assert.equal(mode.journal_mode, "wal");
  const [keys] = await querySql(temp.db, "PRAGMA foreign_keys") as { foreign_keys: number }[];
  assert.equal(keys.foreign_keys, 1);
  const again = await migrateDatabase(temp.db);
  assert.deepEqual(again.applied, []);
});

Deno.test("A failing migration rolls back and leaves the version unchanged", async () => {
  await using temp = await tempDatabase();
  const before = await schemaVersion(temp.db);
  await assert.rejects(
    migrateDatabase(temp.db, {
      migrations: [...MIGRATIONS, {
        version: before + 1,
        name: "broken",
        sql: "CREATE TABLE x (a); SELECT * FROM missing_table;",
      }],
    }),
    StorageError,
  );
  assert.equal(await schemaVersion(temp.db), before);
  const tables = await querySql(temp.db, "SELECT name FROM sqlite_master WHERE name = 'x'");
  assert.equal(tables.length, 0);
});

Deno.test("A series round-trips through BLOBs bit for bit, NaN included", async () => {
  await using temp = await tempDatabase();
  const series = {
    timestamps: new Float64Array([1, 2, 3]),
    names: ["a", "b"],
    columns: [new Float64Array([0.1, NaN, -0]), new Float64Array([1e300, 5e-324, 7])],
  };
  await insertReport(temp.db, record("0190f5b8-0000-7000-8000-000000000001"), { series });
  const loaded = await getSeries(temp.db, "0190f5b8-0000-7000-8000-000000000001");
  assert.deepEqual(loaded, series);
  assert.ok(Object.is(loaded?.columns[0][2], -0));
});

Deno.test("listReports pages newest first by id and filters by status", async () => {
  await using temp = await tempDatabase();
  const ids = ["0190f5b8-0000-7000-8000-00000000000a", "0190f5b8-0000-7000-8000-00000000000b"];
  await insertReport(temp.db, record(ids[0], "failed"));
  await insertReport(temp.db, record(ids[1]));
  const all = await listReports(temp.db, { limit: 10 });
  assert.deepEqual(all.map((row) => row.id), [ids[1], ids[0]]);
  const older = await listReports(temp.db, { limit: 10, beforeId: ids[1] });
  assert.deepEqual(older.map((row) => row.id), [ids[0]]);
  const failed = await listReports(temp.db, { limit: 10, status: "failed" });
  assert.deepEqual(failed.map((row) => row.id), [ids[0]]);
});

Deno.test("deleteReport cascades to the series and reports whether it existed", async () => {
  await using temp = await tempDatabase();
  const id = "0190f5b8-0000-7000-8000-000000000002";
  await insertReport(temp.db, record(id), {
    series: { timestamps: new Float64Array([1]), names: ["v"], columns: [new Float64Array([1])] },
  });
  assert.equal(await deleteReport(temp.db, id), true);
  assert.equal(await getReport(temp.db, id), undefined);
  assert.equal(await getSeries(temp.db, id), undefined);
  assert.equal(await deleteReport(temp.db, id), false);
  const [orphans] = await querySql(temp.db, "SELECT count(*) AS n FROM series_columns");
  assert.equal((orphans as { n: number }).n, 0);
});

Deno.test("A duplicate id fails the whole insert as a StorageError", async () => {
  await using temp = await tempDatabase();
  const id = "0190f5b8-0000-7000-8000-000000000003";
  await insertReport(temp.db, record(id));
  await assert.rejects(insertReport(temp.db, record(id)), StorageError);
});

Deno.test("Closing checkpoints the WAL and is idempotent", async () => {
  const dir = await Deno.makeTempDir({ prefix: "reportd-db-test-" });
  try {
    const db = await openDatabase(`${dir}/reportd.db`);
    await insertReport(db, record("0190f5b8-0000-7000-8000-000000000004"));
    await closeDatabase(db);
    await closeDatabase(db);
    const wal = await Deno.stat(`${dir}/reportd.db-wal`).catch(() => undefined);
    assert.ok(wal === undefined || wal.size === 0, "The WAL is empty after a clean close");
    const reopened = await openDatabase(`${dir}/reportd.db`);
    assert.ok(await getReport(reopened, "0190f5b8-0000-7000-8000-000000000004"));
    const [check] = await querySql(reopened, "PRAGMA integrity_check") as {
      integrity_check: string;
    }[];
    assert.equal(check.integrity_check, "ok");
    await closeDatabase(reopened);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openDatabase reports an unusable path as a StorageError", async () => {
  const dir = await Deno.makeTempDir({ prefix: "reportd-db-test-" });
  try {
    // A directory where the database file should be cannot be opened as one.
    await Deno.mkdir(`${dir}/taken.db`);
    await assert.rejects(openDatabase(`${dir}/taken.db`), StorageError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
