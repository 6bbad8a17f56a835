import assert from "node:assert/strict";
import {
  type ApiKeyRecord,
  getApiKey,
  hasApiKeys,
  insertApiKey,
  knownApiKeys,
  listApiKeys,
  revokeApiKey,
} from "../../db/keys_repo.ts";
import {
  closeDatabase,
  type Database,
  listen,
  openDatabase,
  querySql,
  StorageError,
} from "../../db/mod.ts";
import { KEYS_CHANNEL } from "../../db/types.ts";
import { getCachedAnswer, putCachedAnswer } from "../../db/upstream_cache_repo.ts";
import { contractTest, ENGINES, freshDatabase } from "../helpers/engines.ts";
import { closePostgres, Listener, openPostgres } from "../../db/postgres/connection.ts";
import {
  getApiKey as postgresGetApiKey,
  hasApiKeys as postgresHasApiKeys,
  insertApiKey as postgresInsertApiKey,
  revokeApiKey as postgresRevokeApiKey,
} from "../../db/postgres/keys.ts";
import { KeysWatch } from "../../db/postgres/keys_watch.ts";
import { postgresSkipReason } from "../helpers/postgres.ts";

function key(id: string, createdAt: string): ApiKeyRecord {
  return {
    id,
    name: `key ${id}`,
    keySha256: "ab".repeat(32),
    scopes: ["read", "write"],
    createdAt,
    revokedAt: null,
  };
}

contractTest("API keys are stored, listed oldest first, and revoked once", async (db) => {
  assert.equal(await hasApiKeys(db), false);
  await insertApiKey(db, key("k2", "2020-01-02T00:00:00.000Z"));
  await insertApiKey(db, key("k1", "2020-01-01T00:00:00.000Z"));
  await assert.rejects(insertApiKey(db, key("k1", "2020-01-03T00:00:00.000Z")), StorageError);
  assert.equal(await hasApiKeys(db), true);
  assert.deepEqual((await listApiKeys(db)).map((entry) => entry.id), ["k1", "k2"]);
  assert.deepEqual(await getApiKey(db, "k2"), key("k2", "2020-01-02T00:00:00.000Z"));
  assert.equal(await revokeApiKey(db, "k1", "2020-02-01T00:00:00.000Z"), true);
  assert.equal(await revokeApiKey(db, "k1", "2020-03-01T00:00:00.000Z"), false);
  assert.equal(await revokeApiKey(db, "missing", "2020-03-01T00:00:00.000Z"), false);
  assert.equal((await getApiKey(db, "k1"))?.revokedAt, "2020-02-01T00:00:00.000Z");
  assert.equal(await getApiKey(db, "missing"), undefined);
});

for (const engine of ENGINES) {
  Deno.test({
    name: `A key created by another process ends "no key" at once, without a query [${engine}]`,
    ignore: engine === "postgres" && postgresSkipReason() !== undefined,
    async fn() {
      await using fresh = await freshDatabase(engine);
      const { db } = fresh;
      await learnNoKey(db);
      const newKey = key("other", "2020-01-01T00:00:00.000Z");
      await changeElsewhere(engine, fresh, {
        what: "the new key",
        apply: (other) => insertApiKey(other, newKey),
      });
      assert.notEqual(knownApiKeys(db), false, "a key exists: 'no key' must not be known");
      assert.equal(await hasApiKeys(db), true);
    },
  });
}

Deno.test({
  name: 'PostgreSQL forgets "no key" when its listener connection is lost [postgres]',
  ignore: postgresSkipReason() !== undefined,
  async fn() {
    await using fresh = await freshDatabase("postgres");
    const { db } = fresh;
    await learnNoKey(db);
    // Called with undefined once the listener is back: by then the engine
    // has heard that announcements may have been missed.
    const reconnected = nextMessage(db, (payload) => payload === undefined);
    await querySql(
      db,
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity " +
        "WHERE application_name = 'reportd-listen' AND datname = current_database()",
    );
    await Promise.race([reconnected, failAfter(10_000, "the listener never came back")]);
    assert.equal(knownApiKeys(db), undefined, "announcements may have been missed: ask again");
    assert.equal(await hasApiKeys(db), false);
  },
});

Deno.test({
  name: 'PostgreSQL asks again before "no key" runs out, in the background [postgres]',
  ignore: postgresSkipReason() !== undefined,
  async fn() {
    await using fresh = await freshDatabase("postgres");
    // The engine's own parts on the fresh database: its listener, a pool,
    // and the real query; only the clock is the test's.
    const listener = new Listener(fresh.url);
    const connection = openPostgres(fresh.url);
    try {
      let now = 0;
      let asked = 0;
      let answered = Promise.withResolvers<void>();
      const watch = new KeysWatch(listener, {
        hasKeys: async () => {
          asked++;
          const found = await postgresHasApiKeys(connection);
          answered.resolve();
          return found;
        },
        getKey: (id) => postgresGetApiKey(connection, id),
        now: () => now,
      });
      while (watch.known() === undefined) {
        assert.ok(asked < 500, "the watch never learned that no key exists");
        await watch.ask();
      }
      // Learned at clock 0: trusted until 1,000. Early on, no query.
      const before = asked;
      now = 500;
      assert.equal(watch.known(), false);
      assert.equal(asked, before, "half-way through, nothing is asked");
      // In the last quarter: still known, and asked again in the background.
      answered = Promise.withResolvers<void>();
      now = 800;
      assert.equal(watch.known(), false);
      assert.equal(watch.known(), false);
      assert.equal(asked, before + 1, "one refresh, however many reads");
      await answered.promise;
      // The refresh records the answer in microtasks queued when the query
      // settled; one turn of the event loop runs them all.
      await new Promise((resolve) => setTimeout(resolve, 0));
      // Refreshed at 800: known until 1,800, past the first second.
      now = 1_500;
      assert.equal(watch.known(), false);
      now = 10_000;
      assert.equal(watch.known(), undefined, "past the trust, only a query can say");
      // A key stored by someone else: a refresh that finds it forgets "no".
      now = 0;
      await watch.ask();
      assert.equal(watch.known(), false);
      await postgresInsertApiKey(connection, key("late", "2020-01-01T00:00:00.000Z"));
      assert.equal(await watch.ask(), true);
      assert.equal(watch.known(), undefined);
    } finally {
      await listener.close();
      await closePostgres(connection);
    }
  },
});

for (const engine of ENGINES) {
  Deno.test({
    name: `A key revoked by another process reads as revoked from then on [${engine}]`,
    ignore: engine === "postgres" && postgresSkipReason() !== undefined,
    async fn() {
      await using fresh = await freshDatabase(engine);
      const { db } = fresh;
      await insertApiKey(db, key("held", "2020-01-01T00:00:00.000Z"));
      // Read a few times: on PostgreSQL the record is kept once the LISTEN is in place.
      for (let turn = 0; turn < 5; turn++) {
        assert.equal((await getApiKey(db, "held"))?.revokedAt, null);
      }
      const revokedAt = "2020-02-01T00:00:00.000Z";
      await changeElsewhere(engine, fresh, {
        what: "the revocation",
        apply: async (other) => assert.equal(await revokeApiKey(other, "held", revokedAt), true),
      });
      assert.equal((await getApiKey(db, "held"))?.revokedAt, revokedAt);
    },
  });
}

Deno.test({
  name:
    "PostgreSQL keeps key records it may trust, bounded, until a revocation is heard [postgres]",
  ignore: postgresSkipReason() !== undefined,
  async fn() {
    await using fresh = await freshDatabase("postgres");
    const listener = new Listener(fresh.url);
    const connection = openPostgres(fresh.url);
    const other = openPostgres(fresh.url);
    try {
      let looked = 0;
      const watch = new KeysWatch(listener, {
        hasKeys: () => postgresHasApiKeys(connection),
        getKey: (id) => {
          looked++;
          return postgresGetApiKey(connection, id);
        },
        maxRecords: 2,
      });
      for (const id of ["a", "b", "c"]) {
        await postgresInsertApiKey(connection, key(id, "2020-01-01T00:00:00.000Z"));
      }
      // Kept only once the LISTEN was in place before the lookup began.
      for (let turn = 0; watch.record("a") === undefined; turn++) {
        assert.ok(turn < 500, "the watch never kept the record");
        await watch.lookup("a");
      }
      const before = looked;
      assert.equal(watch.record("a")?.id, "a");
      assert.equal(looked, before, "a kept record is answered without a lookup");
      // Bounded: two more records push the oldest out.
      await watch.lookup("b");
      await watch.lookup("c");
      assert.equal(watch.record("a"), undefined);
      assert.equal(watch.record("c")?.id, "c");
      // An id that matches no key is not kept, so made-up ids cost no memory.
      assert.equal(await watch.lookup("made-up"), undefined);
      assert.equal(watch.record("made-up"), undefined);
      // Revoked through another connection: the announcement forgets the record.
      const heard = new Promise<void>((resolve) => {
        const stop = listener.add(KEYS_CHANNEL, () => {
          stop();
          resolve();
        });
      });
      assert.equal(await postgresRevokeApiKey(other, "c", "2020-02-01T00:00:00.000Z"), true);
      await Promise.race([heard, failAfter(5_000, "the revocation was never announced")]);
      assert.equal(watch.record("c"), undefined, "a revocation was heard: ask again");
      assert.equal((await watch.lookup("c"))?.revokedAt, "2020-02-01T00:00:00.000Z");
    } finally {
      await listener.close();
      await closePostgres(connection);
      await closePostgres(other);
    }
  },
});

/**
 * Changes the keys as another process would, through the repository on a
 * handle of its own, and on PostgreSQL waits until `fresh.db` heard it
 * announced. SQLite: a second connection without the process lock, as
 * `keys create` and `keys revoke` open it (main.ts); the change returns only
 * once answers read before it have expired (db/sqlite/keys.ts,
 * `KEYS_RECHECK_MS`). PostgreSQL: another instance's handle, with its own
 * pool and listener; the notification reaches `fresh.db`'s listeners in the
 * order they subscribed, the engine's own first, so the test's turn comes
 * after it.
 */
async function changeElsewhere(
  engine: (typeof ENGINES)[number],
  fresh: { db: Database; url: string },
  change: { what: string; apply: (other: Database) => Promise<unknown> },
): Promise<void> {
  const announced = engine === "postgres" ? nextMessage(fresh.db, () => true) : undefined;
  const other = await openDatabase(fresh.url, { exclusive: false });
  try {
    await change.apply(other);
  } finally {
    await closeDatabase(other);
  }
  // A bound, not a sleep: a missing notification fails here.
  if (announced !== undefined) {
    await Promise.race([announced, failAfter(5_000, `${change.what} was never announced`)]);
  }
}

/**
 * Asks until the engine can say "no key" without waiting (PostgreSQL: once
 * its LISTEN is in place; SQLite at once). Each turn is a real query, not a
 * sleep.
 */
async function learnNoKey(db: Database): Promise<void> {
  for (let turn = 0; knownApiKeys(db) === undefined; turn++) {
    assert.ok(turn < 500, "knownApiKeys never learned that no key exists");
    assert.equal(await hasApiKeys(db), false);
  }
  assert.equal(knownApiKeys(db), false);
}

/** Resolves at the next message on {@linkcode KEYS_CHANNEL} that `accept` takes. */
function nextMessage(
  db: Database,
  accept: (payload: string | undefined) => boolean,
): Promise<void> {
  return new Promise((resolve) => {
    const stop = listen(db, KEYS_CHANNEL, (payload) => {
      if (!accept(payload)) return;
      stop();
      resolve();
    });
  });
}

function failAfter(ms: number, why: string): Promise<never> {
  return new Promise((_, reject) => {
    const timer = setTimeout(() => reject(new Error(why)), ms);
    Deno.unrefTimer(timer);
  });
}

contractTest(
  "The upstream cache stores, replaces and returns answers byte for byte",
  async (db) => {
    assert.equal(await getCachedAnswer(db, "stooq", "avgo.us"), undefined);
    const body = new Uint8Array([0, 1, 2, 255, 10, 13]);
    const entry = {
      key: "avgo.us",
      body,
      fetchedAt: "2020-01-01T00:00:00.000Z",
      expiresAt: "2020-01-02T00:00:00.000Z",
    };
    await putCachedAnswer(db, "stooq", entry);
    assert.deepEqual(await getCachedAnswer(db, "stooq", "avgo.us"), {
      body,
      fetchedAt: entry.fetchedAt,
      expiresAt: entry.expiresAt,
    });
    await putCachedAnswer(db, "stooq", { ...entry, body: new Uint8Array([7]) });
    assert.deepEqual((await getCachedAnswer(db, "stooq", "avgo.us"))?.body, new Uint8Array([7]));
    assert.equal(await getCachedAnswer(db, "url", "avgo.us"), undefined);
  },
);
