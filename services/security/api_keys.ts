/**
 * API keys: who a request comes from and what it may do.
 *
 * Keys come from two places. `REPORTD_API_KEYS` and the file named by
 * `REPORTD_API_KEYS_FILE` list `name:key:scopes` entries, for small setups and
 * tests; `reportd keys create` makes keys that live in the database. Either
 * way only a SHA-256 of each key is kept in memory or on disk, and a presented
 * key is compared with `timingSafeEqual`, so neither a database leak nor the
 * response time gives a key away.
 *
 * Scopes: `read` lists and reads reports, `write` creates them and deletes
 * the ones it created, `admin` does everything (including `/metrics` and
 * deleting any report). `read` and `write` are independent: a CI job that only
 * uploads needs no read access.
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import {
  getApiKey,
  hasApiKeys,
  insertApiKey,
  knownApiKey,
  knownApiKeys,
  listApiKeys,
  revokeApiKey,
} from "../../db/keys_repo.ts";
import type { Database } from "../../db/mod.ts";
import type { ApiKeyRecord } from "../../db/types.ts";

/** The scopes a key can have. */
export const SCOPES = ["read", "write", "admin"] as const;

/** One of {@linkcode SCOPES}. */
export type Scope = (typeof SCOPES)[number];

/** An authenticated caller: the key behind a request. */
export interface Principal {
  /** Stable id: the database key's id, or `config:<name>` for a configured key. */
  id: string;
  /** The key's name, for logs. */
  name: string;
  /** What it may do. */
  scopes: readonly Scope[];
}

/** A key from `REPORTD_API_KEYS` or `REPORTD_API_KEYS_FILE`, reduced to its hash. */
export interface ConfiguredKey {
  /** Unique among configured keys; the principal id is `config:<name>`. */
  name: string;
  /** Hex SHA-256 of the key. */
  sha256: string;
  /** What it may do. */
  scopes: Scope[];
}

/** A key made by {@linkcode createApiKey}; `key` is shown once and never stored. */
export interface CreatedKey {
  /** The public id (`keys list`, `keys revoke`). */
  id: string;
  /** The whole key, to hand to the client. */
  key: string;
  /** The key's name. */
  name: string;
  /** Its scopes. */
  scopes: Scope[];
  /** ISO-8601 UTC. */
  createdAt: string;
}

/** A stored key as `keys list` shows it (no hash). */
export interface KeySummary {
  /** The public id. */
  id: string;
  /** What it is for. */
  name: string;
  /** What it may do. */
  scopes: Scope[];
  /** ISO-8601 UTC. */
  createdAt: string;
  /** ISO-8601 UTC, or null while valid. */
  revokedAt: string | null;
}

// Configured keys are chosen by people, so a floor on their length keeps the
// "one SHA-256 is enough" argument true: 32 characters from this alphabet are
// at least 190 bits when random. The alphabet leaves out ":" and "," (the
// entry separators) and whitespace.
const CONFIGURED_KEY = /^[A-Za-z0-9._~+\/=-]{32,256}$/;
const KEY_NAME = /^[A-Za-z0-9._-]{1,64}$/;

// Database keys: rk_<id>_<secret>. The id (12 base32 characters, 60 bits) is
// public and finds the row; the secret (32 random bytes, base64url) is what
// proves possession. Looking the row up by id means SQL never compares secrets.
const DATABASE_KEY = /^rk_([a-z2-7]{12})_([A-Za-z0-9_-]{43})$/;
const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

/**
 * Hex SHA-256 of a key.
 *
 * One fast hash is enough because every accepted key is long and random
 * (generated keys carry 256 random bits; configured ones must be at least 32
 * characters): finding a key from its hash means guessing the key itself.
 * Slow password hashes exist for short, human-chosen secrets, and would cost
 * tens of milliseconds of CPU on every request here.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hashKey } from "./api_keys.ts";
 * assert.equal(hashKey("abc").length, 64);
 * ```
 */
export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/**
 * True when `principal` may act with `scope`; `admin` may do everything.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hasScope } from "./api_keys.ts";
 * assert.ok(hasScope({ id: "k", name: "ops", scopes: ["admin"] }, "write"));
 * assert.ok(!hasScope({ id: "k", name: "ci", scopes: ["write"] }, "read"));
 * ```
 */
export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.includes(scope) || principal.scopes.includes("admin");
}

/**
 * Parses scope names joined by `separator` (`+` in entries, `,` on the command
 * line). Throws an Error naming the bad scope.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseScopes } from "./api_keys.ts";
 * assert.deepEqual(parseScopes("read+write", "+"), ["read", "write"]);
 * ```
 */
export function parseScopes(text: string, separator: "+" | ","): Scope[] {
  const names = text.split(separator).map((part) => part.trim());
  const scopes: Scope[] = [];
  for (const name of names) {
    if (!(SCOPES as readonly string[]).includes(name)) {
      throw new Error(
        `Unknown scope ${JSON.stringify(name)}; use ${SCOPES.join(", ")} joined by "${separator}"`,
      );
    }
    if (!scopes.includes(name as Scope)) scopes.push(name as Scope);
  }
  return scopes;
}

/**
 * Parses `name:key:scopes` entries (separated by commas in `REPORTD_API_KEYS`,
 * by lines in a keys file, where `#` starts a comment) into hashed keys.
 *
 * Errors name the entry by its position and name, never by its key, because
 * they are printed and logged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseKeyEntries } from "./api_keys.ts";
 * const [key] = parseKeyEntries(`ci:${"k".repeat(32)}:read+write`, { separator: "," });
 * assert.deepEqual([key.name, key.scopes], ["ci", ["read", "write"]]);
 * assert.equal(key.sha256.length, 64);
 * ```
 */
export function parseKeyEntries(
  text: string,
  options: { separator: "," | "\n" },
): ConfiguredKey[] {
  const entries = text.split(options.separator)
    .map((entry) => (options.separator === "\n" ? entry.replace(/#.*$/, "") : entry).trim())
    .filter((entry) => entry !== "");
  const keys: ConfiguredKey[] = [];
  entries.forEach((entry, index) => {
    const where = `entry ${index + 1}`;
    const parts = entry.split(":");
    if (parts.length !== 3) {
      throw new Error(`The ${where} is not name:key:scopes`);
    }
    const [name, key, scopes] = parts.map((part) => part.trim());
    if (!KEY_NAME.test(name)) {
      throw new Error(`The ${where} has an invalid name (1 to 64 of A-Z a-z 0-9 . _ -)`);
    }
    if (!CONFIGURED_KEY.test(key)) {
      throw new Error(
        `The key of ${
          JSON.stringify(name)
        } must be 32 to 256 characters of A-Z a-z 0-9 . _ ~ + / = -`,
      );
    }
    let parsedScopes: Scope[];
    try {
      parsedScopes = parseScopes(scopes, "+");
    } catch (error) {
      throw new Error(`The key of ${JSON.stringify(name)}: ${(error as Error).message}`);
    }
    const sha256 = hashKey(key);
    if (keys.some((other) => other.name === name)) {
      throw new Error(`The name ${JSON.stringify(name)} is used by two keys`);
    }
    if (keys.some((other) => other.sha256 === sha256)) {
      throw new Error(`The key of ${JSON.stringify(name)} is listed twice`);
    }
    keys.push({ name, sha256, scopes: parsedScopes });
  });
  return keys;
}

/**
 * Reads a keys file (`REPORTD_API_KEYS_FILE`): one `name:key:scopes` entry per
 * line, `#` comments and blank lines ignored. Returns the hashed keys and
 * whether the file can be read by other users (worth a warning).
 *
 * The production permission set may read only `./data`, so the file must live
 * there; reading it anywhere else fails with `Deno.errors.NotCapable`.
 */
export async function readKeysFile(
  path: string,
): Promise<{ keys: ConfiguredKey[]; readableByOthers: boolean }> {
  const text = await Deno.readTextFile(path);
  const info = await Deno.stat(path);
  return {
    keys: parseKeyEntries(text, { separator: "\n" }),
    // Windows has no mode bits (mode is null): nothing to warn about there.
    readableByOthers: info.mode !== null && (info.mode & 0o077) !== 0,
  };
}

/** Options for {@linkcode ApiKeys}. */
export interface ApiKeysOptions {
  /** Where `reportd keys create` keeps its keys. */
  db: Database;
  /** Keys from the environment or the keys file. */
  configured: readonly ConfiguredKey[];
  /**
   * True when `REPORTD_API_KEYS` or `REPORTD_API_KEYS_FILE` is set: keys are
   * required even if the list is empty (which then admits no one).
   */
  required: boolean;
}

/**
 * Checks presented keys against the configured ones and the database.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeDatabase, openDatabase } from "../../db/mod.ts";
 * import { ApiKeys, parseKeyEntries } from "./api_keys.ts";
 * const db = await openDatabase(":memory:");
 * const secret = "s".repeat(40);
 * const keys = new ApiKeys({
 *   db,
 *   configured: parseKeyEntries(`ci:${secret}:write`, { separator: "," }),
 *   required: true,
 * });
 * assert.equal((await keys.authenticate(secret))?.id, "config:ci");
 * assert.equal(await keys.authenticate("wrong"), undefined);
 * await closeDatabase(db);
 * ```
 */
export class ApiKeys {
  readonly #db: Database;
  readonly #configured: { digest: Uint8Array; principal: Principal }[];
  #required: boolean;

  /** Keeps the configured keys' digests as bytes, ready for constant-time comparison. */
  constructor(options: ApiKeysOptions) {
    this.#db = options.db;
    this.#required = options.required;
    this.#configured = options.configured.map((key) => ({
      digest: fromHex(key.sha256),
      principal: { id: `config:${key.name}`, name: key.name, scopes: key.scopes },
    }));
  }

  /**
   * True when requests need a key: keys are configured through the
   * environment, or a database key was ever created. Asked per request (a
   * one-row lookup) so that the first `keys create` closes open mode at once,
   * without a restart. Revoked keys count: revoking the last key must lock
   * the API, not open it to everyone.
   *
   * Once true it stays true without asking again: keys are never deleted,
   * only revoked, so the answer cannot go back (an operator who deletes the
   * rows by hand restarts the instances). That saves a query per request
   * with keys, a round trip on PostgreSQL.
   */
  async required(): Promise<boolean> {
    if (this.#required) return true;
    this.#required = await hasApiKeys(this.#db);
    return this.#required;
  }

  /**
   * {@linkcode required}, answered synchronously when that needs no waiting
   * (db/keys_repo.ts `knownApiKeys` says when); undefined when only
   * {@linkcode required} can say. The fast lane answers an open-mode read
   * without a promise this way (routes/fast_lane.ts).
   */
  requiredNow(): boolean | undefined {
    if (this.#required) return true;
    const known = knownApiKeys(this.#db);
    if (known === true) this.#required = true;
    return known;
  }

  /** Returns the principal of `key`, or undefined when it matches no valid key. */
  async authenticate(key: string): Promise<Principal | undefined> {
    const presented = this.#present(key);
    if (presented.principal !== undefined || presented.id === undefined) {
      return presented.principal;
    }
    let record = knownApiKey(this.#db, presented.id);
    // null is an answer (no such key); undefined means ask.
    if (record === undefined) record = await getApiKey(this.#db, presented.id) ?? null;
    return verify(presented.digest, record) ?? undefined;
  }

  /**
   * {@linkcode authenticate}, answered synchronously when that needs no
   * waiting: the principal, null when the key is refused, undefined when
   * only {@linkcode authenticate} can say (db/keys_repo.ts `knownApiKey`
   * says when). The fast lane answers a keyed read without a promise this
   * way (routes/fast_lane.ts).
   */
  authenticateNow(key: string): Principal | null | undefined {
    const presented = this.#present(key);
    if (presented.principal !== undefined) return presented.principal;
    if (presented.id === undefined) return null;
    const record = knownApiKey(this.#db, presented.id);
    return record === undefined ? undefined : verify(presented.digest, record);
  }

  /**
   * Hashes a presented key and matches it against the configured ones; a
   * database key's id when it has that form.
   */
  #present(key: string): { digest: Uint8Array; principal?: Principal; id?: string } {
    const digest = fromHex(hashKey(key));
    // Every configured digest is compared, with no early exit, so the time
    // taken does not tell which entry (or how much of one) matched.
    let match: Principal | undefined;
    for (const entry of this.#configured) {
      if (timingSafeEqual(digest, entry.digest)) match ??= entry.principal;
    }
    if (match !== undefined) return { digest, principal: match };
    return { digest, id: DATABASE_KEY.exec(key)?.[1] };
  }
}

/** The principal of a stored key whose hash is `digest`; null when revoked, absent or another key. */
function verify(digest: Uint8Array, record: ApiKeyRecord | null): Principal | null {
  if (record === null || record.revokedAt !== null) return null;
  if (!timingSafeEqual(digest, fromHex(record.keySha256))) return null;
  return { id: record.id, name: record.name, scopes: record.scopes as Scope[] };
}

/** What {@linkcode startApiKeys} found. */
export interface ApiKeysStart {
  /** The verifier for the app. */
  keys: ApiKeys;
  /** True when no key exists anywhere: requests need none until one is created. */
  open: boolean;
  /** Things an operator should fix, to log as warnings. */
  warnings: string[];
}

/**
 * Builds the verifier at start: the keys from `REPORTD_API_KEYS`, the keys
 * file (read now; a change needs a restart), and whether any key exists at
 * all. Throws an Error with a one-line, printable message when the file
 * cannot be used.
 */
export async function startApiKeys(
  db: Database,
  options: { configured: readonly ConfiguredKey[]; file?: string },
): Promise<ApiKeysStart> {
  const configured = [...options.configured];
  const warnings: string[] = [];
  if (options.file !== undefined) {
    let fromFile;
    try {
      fromFile = await readKeysFile(options.file);
    } catch (error) {
      const reason = error instanceof Deno.errors.NotCapable
        ? "the permission set reads only ./data, so keep the file there"
        : error instanceof Deno.errors.NotFound
        ? "no such file"
        : (error as Error).message;
      throw new Error(
        `Cannot use REPORTD_API_KEYS_FILE=${JSON.stringify(options.file)}: ${reason}`,
      );
    }
    for (const key of fromFile.keys) {
      if (configured.some((other) => other.name === key.name)) {
        throw new Error(
          `The key name ${JSON.stringify(key.name)} is in both REPORTD_API_KEYS and its file`,
        );
      }
      configured.push(key);
    }
    if (fromFile.readableByOthers) {
      warnings.push(
        `REPORTD_API_KEYS_FILE ${options.file} can be read by other users; chmod 600 it`,
      );
    }
  }
  const required = options.configured.length > 0 || options.file !== undefined;
  const keys = new ApiKeys({ db, configured, required });
  return { keys, open: !(await keys.required()), warnings };
}

/**
 * Makes a new database key, stores its hash and returns it; the whole key is
 * in the result only, so it must be shown to the operator now.
 */
export async function createApiKey(
  db: Database,
  options: { name: string; scopes: Scope[]; now?: Date },
): Promise<CreatedKey> {
  if (!KEY_NAME.test(options.name)) {
    throw new Error("The name must be 1 to 64 of A-Z a-z 0-9 . _ -");
  }
  if (options.scopes.length === 0) throw new Error("Give at least one scope");
  const id = Array.from(
    crypto.getRandomValues(new Uint8Array(12)),
    (byte) => ID_ALPHABET[byte & 31],
  ).join("");
  const secret = toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  const key = `rk_${id}_${secret}`;
  const createdAt = (options.now ?? new Date()).toISOString();
  await insertApiKey(db, {
    id,
    name: options.name,
    keySha256: hashKey(key),
    scopes: options.scopes,
    createdAt,
    revokedAt: null,
  });
  return { id, key, name: options.name, scopes: options.scopes, createdAt };
}

/** Lists the database keys, oldest first, without their hashes. */
export async function listKeys(db: Database): Promise<KeySummary[]> {
  return (await listApiKeys(db)).map((record) => ({
    id: record.id,
    name: record.name,
    scopes: record.scopes as Scope[],
    createdAt: record.createdAt,
    revokedAt: record.revokedAt,
  }));
}

/** Revokes a database key at once; false when there is no valid key with that id. */
export function revokeKey(
  db: Database,
  id: string,
  options: { now?: Date } = {},
): Promise<boolean> {
  return revokeApiKey(db, id, (options.now ?? new Date()).toISOString());
}

function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  }
  return bytes;
}

function toBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}
