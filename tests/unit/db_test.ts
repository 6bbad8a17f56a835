// SQLite only: the file, its pragmas and its process lock. What both engines
// must do alike is in tests/contract/.
import assert from "node:assert/strict";
import {
  closeDatabase,
  DatabaseBusyError,
  migrateDatabase,
  openDatabase,
  querySql,
  schemaVersion,
  StorageError,
} from "../../db/mod.ts";
import { MIGRATIONS } from "../../db/sqlite/migrations/mod.ts";
import { getReport, insertReport } from "../../db/reports_repo.ts";
import { appendUploadChunk, enqueueReport } from "../../db/jobs_repo.ts";
import { record } from "../helpers/engines.ts";

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

Deno.test("A second open of the same file is refused with a line naming the holder", async () => {
  await using temp = await tempDatabase();
  const path = `${temp.dir}/nested/reportd.db`;
  const refused = await openDatabase(path).then(
    () => assert.fail("The second open succeeded"),
    (error) => error,
  );
  assert.ok(refused instanceof DatabaseBusyError);
  assert.match(refused.message, new RegExp(`in use by reportd pid ${Deno.pid} \\(started `));
  assert.doesNotMatch(refused.message, /\n/, "One line");
  // Opening without the lock (as `keys` does beside a running server) works.
  const shared = await openDatabase(path, { exclusive: false });
  assert.equal(shared.exclusive, false);
  await closeDatabase(shared);
});

Deno.test("Opening beside a writer waits for its lock instead of failing at once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "reportd-db-test-" });
  const path = `${dir}/reportd.db`;
  await closeDatabase(await openDatabase(path));
  const holder = new Worker(
    new URL("../fixtures/workers/write_lock_holder.ts", import.meta.url),
    { type: "module" },
  );
  const messages: string[] = [];
  const released = Promise.withResolvers<void>();
  const held = Promise.withResolvers<void>();
  holder.onmessage = (event) => {
    messages.push(event.data);
    if (event.data === "held") held.resolve();
    if (event.data === "released") released.resolve();
  };
  try {
    holder.postMessage({ path, holdMs: 200 });
    await held.promise;
    // As `keys revoke` beside a server that is committing: every pragma of
    // the open waits up to the busy timeout, so this succeeds once the
    // holder commits. With the timeout set after them, it threw at once.
    const shared = await openDatabase(path, { exclusive: false });
    await closeDatabase(shared);
    await released.promise;
    assert.deepEqual(messages, ["held", "released"]);
  } finally {
    holder.terminate();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Closing releases the process lock", async () => {
  const dir = await Deno.makeTempDir({ prefix: "reportd-db-test-" });
  try {
    const first = await openDatabase(`${dir}/reportd.db`);
    assert.equal(first.exclusive, true);
    await closeDatabase(first);
    const second = await openDatabase(`${dir}/reportd.db`);
    await closeDatabase(second);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Commits in the WAL so far: frames whose header carries the database size
 * (only a transaction's last frame does), of the WAL's current generation
 * (its salts). Each of them was one fsync under synchronous=FULL.
 */
async function walCommits(path: string): Promise<number> {
  const wal = await Deno.readFile(`${path}-wal`);
  const view = new DataView(wal.buffer, wal.byteOffset, wal.byteLength);
  const pageSize = view.getUint32(8);
  const salts = [view.getUint32(16), view.getUint32(20)];
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= wal.byteLength; at += 24 + pageSize) {
    if (view.getUint32(at + 8) !== salts[0] || view.getUint32(at + 12) !== salts[1]) break;
    if (view.getUint32(at + 4) !== 0) commits++;
  }
  return commits;
}

function enqueueSmall(db: Awaited<ReturnType<typeof tempDatabase>>["db"], n: number) {
  const id = `0190f5b8-0000-7000-9000-${String(n).padStart(12, "0")}`;
  return enqueueReport(db, { ...record(id, "queued") }, {
    job: {
      uploadId: `upload-${n}`,
      lastChunk: { seq: 0, data: new TextEncoder().encode("t,v\n1,1\n") },
      format: "csv",
      bytes: 8,
      nameFromBody: false,
    },
  });
}

Deno.test("Concurrent uploads share one commit (group commit); chunks alone commit without one", async () => {
  await using temp = await tempDatabase();
  const path = `${temp.dir}/nested/reportd.db`;
  const before = await walCommits(path);
  // Awaited one by one: a commit each (this also shows the count sees commits).
  for (let n = 0; n < 3; n++) await enqueueSmall(temp.db, n);
  assert.equal(await walCommits(path) - before, 3);
  // 32 at once, as 32 clients' requests arrive while a commit blocks the
  // thread: one transaction, one fsync (before group commit: 32, plus one
  // more per upload for its chunk).
  const middle = await walCommits(path);
  const results = await Promise.all(
    Array.from({ length: 32 }, (_, i) => enqueueSmall(temp.db, 100 + i)),
  );
  assert.ok(results.every((result) => result.outcome === "created"));
  assert.equal(await walCommits(path) - middle, 1);
  const [row] = await querySql(temp.db, "SELECT count(*) AS n FROM jobs");
  assert.equal(Number(row.n), 35);
  // A chunk of a body still arriving is committed without an fsync of its own
  // (synchronous=NORMAL): the commit that acknowledges the upload syncs it.
  await appendUploadChunk(temp.db, "upload-big", { seq: 0, data: new Uint8Array(1024) });
  const [sync] = await querySql(temp.db, "PRAGMA synchronous");
  assert.equal(Number(sync.synchronous), 2, "FULL again after the relaxed commit");
});
