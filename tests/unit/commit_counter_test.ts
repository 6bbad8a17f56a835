/**
 * The SQLite commit counter (db/sqlite/commit_counter.ts) and the key
 * answers it lets db/sqlite/keys.ts keep: kept while nobody commits, asked
 * again after any commit, whichever connection or process made it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { CommitCounter } from "../../db/sqlite/commit_counter.ts";
import { closeSqlite, migrateSqlite, openSqlite } from "../../db/sqlite/connection.ts";
import {
  insertApiKey,
  KEYS_RECHECK_MS,
  knownApiKey,
  knownApiKeys,
  revokeApiKey,
} from "../../db/sqlite/keys.ts";
import type { ApiKeyRecord } from "../../db/types.ts";
import { makeDataDir } from "../helpers/server_process.ts";

const KEY: ApiKeyRecord = {
  id: "k1",
  name: "one",
  keySha256: "ab".repeat(32),
  scopes: ["read"],
  createdAt: "2026-12-01T00:00:00.000Z",
  revokedAt: null,
};

/** Counts the runs of every statement on `table` that the connection has prepared so far. */
function countRuns(statements: Map<string, StatementSync>, table: string): { runs: number } {
  const counted = { runs: 0 };
  for (const [sql, prepared] of statements) {
    if (!sql.includes(`FROM ${table}`)) continue;
    const get = prepared.get;
    prepared.get = function (this: StatementSync, ...args: unknown[]) {
      counted.runs++;
      return Reflect.apply(get, this, args);
    } as StatementSync["get"];
  }
  return counted;
}

Deno.test("The commit counter moves with every commit, of any connection, and not with reads", async () => {
  const dataDir = await makeDataDir();
  const path = `${dataDir}/counter.db`;
  const mine = new DatabaseSync(path);
  const other = new DatabaseSync(path);
  const counter = new CommitCounter(path);
  try {
    assert.equal(counter.read(), undefined, "No WAL index yet: cannot tell");
    mine.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (v INTEGER)");
    const first = counter.read();
    assert.equal(typeof first, "number");
    mine.prepare("SELECT * FROM t").all();
    assert.equal(counter.read(), first, "A read commits nothing");
    other.exec("INSERT INTO t VALUES (1)");
    const second = counter.read();
    assert.notEqual(second, first, "Another connection's commit");
    mine.exec("INSERT INTO t VALUES (2)");
    assert.notEqual(counter.read(), second, "Our own commit");
    counter.close();
    assert.equal(counter.read(), undefined, "Closed: cannot tell");
  } finally {
    counter.close();
    other.close();
    mine.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("The commit counter cannot tell from a header caught half-written or not initialized", async () => {
  const dataDir = await makeDataDir();
  const path = `${dataDir}/fake.db`;
  const counter = new CommitCounter(path);
  try {
    // A WAL index header as SQLite leaves it: two equal 48-byte copies,
    // "initialized" set, the counter at byte 8.
    const header = new Uint8Array(96);
    const view = new DataView(header.buffer);
    for (const copy of [0, 48]) {
      view.setUint32(copy + 8, 41, true);
      header[copy + 12] = 1;
    }
    await Deno.writeFile(`${path}-shm`, header);
    assert.equal(counter.read(), 41);
    // The committing connection writes the second copy, then the first: between the two.
    view.setUint32(48 + 8, 42, true);
    await Deno.writeFile(`${path}-shm`, header);
    assert.equal(counter.read(), undefined, "Copies differ: a commit half-way");
    view.setUint32(8, 42, true);
    await Deno.writeFile(`${path}-shm`, header);
    assert.equal(counter.read(), 42);
    header[12] = header[60] = 0;
    await Deno.writeFile(`${path}-shm`, header);
    assert.equal(counter.read(), undefined, "Not initialized");
    await Deno.writeFile(`${path}-shm`, header.subarray(0, 50));
    assert.equal(counter.read(), undefined, "Too short to hold the header");
  } finally {
    counter.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("SQLite keeps key answers until a commit, and a revocation elsewhere holds at once", async () => {
  const dataDir = await makeDataDir();
  const path = `${dataDir}/keys.db`;
  const db = await openSqlite(path);
  try {
    await migrateSqlite(db);
    assert.equal(knownApiKeys(db), false);
    await insertApiKey(db, KEY);
    assert.equal(knownApiKeys(db), true, "Our own insert committed: asked again");
    assert.deepEqual(knownApiKey(db, "k1"), KEY);
    assert.equal(knownApiKey(db, "made-up"), null);

    const keys = countRuns(db.statements, "api_keys");
    assert.deepEqual(knownApiKey(db, "k1"), KEY);
    assert.equal(knownApiKeys(db), true);
    assert.equal(keys.runs, 0, "Nobody committed: answered without a query");
    assert.equal(knownApiKey(db, "made-up"), null);
    assert.equal(keys.runs, 1, "A made-up id is asked every time, never kept");

    // `keys revoke` is another process; a second connection without the
    // process lock commits the same way, and returns once what was read
    // before it has expired (KEYS_RECHECK_MS).
    const other = await openSqlite(path, { exclusive: false });
    try {
      const started = performance.now();
      assert.equal(await revokeApiKey(other, "k1", "2026-12-01T01:00:00.000Z"), true);
      // A lower bound the code guarantees, not a timing to meet: without the
      // wait, an answer read just now could outlive the revocation.
      assert.ok(performance.now() - started >= KEYS_RECHECK_MS, "returned inside the window");
    } finally {
      closeSqlite(other);
    }
    assert.equal(knownApiKey(db, "k1")?.revokedAt, "2026-12-01T01:00:00.000Z");
    assert.equal(keys.runs, 2, "The commit elsewhere made it ask again");
  } finally {
    closeSqlite(db);
    await Deno.remove(dataDir, { recursive: true });
  }
});
