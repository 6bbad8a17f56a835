/**
 * Facts about this build: which commit an executable was compiled from.
 *
 * `deno compile` cannot take a constant on its command line, but it can embed
 * environment variables: `tools/compile.ts --commit <sha>` writes
 * `REPORTD_BUILD_COMMIT=<sha>` to an env file and passes `--env-file`, and the
 * compiled binary sets that variable at start unless the environment already
 * has it ([0011](../docs/decisions/0011-build-commit-through-embedded-env-file.md)).
 * Under `deno run` nothing is embedded, so the commit is simply unknown.
 *
 * The name starts with `REPORTD_`, so the production permission set, which
 * grants `REPORTD_*`, already allows reading it.
 *
 * @module
 */

/** The variable that carries the git commit into a compiled executable. */
export const BUILD_COMMIT_VARIABLE = "REPORTD_BUILD_COMMIT";

const COMMIT_PATTERN = /^[0-9a-f]{7,40}$/;

/**
 * Returns true for a git commit id: 7 to 40 lowercase hex digits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isCommit } from "./build_info.ts";
 * assert.equal(isCommit("9cd5259"), true);
 * assert.equal(isCommit("main"), false);
 * ```
 */
export function isCommit(value: string): boolean {
  return COMMIT_PATTERN.test(value);
}

/**
 * Formats the `--version` line: the version, and the commit when it is a
 * valid one (shortened to 12 digits, enough to be unique in any repository of
 * this size). Anything else is ignored rather than printed, so a stray
 * variable cannot make the version line lie in an odd format.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatVersion } from "./build_info.ts";
 * assert.equal(formatVersion("0.1.0"), "reportd 0.1.0");
 * assert.equal(
 *   formatVersion("0.1.0", "9cd5259a1b2c3d4e5f60718293a4b5c6d7e8f901"),
 *   "reportd 0.1.0 (commit 9cd5259a1b2c)",
 * );
 * ```
 */
export function formatVersion(version: string, commit?: string): string {
  const trimmed = commit?.trim().toLowerCase() ?? "";
  return isCommit(trimmed)
    ? `reportd ${version} (commit ${trimmed.slice(0, 12)})`
    : `reportd ${version}`;
}
