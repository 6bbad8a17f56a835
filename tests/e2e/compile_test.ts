import assert from "node:assert/strict";
import denoConfig from "../../deno.json" with { type: "json" };
import { BUILD_COMMIT_VARIABLE } from "../../services/runtime/build_info.ts";
import { INCLUDES, type PermissionSet } from "../../tools/compile.ts";
import { inspectBinary } from "../../tools/inspect_binary.ts";
import { filesUnder, runtimeModules, textAssets } from "../helpers/build_manifest.ts";
import { REPO_ROOT } from "../helpers/server_process.ts";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";

// `deno compile` normally downloads the runtime it embeds (denort), which this
// machine cannot. DENORT_BIN makes it use a local base binary instead; with
// the deno binary itself the output does not start as reportd, but everything
// deno compile embeds (permissions, env file, files) is exactly what the real
// build embeds, so it can be inspected here. CI's compile job and the
// Dockerfile build with the real runtime and run the result.
Deno.test("e2e: deno task compile embeds the production permissions, the commit and every asset", async () => {
  await Deno.mkdir(`${REPO_ROOT}dist`, { recursive: true });
  const outDir = await Deno.makeTempDir({ dir: `${REPO_ROOT}dist`, prefix: "test-" });
  try {
    const output = `${outDir.slice(REPO_ROOT.length)}/reportd`;
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["task", "compile", "--output", output, "--commit", COMMIT],
      cwd: REPO_ROOT,
      env: { DENORT_BIN: Deno.execPath(), NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 0, stderr);

    const manifest = inspectBinary(await Deno.readFile(`${REPO_ROOT}${output}`));

    // Exactly permissions.default, with relative paths kept relative so they
    // resolve against the working directory at run time (docs/decisions/0010).
    const set = denoConfig.permissions.default as PermissionSet;
    for (const kind of ["read", "write", "net", "env", "sys", "run", "ffi"]) {
      const expected = set[kind] === undefined ? null : set[kind] === true ? [] : set[kind];
      assert.deepEqual(manifest.permissions[`allow_${kind}`], expected, `allow_${kind}`);
    }
    assert.equal(manifest.permissions.prompt, false);
    assert.deepEqual(manifest.envVars, { [BUILD_COMMIT_VARIABLE]: COMMIT });

    const expectedFiles = [
      "main.ts",
      ...(await runtimeModules()),
      ...(await textAssets()),
      ...(await Promise.all(INCLUDES.map(filesUnder))).flat(),
    ];
    for (const file of expectedFiles) {
      assert.ok(manifest.files.includes(file), `${file} is not in the executable`);
    }
    // --exclude-unused-npm: test-only packages stay out of the binary.
    assert.ok(manifest.npmPackages.includes("hono"));
    assert.ok(!manifest.npmPackages.includes("fast-check"), manifest.npmPackages.join(", "));
  } finally {
    await Deno.remove(outDir, { recursive: true });
    // Leave no empty dist/ behind either; a dist/ with other builds stays.
    await Deno.remove(`${REPO_ROOT}dist`).catch(() => {});
  }
});
