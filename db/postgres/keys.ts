/**
 * PostgreSQL: API keys, the only SQL about them for this engine.
 * Mirrors db/sqlite/keys.ts.
 *
 * @module
 */
import { API_KEY_COLUMNS, apiKeyFromRow, type ApiKeyRow, apiKeyValues } from "../rows.ts";
import { type ApiKeyRecord, KEYS_CHANNEL } from "../types.ts";
import { execute, type PostgresConnection as Database, rows, run } from "./connection.ts";

/**
 * Stores a new key and announces it on {@linkcode KEYS_CHANNEL} when the
 * statement commits (so every instance's `KeysWatch` hears it: keys_watch.ts).
 * Fails (as a StorageError) when the id is taken.
 */
export function insertApiKey(db: Database, key: ApiKeyRecord): Promise<void> {
  return run("store the API key", async () => {
    await execute(
      db,
      `WITH inserted AS (
         INSERT INTO api_keys (${API_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
       )
       SELECT pg_notify($7, id) FROM inserted`,
      [...apiKeyValues(key), KEYS_CHANNEL],
    );
  });
}

/** Returns the key with this id, revoked or not, or undefined. */
export function getApiKey(db: Database, id: string): Promise<ApiKeyRecord | undefined> {
  return run("read the API key", async () => {
    const [row] = await rows<ApiKeyRow>(
      db,
      `SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE id = $1`,
      [id],
    );
    return row === undefined ? undefined : apiKeyFromRow(row);
  });
}

/** Returns every key, oldest first, revoked ones included. */
export function listApiKeys(db: Database): Promise<ApiKeyRecord[]> {
  return run(
    "list API keys",
    async () =>
      (await rows<ApiKeyRow>(db, `SELECT ${API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`))
        .map(apiKeyFromRow),
  );
}

/** True when a key was ever created, revoked or not. */
export function hasApiKeys(db: Database): Promise<boolean> {
  return run(
    "look for API keys",
    async () => (await rows(db, "SELECT 1 AS found FROM api_keys LIMIT 1")).length > 0,
  );
}

/**
 * Marks a key revoked at `now`; false when there is no such key or it was
 * revoked already. Announced on {@linkcode KEYS_CHANNEL} when it commits, so
 * every instance forgets the key's record it kept (keys_watch.ts).
 */
export function revokeApiKey(db: Database, id: string, now: string): Promise<boolean> {
  return run("revoke the API key", async () =>
    await execute(
      db,
      `WITH revoked AS (
         UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING id
       )
       SELECT pg_notify($3, id) FROM revoked`,
      [now, id, KEYS_CHANNEL],
    ) > 0);
}
