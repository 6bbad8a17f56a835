/**
 * `main.ts vacuum` gives the space of deleted reports back, and converts an
 * older database file to incremental auto-vacuum so later deletes do so by
 * themselves (db/sqlite/space.ts).
 *
 * @module
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  checkIntegrity,
  closeDatabase,
  type Database,
  openDatabase,
  querySql,
  schemaVersion,
} from "../../db/mod.ts";
import { reclaimSpace } from "../../db/space.ts";
import { MIGRATIONS } from "../../db/sqlite/migrations/mod.ts";
import { makeDataDir, runCli } from "../helpers/server_process.ts";

/** The auto-vacuum mode: 0 none, 1 full, 2 incremental. */
async function autoVacuumMode(db: Database): Promise<number> {
  const [row] = await querySql(db, "PRAGMA auto_vacuum");
  return Number(row.auto_vacuum);
}

Deno.test("a new database gives freed pages back by itself (incremental auto-vacuum)", async () => {
  const dataDir = await makeDataDir();
  try {
    const db = await openDatabase(`${dataDir}/reportd.db`);
    assert.equal(await autoVacuumMode(db), 2);
    await closeDatabase(db);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("deletes give every freed page back, not one (reclaimSpace)", async () => {
  const dataDir = await makeDataDir();
  const path = `${dataDir}/reportd.db`;
  try {
    const db = await openDatabase(path);
    await closeDatabase(db);
    // 8 MB written and deleted beside the service's tables, in a file with
    // incremental auto-vacuum as every new one has.
    const raw = new DatabaseSync(path);
    raw.exec("CREATE TABLE filler (data BLOB)");
    for (let i = 0; i < 64; i++) raw.exec("INSERT INTO filler VALUES (randomblob(131072))");
    raw.exec("DELETE FROM filler");
    raw.close();
    const reopened = await openDatabase(path);
    try {
      const [free] = await querySql(reopened, "PRAGMA freelist_count");
      assert.ok(Number(free.freelist_count) > 2000, `${free.freelist_count} free pages`);
      const { before, after } = await reclaimSpace(reopened);
      const [left] = await querySql(reopened, "PRAGMA freelist_count");
      assert.equal(Number(left.freelist_count), 0);
      assert.ok(before - after > 8_000_000, `${before} -> ${after} bytes`);
    } finally {
      await closeDatabase(reopened);
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("e2e: main.ts vacuum shrinks an older file and converts it", async () => {
  const dataDir = await makeDataDir();
  const path = `${dataDir}/reportd.db`;
  try {
    // An older file: no auto-vacuum, the schema, then 8 MB written and deleted.
    const raw = new DatabaseSync(path);
    raw.exec("PRAGMA auto_vacuum = NONE");
    raw.exec("CREATE TABLE filler (data BLOB)");
    raw.close();
    await closeDatabase(await openDatabase(path));
    const db0 = await openDatabase(path);
    assert.equal(await autoVacuumMode(db0), 0, "An older file has no auto-vacuum");
    await closeDatabase(db0);
    const again = new DatabaseSync(path);
    for (let i = 0; i < 64; i++) again.exec("INSERT INTO filler VALUES (randomblob(131072))");
    again.exec("DELETE FROM filler");
    again.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    again.close();
    const before = (await Deno.stat(path)).size;
    assert.ok(before > 8_000_000, `The file holds the deleted pages (${before} bytes)`);

    const result = await runCli(["vacuum"], { env: { REPORTD_DB: path, LOG_FORMAT: "json" } });
    assert.equal(result.code, 0, result.stderr);
    const after = (await Deno.stat(path)).size;
    assert.ok(after < 1_000_000, `Vacuumed to ${after} bytes`);
    const db = await openDatabase(path);
    assert.equal(await autoVacuumMode(db), 2, "Converted to incremental auto-vacuum");
    assert.deepEqual(await checkIntegrity(db), ["ok"]);
    assert.equal(await schemaVersion(db), MIGRATIONS.at(-1)?.version, "The schema version is kept");
    await closeDatabase(db);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
