import assert from "node:assert/strict";
import { closeDatabase, openDatabase } from "../../db/mod.ts";
import { getApiKey } from "../../db/keys_repo.ts";
import {
  ApiKeys,
  createApiKey,
  hashKey,
  listKeys,
  parseKeyEntries,
  revokeKey,
  startApiKeys,
} from "../../services/security/api_keys.ts";
import { ConfigError, loadConfig } from "../../services/runtime/config.ts";
import { runKeysCommand } from "../../services/security/key_commands.ts";

const KEY_A = "a".repeat(32);
const KEY_B = "B-b.b_b~b+b/b=".repeat(3);

async function withDatabase(run: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<void>) {
  const db = await openDatabase(":memory:");
  try {
    await run(db);
  } finally {
    await closeDatabase(db);
  }
}

Deno.test("parseKeyEntries reads name:key:scopes and keeps only hashes", () => {
  const keys = parseKeyEntries(` ci:${KEY_A}:read+write , ops:${KEY_B}:admin `, {
    separator: ",",
  });
  assert.deepEqual(keys, [
    { name: "ci", sha256: hashKey(KEY_A), scopes: ["read", "write"] },
    { name: "ops", sha256: hashKey(KEY_B), scopes: ["admin"] },
  ]);
  assert.doesNotMatch(JSON.stringify(keys), /aaaa/);
});

Deno.test("parseKeyEntries reads a keys file with comments and blank lines", () => {
  const keys = parseKeyEntries(`# reportd keys\n\nci:${KEY_A}:read # the CI job\n`, {
    separator: "\n",
  });
  assert.deepEqual(keys.map((key) => key.name), ["ci"]);
});

Deno.test("parseKeyEntries refuses bad entries without quoting the key", () => {
  const cases: [string, RegExp][] = [
    [`ci:${KEY_A}`, /entry 1 is not name:key:scopes/],
    [`c i:${KEY_A}:read`, /invalid name/],
    ["ci:short:read", /must be 32 to 256 characters/],
    [`ci:${"\u00E9".repeat(32)}:read`, /must be 32 to 256 characters/],
    [`ci:${KEY_A}:read+delete`, /Unknown scope "delete"/],
    [`ci:${KEY_A}:`, /Unknown scope ""/],
    [`ci:${KEY_A}:read,ci:${KEY_B}:read`, /name "ci" is used by two keys/],
    [`ci:${KEY_A}:read,ops:${KEY_A}:admin`, /listed twice/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseKeyEntries(text, { separator: "," }), (error: Error) => {
      assert.match(error.message, message);
      assert.ok(!error.message.includes(KEY_A), `The key leaked: ${error.message}`);
      return true;
    });
  }
});

Deno.test("loadConfig hides REPORTD_API_KEYS in its error and checks the security variables", () => {
  assert.throws(() => loadConfig({ REPORTD_API_KEYS: "ci:too-short-secret:read" }), (error) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /^Invalid REPORTD_API_KEYS \(value hidden\): The key of "ci"/);
    assert.ok(!error.message.includes("too-short-secret"));
    return true;
  });
  const cases: [Record<string, string>, RegExp][] = [
    [{ REPORTD_API_KEYS: "," }, /^Invalid REPORTD_API_KEYS \(value hidden\): No key is listed$/],
    [{ REPORTD_RATE_READ_PER_S: "-1" }, /^Invalid REPORTD_RATE_READ_PER_S="-1"/],
    [{ REPORTD_RATE_WRITE_BURST: "0" }, /^Invalid REPORTD_RATE_WRITE_BURST="0"/],
    [{ REPORTD_CORS_ORIGINS: "https://a.example/" }, /expected exact origins/],
    [{ REPORTD_CORS_ORIGINS: "*" }, /expected exact origins/],
    [{ REPORTD_PUBLIC_READ: "yes" }, /^Invalid REPORTD_PUBLIC_READ="yes"/],
    [{ REPORTD_BODY_TIMEOUT: "0" }, /^Invalid REPORTD_BODY_TIMEOUT="0": expected at least 1s/],
    [{ REPORTD_HEADERS_TIMEOUT: "soon" }, /^Invalid REPORTD_HEADERS_TIMEOUT="soon"/],
  ];
  for (const [env, message] of cases) {
    assert.throws(() => loadConfig(env), (error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, message);
      return true;
    });
  }
});

Deno.test("ApiKeys accepts configured keys and refuses anything else", async () => {
  await withDatabase(async (db) => {
    const keys = new ApiKeys({
      db,
      configured: parseKeyEntries(`ci:${KEY_A}:read+write,ops:${KEY_B}:admin`, {
        separator: ",",
      }),
      required: true,
    });
    assert.equal(await keys.required(), true);
    assert.deepEqual(await keys.authenticate(KEY_A), {
      id: "config:ci",
      name: "ci",
      scopes: ["read", "write"],
    });
    assert.equal((await keys.authenticate(KEY_B))?.id, "config:ops");
    for (const wrong of ["", KEY_A.slice(1), `${KEY_A}a`, KEY_A.toUpperCase(), hashKey(KEY_A)]) {
      assert.equal(await keys.authenticate(wrong), undefined, wrong);
    }
  });
});

Deno.test("Database keys are stored as hashes, work at once and stop at revocation", async () => {
  await withDatabase(async (db) => {
    const keys = new ApiKeys({ db, configured: [], required: false });
    assert.equal(await keys.required(), false, "No key anywhere: open mode");
    const created = await createApiKey(db, { name: "ci", scopes: ["write"] });
    assert.match(created.key, /^rk_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/);
    assert.equal(await keys.required(), true, "The first key ends open mode");

    const stored = await getApiKey(db, created.id);
    assert.equal(stored?.keySha256, hashKey(created.key));
    assert.ok(!JSON.stringify(stored).includes(created.key.slice(16)), "The secret is not stored");

    assert.deepEqual(await keys.authenticate(created.key), {
      id: created.id,
      name: "ci",
      scopes: ["write"],
    });
    // Right id, wrong secret; and a well-formed key for an id that does not exist.
    const forged = `${created.key.slice(0, 16)}${"A".repeat(43)}`;
    assert.equal(await keys.authenticate(forged), undefined);
    assert.equal(await keys.authenticate(`rk_${"a".repeat(12)}_${"A".repeat(43)}`), undefined);

    assert.equal(await revokeKey(db, created.id), true);
    assert.equal(await revokeKey(db, created.id), false, "Revoking twice changes nothing");
    assert.equal(await keys.authenticate(created.key), undefined);
    assert.equal(await keys.required(), true, "Revoking the last key locks, never opens");
    const [listed] = await listKeys(db);
    assert.equal(listed.id, created.id);
    assert.notEqual(listed.revokedAt, null);
  });
});

Deno.test("createApiKey refuses bad names and empty scopes", async () => {
  await withDatabase(async (db) => {
    await assert.rejects(createApiKey(db, { name: "no spaces", scopes: ["read"] }), /name/);
    await assert.rejects(createApiKey(db, { name: "ci", scopes: [] }), /at least one scope/);
  });
});

Deno.test("startApiKeys reads the keys file and warns about loose file modes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "reportd-keys-" });
  try {
    await withDatabase(async (db) => {
      const file = `${dir}/api_keys`;
      await Deno.writeTextFile(file, `# keys\nops:${KEY_B}:admin\n`, { mode: 0o644 });
      await Deno.chmod(file, 0o644);
      const started = await startApiKeys(db, {
        configured: parseKeyEntries(`ci:${KEY_A}:read`, { separator: "," }),
        file,
      });
      assert.equal(started.open, false);
      assert.equal((await started.keys.authenticate(KEY_B))?.id, "config:ops");
      assert.equal((await started.keys.authenticate(KEY_A))?.id, "config:ci");
      assert.match(started.warnings.join("\n"), /can be read by other users; chmod 600/);

      await Deno.chmod(file, 0o600);
      assert.deepEqual((await startApiKeys(db, { configured: [], file })).warnings, []);

      // A file that lists no key still turns keys on: nobody gets in.
      await Deno.writeTextFile(file, "# nobody yet\n");
      const empty = await startApiKeys(db, { configured: [], file });
      assert.equal(empty.open, false);
      assert.equal(await empty.keys.required(), true);

      await assert.rejects(
        startApiKeys(db, { configured: [], file: `${dir}/missing` }),
        /Cannot use REPORTD_API_KEYS_FILE=.*: no such file/,
      );
      await Deno.writeTextFile(file, `ci:${KEY_B}:admin\n`);
      await assert.rejects(
        startApiKeys(db, {
          configured: parseKeyEntries(`ci:${KEY_A}:read`, { separator: "," }),
          file,
        }),
        /"ci" is in both REPORTD_API_KEYS and its file/,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("keys create, list and revoke from the command module", async () => {
  await withDatabase(async (db) => {
    const out: string[] = [];
    const err: string[] = [];
    const output = { out: (line: string) => out.push(line), err: (line: string) => err.push(line) };

    assert.equal(
      await runKeysCommand(db, ["create", "--scopes", "read,write", "--name", "ci"], output),
      0,
    );
    const key = out.pop() ?? "";
    assert.match(key, /^rk_/);
    assert.match(err.pop() ?? "", /shown only now/);
    const id = key.slice(3, 15);

    assert.equal(await runKeysCommand(db, ["list"], output), 0);
    const table = out.pop() ?? "";
    assert.match(table, /^ID +NAME +SCOPES +CREATED +REVOKED/);
    assert.match(table, new RegExp(`${id} +ci +read,write +\\d{4}-.* +-$`, "m"));
    assert.ok(!table.includes(key.slice(16)), "list never shows a key");

    assert.equal(await runKeysCommand(db, ["revoke", id], output), 0);
    assert.equal(await runKeysCommand(db, ["revoke", id], output), 1);
    assert.match(err.pop() ?? "", /No valid key with id/);

    for (
      const args of [
        [],
        ["create", "--name", "ci"],
        ["create", "--scopes", "read,root", "--name", "ci"],
        ["create", "--scopes", "read", "--name", "ci", "--colour", "red"],
        ["revoke"],
        ["rotate"],
      ]
    ) {
      assert.equal(await runKeysCommand(db, args, output), 2, args.join(" "));
    }
    assert.equal(await runKeysCommand(db, ["--help"], output), 0);
  });
});

Deno.test("ApiKeys.required asks the database until a key exists, then no more", async () => {
  const db = await openDatabase(":memory:");
  const keys = new ApiKeys({ db, configured: [], required: false });
  assert.equal(await keys.required(), false);
  await createApiKey(db, { name: "ops", scopes: ["read"] });
  assert.equal(await keys.required(), true);
  // Keys are never deleted, so the answer cannot go back: it is not asked
  // again (with the database closed, a query would throw).
  await closeDatabase(db);
  assert.equal(await keys.required(), true);
});
