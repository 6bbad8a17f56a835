import assert from "node:assert/strict";
import denoConfig from "../../deno.json" with { type: "json" };
import { BUILD_COMMIT_VARIABLE } from "../../services/runtime/build_info.ts";
import { runCli } from "../helpers/server_process.ts";

// A compiled binary sets this variable from its embedded env file before the
// program starts; setting it here exercises the same read under the same
// production permission set (-P), which must allow it.
Deno.test("e2e: --version names the commit the executable was built from", async () => {
  const commit = "9cd5259a1b2c3d4e5f60718293a4b5c6d7e8f901";
  const result = await runCli(["--version"], { env: { [BUILD_COMMIT_VARIABLE]: commit } });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), `reportd ${denoConfig.version} (commit 9cd5259a1b2c)`);
});

Deno.test("e2e: --version without an embedded commit prints the version alone", async () => {
  const result = await runCli(["-V"], { env: { [BUILD_COMMIT_VARIABLE]: "" } });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), `reportd ${denoConfig.version}`);
});
