/**
 * The API keys repository: the only module with SQL about keys.
 *
 * Rows hold a key's public id, its name, scopes and a SHA-256 of the whole
 * key; never the key itself (services/security/api_keys.ts says why one SHA-256 is
 * enough). Records use their own types so that db/ imports nothing from
 * services/.
 *
 * @module
 */
import { API_KEY_COLUMNS, apiKeyFromRow, type ApiKeyRow, apiKeyValues } from "../rows.ts";
import { type ApiKeyRecord, KEYS_CACHED_MAX } from "../types.ts";
import { type KeysSeen, run, type SqliteConnection as Database, statement } from "./connection.ts";

/**
 * How long an answer about keys is trusted without reading the commit
 * counter again, in milliseconds; every change to keys returns only after
 * this long has passed since its commit ({@linkcode afterRecheck}), so a
 * change still holds from the first request after it returns, in any process.
 *
 * Why not read the counter per request: its `pread` was the largest single
 * item on the main thread of an open-mode read (12.7% of V8's samples,
 * about 8 us a read under load, issue 15's sixth session in
 * docs/benchmarks.md); at 20,000 reads a second, 1 ms shares one `pread`
 * among about 20 of them.
 */
export const KEYS_RECHECK_MS = 1;

/** Stores a new key. Fails (as a StorageError) when the id is taken. */
export async function insertApiKey(db: Database, key: ApiKeyRecord): Promise<void> {
  await run("store the API key", () => {
    statement(db, `INSERT INTO api_keys (${API_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(...apiKeyValues(key));
  });
  await afterRecheck(db);
}

/** Returns the key with this id, revoked or not, or undefined. */
export function getApiKey(db: Database, id: string): Promise<ApiKeyRecord | undefined> {
  return run("read the API key", () => keyById(db, id) ?? undefined);
}

/**
 * {@linkcode getApiKey} answered synchronously: the record, or null when no
 * key has this id; undefined when the read failed, so the caller asks
 * {@linkcode getApiKey}, which reports the error.
 */
export function knownApiKey(db: Database, id: string): ApiKeyRecord | null | undefined {
  try {
    const seen = stillSeen(db);
    const kept = seen?.records.get(id);
    if (kept !== undefined) return kept;
    const record = keyById(db, id);
    if (seen !== undefined && record !== null) {
      if (seen.records.size >= KEYS_CACHED_MAX) seen.records.clear();
      seen.records.set(id, record);
    }
    return record;
  } catch {
    return undefined;
  }
}

/**
 * What was read about keys, while nobody has committed since (the commit
 * counter, db/sqlite/commit_counter.ts); otherwise emptied and tied to the
 * counter as it is now. The counter is read before any query whose answer
 * is then kept, and again once {@linkcode KEYS_RECHECK_MS} have passed: a
 * commit changes it, and the command that committed returns only after that
 * time ({@linkcode afterRecheck}). That keeps a revocation by `keys revoke`
 * (another process) exact, as a query per request was: it holds from the
 * first request after the command returns. Undefined when the counter cannot
 * be read: ask.
 *
 * Cost: at most one `pread` a millisecond instead of a read transaction per
 * keyed or open-mode read (docs/benchmarks.md, issue 15, fifth and sixth
 * sessions).
 */
function stillSeen(db: Database): KeysSeen | undefined {
  const seen = db.keys;
  const now = performance.now();
  // Read less than KEYS_RECHECK_MS ago: any change committed since has not
  // returned yet (afterRecheck), so no request may rely on it yet.
  if (now - seen.checkedAt < KEYS_RECHECK_MS && seen.version !== undefined) return seen;
  const version = seen.counter?.read();
  if (version === undefined) return undefined;
  seen.checkedAt = now;
  if (version !== seen.version) {
    seen.version = version;
    seen.anyKey = undefined;
    seen.records.clear();
  }
  return seen;
}

function keyById(db: Database, id: string): ApiKeyRecord | null {
  const row = statement(db, `SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE id = ?`).get(id);
  return row === undefined ? null : apiKeyFromRow(row as unknown as ApiKeyRow);
}

/** Returns every key, oldest first, revoked ones included (they stay for audit). */
export function listApiKeys(db: Database): Promise<ApiKeyRecord[]> {
  return run(
    "list API keys",
    () =>
      statement(db, `SELECT ${API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`).all()
        .map((row) => apiKeyFromRow(row as unknown as ApiKeyRow)),
  );
}

/** True when a key was ever created, revoked or not. */
export function hasApiKeys(db: Database): Promise<boolean> {
  return run("look for API keys", () => anyApiKey(db));
}

/**
 * {@linkcode hasApiKeys} answered synchronously (node:sqlite is synchronous);
 * undefined when the read failed, so the caller asks {@linkcode hasApiKeys},
 * which reports the error.
 */
export function knownApiKeys(db: Database): boolean | undefined {
  try {
    const seen = stillSeen(db);
    if (seen?.anyKey !== undefined) return seen.anyKey;
    const any = anyApiKey(db);
    if (seen !== undefined) seen.anyKey = any;
    return any;
  } catch {
    return undefined;
  }
}

function anyApiKey(db: Database): boolean {
  return statement(db, "SELECT 1 AS found FROM api_keys LIMIT 1").get() !== undefined;
}

/**
 * Marks a key revoked at `now`. Returns false when there is no such key or it
 * was already revoked (the first revocation time is kept).
 */
export async function revokeApiKey(db: Database, id: string, now: string): Promise<boolean> {
  const revoked = await run("revoke the API key", () => {
    const result = statement(
      db,
      "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
    ).run(now, id);
    return Number(result.changes) > 0;
  });
  await afterRecheck(db);
  return revoked;
}

/**
 * Returns once every answer about keys read before the change just
 * committed has expired, in this process and any other: those were read at
 * least {@linkcode KEYS_RECHECK_MS} ago. This connection forgets its own at
 * once. Timers may fire early by a fraction of a millisecond, hence the
 * check against the clock.
 */
async function afterRecheck(db: Database): Promise<void> {
  db.keys.version = undefined;
  const until = performance.now() + KEYS_RECHECK_MS;
  while (performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, KEYS_RECHECK_MS));
  }
}
