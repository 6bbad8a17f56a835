import assert from "node:assert/strict";
import { checkLockfile, classifyAudit, type DenoLock } from "../../tools/audit.ts";

const ROOT = new URL("../../", import.meta.url);

Deno.test("The committed deno.json and deno.lock pass the offline audit", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const lock = JSON.parse(await Deno.readTextFile(new URL("deno.lock", ROOT)));
  assert.deepEqual(checkLockfile(config, lock), []);
});

Deno.test("The offline audit finds unlocked, unhashed, remote and scripted packages", () => {
  const lock: DenoLock = {
    version: "5",
    specifiers: { "npm:hono@^4.13.19": "4.13.19", "npm:evil@1": "1.0.0" },
    npm: {
      "hono@4.13.19": { integrity: "sha512-abc" },
      "evil@1.0.0": { integrity: "sha1-abc", scripts: true },
      "@scarf/scarf@1.4.0": { integrity: "sha512-def", scripts: true },
    },
  };
  const problems = checkLockfile({
    imports: {
      hono: "npm:hono@^4.13.19",
      "hono/": "npm:/hono@^4.13.19/",
      zod: "npm:zod@^4.6.7",
      std: "jsr:@std/assert@1",
      remote: "https://example.com/mod.ts",
    },
    tasks: { dev: "deno run -A main.ts", install: "deno install --allow-scripts" },
  }, lock);
  assert.deepEqual(problems, [
    "npm:zod@^4.6.7 is not in deno.lock",
    "Import std is jsr:@std/assert@1: only npm: packages are locked and audited",
    "Import remote is https://example.com/mod.ts: only npm: packages are locked and audited",
    "evil@1.0.0 has no sha512 integrity hash in deno.lock",
    "evil@1.0.0 declares install scripts; review it and list it in KNOWN_INSTALL_SCRIPTS",
    "Task dev runs with -A",
    "Task install runs with --allow-scripts",
  ]);
});

Deno.test("An unreachable advisory endpoint is never mistaken for a clean audit", () => {
  assert.equal(classifyAudit(0, ""), "clean");
  for (
    const stderr of [
      "error: error sending request for url (https://registry.npmjs.org/-/npm/v1/...)",
      "client error (Connect): invalid peer certificate: UnknownIssuer",
      "dns error: failed to lookup address information",
    ]
  ) {
    assert.equal(classifyAudit(1, stderr), "unreachable", stderr);
  }
  assert.equal(classifyAudit(1, "Found 2 vulnerabilities: hono (high)"), "advisories");
});
