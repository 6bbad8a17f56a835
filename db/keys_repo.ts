/**
 * API keys, engine-neutral: what services call. Rows hold a key's public id,
 * its name, scopes and a SHA-256 of the whole key; never the key itself
 * (services/security/api_keys.ts says why one SHA-256 is enough).
 *
 * @module
 */
import type { Database } from "./mod.ts";
import type { ApiKeyRecord } from "./types.ts";

export type { ApiKeyRecord } from "./types.ts";

/** Stores a new key. Fails (as a StorageError) when the id is taken. */
export function insertApiKey(db: Database, key: ApiKeyRecord): Promise<void> {
  return db.repositories.insertApiKey(key);
}

/**
 * Returns the key with this id, revoked or not, or undefined, asking the
 * database. PostgreSQL also keeps the record for {@linkcode knownApiKey}
 * while its listener would hear the key's revocation from any process
 * (db/postgres/keys_watch.ts): a revocation is refused from the first
 * request after its announcement arrives.
 */
export function getApiKey(db: Database, id: string): Promise<ApiKeyRecord | undefined> {
  return db.repositories.getApiKey(id);
}

/** Returns every key, oldest first, revoked ones included (they stay for audit). */
export function listApiKeys(db: Database): Promise<ApiKeyRecord[]> {
  return db.repositories.listApiKeys();
}

/** True when a key was ever created, revoked or not. */
export function hasApiKeys(db: Database): Promise<boolean> {
  return db.repositories.hasApiKeys();
}

/**
 * Whether a key was ever created, when the engine can say so without waiting;
 * undefined when only {@linkcode hasApiKeys} can. SQLite reads its file
 * synchronously, so it always knows. PostgreSQL knows "no key" for up to a
 * second after {@linkcode hasApiKeys} last found none, while its listener
 * hears `keys create` from any process (db/postgres/keys_watch.ts).
 *
 * Why: on the read path, `await hasApiKeys()` per request was the largest
 * single cost of an open-mode read (a promise chain, and on PostgreSQL a
 * round trip): a shipped read on PostgreSQL went from 161 to 41 to 49 us of
 * server time (docs/benchmarks.md, issue 15). On SQLite it is still a
 * query, synchronous now (4.6 to 6.5 us: six `fcntl` locks).
 */
export function knownApiKeys(db: Database): boolean | undefined {
  return db.repositories.knownApiKeys();
}

/**
 * The key with this id when the engine can say so without waiting (null: no
 * such key); undefined when only {@linkcode getApiKey} can. SQLite reads its
 * file synchronously, so it always knows. PostgreSQL knows a key it read
 * within the last second, while its listener would hear the key's revocation
 * (db/postgres/keys_watch.ts); a key it never read, or any key after an
 * announcement, it does not.
 *
 * Why: a keyed read awaited its lookup through a promise chain, on
 * PostgreSQL a round trip; known at once, the fast lane answers it
 * synchronously like an open-mode read (docs/benchmarks.md, issue 15).
 */
export function knownApiKey(db: Database, id: string): ApiKeyRecord | null | undefined {
  return db.repositories.knownApiKey(id);
}

/**
 * Marks a key revoked at `now`. Returns false when there is no such key or it
 * was already revoked (the first revocation time is kept).
 */
export function revokeApiKey(db: Database, id: string, now: string): Promise<boolean> {
  return db.repositories.revokeApiKey(id, now);
}
