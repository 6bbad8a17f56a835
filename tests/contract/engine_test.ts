import assert from "node:assert/strict";
import {
  closeDatabase,
  listen,
  migrateDatabase,
  openDatabase,
  pingDatabase,
  querySql,
  schemaVersion,
  StorageError,
} from "../../db/mod.ts";
import { MIGRATIONS as POSTGRES } from "../../db/postgres/migrations/mod.ts";
import { MIGRATIONS as SQLITE } from "../../db/sqlite/migrations/mod.ts";
import { postgresSkipReason, testDatabase } from "../helpers/postgres.ts";

Deno.test("Both engines have the same migrations, numbered alike, each file listed", async () => {
  assert.deepEqual(
    POSTGRES.map(({ version, name }) => ({ version, name })),
    SQLITE.map(({ version, name }) => ({ version, name })),
  );
  for (const engine of ["sqlite", "postgres"]) {
    const files = [];
    const folder = new URL(`../../db/${engine}/migrations/`, import.meta.url);
    for await (const entry of Deno.readDir(folder)) {
      if (entry.name.endsWith(".sql")) files.push(entry.name.replace(/\.sql$/, ""));
    }
    assert.deepEqual(files.sort(), SQLITE.map((migration) => migration.name), engine);
  }
});

Deno.test({
  name: "Ten instances migrating one empty PostgreSQL database at once apply it exactly once",
  ignore: postgresSkipReason() !== undefined,
  async fn() {
    await using database = await testDatabase();
    const instances = await Promise.all(
      Array.from({ length: 10 }, () => openDatabase(database.url, { migrate: false })),
    );
    try {
      const results = await Promise.all(instances.map((db) => migrateDatabase(db)));
      const applied = results.flatMap((result) => result.applied);
      assert.deepEqual(applied, POSTGRES.map((migration) => migration.name));
      for (const db of instances) assert.equal(await schemaVersion(db), POSTGRES.at(-1)?.version);
    } finally {
      await Promise.all(instances.map((db) => closeDatabase(db)));
    }
  },
});

Deno.test({
  name: "The PostgreSQL listener comes back after its connection is killed, and says so",
  ignore: postgresSkipReason() !== undefined,
  async fn() {
    await using database = await testDatabase();
    const db = await openDatabase(database.url);
    try {
      const heard: (string | undefined)[] = [];
      let wake = Promise.withResolvers<void>();
      const stop = listen(db, "reportd_test", (payload) => {
        heard.push(payload);
        wake.resolve();
      });
      const notifyUntilHeard = async () => {
        while (true) {
          await querySql(db, "SELECT pg_notify('reportd_test', 'ping')");
          const timer = new Promise((resolve) => setTimeout(resolve, 50));
          if (await Promise.race([wake.promise.then(() => true), timer.then(() => false)])) break;
        }
      };
      await notifyUntilHeard();
      heard.length = 0;
      wake = Promise.withResolvers<void>();
      await querySql(
        db,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity " +
          "WHERE application_name = 'reportd-listen' AND datname = current_database()",
      );
      await wake.promise;
      assert.equal(heard[0], undefined, "Listeners learn that messages may have been missed");
      wake = Promise.withResolvers<void>();
      await notifyUntilHeard();
      assert.ok(heard.includes("ping"), "Notifications arrive again");
      stop();
    } finally {
      await closeDatabase(db);
    }
  },
});

Deno.test({
  name: "sslmode in the URL is honoured: require refuses a server without TLS, disable connects",
  ignore: postgresSkipReason() !== undefined,
  async fn() {
    await using database = await testDatabase();
    const url = new URL(database.url);
    // The test servers (a private cluster, the CI service) run without TLS.
    url.searchParams.set("sslmode", "require");
    const strict = await openDatabase(url.toString(), { migrate: false });
    try {
      const refused = await pingDatabase(strict).then(() => undefined, (error) => error);
      assert.ok(refused instanceof StorageError, "sslmode=require must not fall back to plain TCP");
      assert.match(String(refused.cause), /SSL|TLS/i);
    } finally {
      await closeDatabase(strict);
    }
    url.searchParams.set("sslmode", "disable");
    const plain = await openDatabase(url.toString(), { migrate: false });
    try {
      await pingDatabase(plain);
    } finally {
      await closeDatabase(plain);
    }
  },
});

Deno.test({
  name: "PostgreSQL stores upload chunks uncompressed and series columns with lz4 (migration 0008)",
  ignore: postgresSkipReason() !== undefined,
  async fn() {
    await using database = await testDatabase();
    const db = await openDatabase(database.url);
    try {
      const columns = await querySql(
        db,
        "SELECT attrelid::regclass::text AS tab, attstorage AS storage, " +
          "attcompression::text AS compression FROM pg_attribute " +
          "WHERE attrelid IN ('upload_chunks'::regclass, 'series_columns'::regclass) " +
          "AND attname = 'data' ORDER BY 1",
      );
      // Storage 'e' is EXTERNAL (out of line, never compressed), 'x' EXTENDED
      // (the bytea default: compressed, then out of line); compression 'l' is
      // lz4. Every server the tests run on (Debian's, the CI's) has lz4.
      assert.deepEqual(columns, [
        { tab: "series_columns", storage: "x", compression: "l" },
        { tab: "upload_chunks", storage: "e", compression: "" },
      ]);
    } finally {
      await closeDatabase(db);
    }
  },
});
