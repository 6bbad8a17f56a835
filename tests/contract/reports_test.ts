import assert from "node:assert/strict";
import { listen, migrateDatabase, querySql, schemaVersion, StorageError } from "../../db/mod.ts";
import {
  countReportsByStatus,
  deleteReport,
  getReport,
  getReportOwner,
  getSeries,
  insertReport,
  listReports,
  REPORTS_CHANNEL,
} from "../../db/reports_repo.ts";
import { contractTest, record } from "../helpers/engines.ts";

contractTest("A report round-trips with every field", async (db) => {
  const report = {
    ...record("0190f5b8-0000-7000-8000-000000000009"),
    name: "\u00dcn\u00efcode \u2713",
  };
  await insertReport(db, report);
  assert.deepEqual(await getReport(db, report.id), report);
  assert.equal(await getReport(db, "0190f5b8-0000-7000-8000-00000000ffff"), undefined);
  assert.equal(await getReportOwner(db, report.id), null);
  assert.equal(await getReportOwner(db, "0190f5b8-0000-7000-8000-00000000ffff"), undefined);
});

contractTest("A series round-trips through BLOBs bit for bit, NaN included", async (db) => {
  const series = {
    timestamps: new Float64Array([1, 2, 3]),
    names: ["a", "b"],
    columns: [new Float64Array([0.1, NaN, -0]), new Float64Array([1e300, 5e-324, 7])],
  };
  await insertReport(db, record("0190f5b8-0000-7000-8000-000000000001"), { series });
  const loaded = await getSeries(db, "0190f5b8-0000-7000-8000-000000000001");
  assert.deepEqual(loaded, series);
  assert.ok(Object.is(loaded?.columns[0][2], -0));
});

contractTest("listReports pages newest first by id and filters by status", async (db) => {
  const ids = ["0190f5b8-0000-7000-8000-00000000000a", "0190f5b8-0000-7000-8000-00000000000b"];
  await insertReport(db, record(ids[0], "failed"));
  await insertReport(db, record(ids[1]));
  const all = await listReports(db, { limit: 10 });
  assert.deepEqual(all.map((row) => row.id), [ids[1], ids[0]]);
  const older = await listReports(db, { limit: 10, beforeId: ids[1] });
  assert.deepEqual(older.map((row) => row.id), [ids[0]]);
  const failed = await listReports(db, { limit: 10, status: "failed" });
  assert.deepEqual(failed.map((row) => row.id), [ids[0]]);
  assert.deepEqual(await countReportsByStatus(db), {
    queued: 0,
    processing: 0,
    ready: 1,
    failed: 1,
  });
});

contractTest(
  "Ids sort byte by byte whatever the locale (UUIDv7 order is creation order)",
  async (db) => {
    // Hyphens and letters are where a linguistic collation would differ.
    const ids = [
      "0190f5b8-0000-7000-8000-00000000000a",
      "0190f5b8-0000-7000-8000-0000000000a0",
      "0190f5b8-000a-7000-8000-000000000000",
      "0190f5b9-0000-7000-8000-000000000000",
    ];
    for (const id of [...ids].reverse()) await insertReport(db, record(id));
    const listed = await listReports(db, { limit: 10 });
    assert.deepEqual(listed.map((row) => row.id), [...ids].reverse());
  },
);

contractTest("deleteReport cascades to the series and reports whether it existed", async (db) => {
  const id = "0190f5b8-0000-7000-8000-000000000002";
  await insertReport(db, record(id), {
    series: { timestamps: new Float64Array([1]), names: ["v"], columns: [new Float64Array([1])] },
  });
  assert.equal(await deleteReport(db, id), true);
  assert.equal(await getReport(db, id), undefined);
  assert.equal(await getSeries(db, id), undefined);
  assert.equal(await deleteReport(db, id), false);
  const [orphans] = await querySql(db, "SELECT count(*) AS n FROM series_columns");
  assert.equal(orphans.n, 0);
});

contractTest("A duplicate id fails the whole insert as a StorageError", async (db) => {
  const id = "0190f5b8-0000-7000-8000-000000000003";
  await insertReport(db, record(id));
  await assert.rejects(insertReport(db, record(id)), StorageError);
});

contractTest("A failing migration rolls back and leaves the version unchanged", async (db) => {
  const before = await schemaVersion(db);
  await assert.rejects(
    migrateDatabase(db, {
      migrations: [{
        version: before + 1,
        name: "broken",
        sql: "CREATE TABLE x (a integer); SELECT * FROM missing_table;",
      }],
    }),
    StorageError,
  );
  assert.equal(await schemaVersion(db), before);
  await assert.rejects(querySql(db, "SELECT * FROM x"), StorageError, "Table x was rolled back");
  assert.deepEqual((await migrateDatabase(db)).applied, [], "Migrating again applies nothing");
});

contractTest("A deleted report is announced on the reports channel, once committed", async (db) => {
  const heard = Promise.withResolvers<string>();
  const stop = listen(db, REPORTS_CHANNEL, (payload) => {
    if (payload !== undefined) heard.resolve(payload);
  });
  try {
    // A delete of nothing announces nothing: only the real delete below is heard.
    assert.equal(await deleteReport(db, "0190f5b8-0000-7000-8000-00000000dead"), false);
    // PostgreSQL's listener connects on the first listen: delete a fresh
    // report every 100 ms until one is heard (its id says which).
    const ids: string[] = [];
    const timer = setInterval(async () => {
      const id = `0190f5b8-0000-7000-8000-${String(ids.length).padStart(12, "0")}`;
      ids.push(id);
      await insertReport(db, record(id));
      await deleteReport(db, id);
    }, 100);
    const payload = await heard.promise;
    clearInterval(timer);
    assert.ok(ids.includes(payload), `${payload} is one of the deleted reports`);
  } finally {
    stop();
  }
});
