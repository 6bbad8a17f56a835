import assert from "node:assert/strict";
import { closeDatabase, migrateDatabase, openDatabase, schemaVersion } from "../../db/mod.ts";
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
