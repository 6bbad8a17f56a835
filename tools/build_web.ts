/**
 * Builds the page's script: bundles web/app/mod.ts and its imports into one
 * JavaScript module, web/bundle/app.js, with `deno bundle` (esbuild).
 *
 * The bundle is committed, because reportd imports it as text
 * (routes/web.ts) so that `deno compile` embeds it and every `deno run`, test
 * and type check works on a fresh clone with no build step first. A test
 * (tests/e2e/web_bundle_test.ts) bundles again and fails when the committed
 * file differs from its sources, so it cannot go stale unnoticed. Why a
 * build-time bundle rather than JavaScript with JSDoc types or a transpiler
 * at run time: docs/decisions/0013.
 *
 * Usage: `deno task web:build` (runs `deno` from PATH, the only program the
 * `build` permission set may run; `deno bundle` writes the file).
 *
 * @module
 */

/** The page's entry module. */
export const WEB_ENTRY = "web/app/mod.ts";

/** The committed bundle that reportd serves as /assets/app.<hash>.js. */
export const WEB_BUNDLE = "web/bundle/app.js";

/**
 * The `deno bundle` arguments that write the bundle to `output`.
 *
 * Not minified: the served file is compressed (brotli makes the difference
 * small, see 0013), and readable code in the browser's developer tools and in
 * review needs no source map.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bundleArgs } from "./build_web.ts";
 * assert.deepEqual(bundleArgs("web/bundle/app.js").slice(0, 2), ["bundle", "--frozen"]);
 * ```
 */
export function bundleArgs(output: string): string[] {
  return [
    "bundle",
    "--frozen",
    "--quiet",
    "--platform",
    "browser",
    "--format",
    "esm",
    "--output",
    output,
    WEB_ENTRY,
  ];
}

if (import.meta.main) {
  const { code } = await new Deno.Command("deno", { args: bundleArgs(WEB_BUNDLE) }).spawn().status;
  Deno.exit(code);
}
