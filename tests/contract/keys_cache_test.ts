import assert from "node:assert/strict";
import {
  type ApiKeyRecord,
  getApiKey,
  hasApiKeys,
  insertApiKey,
  listApiKeys,
  revokeApiKey,
} from "../../db/keys_repo.ts";
import { StorageError } from "../../db/mod.ts";
import { getCachedAnswer, putCachedAnswer } from "../../db/upstream_cache_repo.ts";
import { contractTest } from "../helpers/engines.ts";

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
