/**
 * PostgreSQL: API keys, the only SQL about them for this engine.
 * Mirrors db/sqlite/keys.ts.
 *
 * @module
 */
import type { ApiKeyRecord } from "../types.ts";
import { execute, type PostgresConnection as Database, rows, run } from "./connection.ts";

interface ApiKeyRow {
  id: string;
  name: string;
  key_sha256: string;
  scopes: string;
  created_at: string;
  revoked_at: string | null;
}

const COLUMNS = "id, name, key_sha256, scopes, created_at, revoked_at";

/** Stores a new key. Fails (as a StorageError) when the id is taken. */
export function insertApiKey(db: Database, key: ApiKeyRecord): Promise<void> {
  return run("store the API key", async () => {
    await execute(db, `INSERT INTO api_keys (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`, [
      key.id,
      key.name,
      key.keySha256,
      key.scopes.join("+"),
      key.createdAt,
      key.revokedAt,
    ]);
  });
}

/** Returns the key with this id, revoked or not, or undefined. */
export function getApiKey(db: Database, id: string): Promise<ApiKeyRecord | undefined> {
  return run("read the API key", async () => {
    const [row] = await rows<ApiKeyRow>(db, `SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
    return row === undefined ? undefined : fromRow(row);
  });
}

/** Returns every key, oldest first, revoked ones included. */
export function listApiKeys(db: Database): Promise<ApiKeyRecord[]> {
  return run(
    "list API keys",
    async () =>
      (await rows<ApiKeyRow>(db, `SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`))
        .map(fromRow),
  );
}

/** True when a key was ever created, revoked or not. */
export function hasApiKeys(db: Database): Promise<boolean> {
  return run(
    "look for API keys",
    async () => (await rows(db, "SELECT 1 AS found FROM api_keys LIMIT 1")).length > 0,
  );
}

/** Marks a key revoked at `now`; false when there is no such key or it was revoked already. */
export function revokeApiKey(db: Database, id: string, now: string): Promise<boolean> {
  return run("revoke the API key", async () =>
    await execute(
      db,
      "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
      [now, id],
    ) > 0);
}

function fromRow(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    keySha256: row.key_sha256,
    scopes: row.scopes.split("+"),
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}
