/**
 * The API keys repository: the only module with SQL about keys.
 *
 * Rows hold a key's public id, its name, scopes and a SHA-256 of the whole
 * key; never the key itself (services/api_keys.ts says why one SHA-256 is
 * enough). Records use their own types so that db/ imports nothing from
 * services/.
 *
 * @module
 */
import type { ApiKeyRecord } from "../types.ts";
import { run, type SqliteConnection as Database, statement } from "./connection.ts";

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
  return run("store the API key", () => {
    statement(db, `INSERT INTO api_keys (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`).run(
      key.id,
      key.name,
      key.keySha256,
      key.scopes.join("+"),
      key.createdAt,
      key.revokedAt,
    );
  });
}

/** Returns the key with this id, revoked or not, or undefined. */
export function getApiKey(db: Database, id: string): Promise<ApiKeyRecord | undefined> {
  return run("read the API key", () => {
    const row = statement(db, `SELECT ${COLUMNS} FROM api_keys WHERE id = ?`).get(id);
    return row === undefined ? undefined : fromRow(row as unknown as ApiKeyRow);
  });
}

/** Returns every key, oldest first, revoked ones included (they stay for audit). */
export function listApiKeys(db: Database): Promise<ApiKeyRecord[]> {
  return run(
    "list API keys",
    () =>
      statement(db, `SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`).all()
        .map((row) => fromRow(row as unknown as ApiKeyRow)),
  );
}

/** True when a key was ever created, revoked or not. */
export function hasApiKeys(db: Database): Promise<boolean> {
  return run(
    "look for API keys",
    () => statement(db, "SELECT 1 AS found FROM api_keys LIMIT 1").get() !== undefined,
  );
}

/**
 * Marks a key revoked at `now`. Returns false when there is no such key or it
 * was already revoked (the first revocation time is kept).
 */
export function revokeApiKey(db: Database, id: string, now: string): Promise<boolean> {
  return run("revoke the API key", () => {
    const result = statement(
      db,
      "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
    ).run(now, id);
    return Number(result.changes) > 0;
  });
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
