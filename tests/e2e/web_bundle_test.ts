import assert from "node:assert/strict";
import { bundleArgs, WEB_BUNDLE } from "../../tools/build_web.ts";
import { REPO_ROOT } from "../helpers/server_process.ts";

// reportd serves the committed bundle (imported as text by routes/web.ts), so
// it must be exactly what its sources build today: bundle again and compare.
Deno.test("e2e: the committed page bundle is up to date with web/app/ (else: deno task web:build)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "reportd-bundle-" });
  try {
    const output = `${dir}/app.js`;
    const result = await new Deno.Command(Deno.execPath(), {
      args: bundleArgs(output),
      cwd: REPO_ROOT,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
    const fresh = await Deno.readTextFile(output);
    const committed = await Deno.readTextFile(`${REPO_ROOT}${WEB_BUNDLE}`);
    assert.ok(fresh.length > 0);
    assert.ok(
      fresh === committed,
      `${WEB_BUNDLE} differs from a fresh bundle of its sources: run deno task web:build`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
