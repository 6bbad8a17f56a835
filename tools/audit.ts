/**
 * `deno task audit`: are the npm dependencies safe to ship?
 *
 * Two kinds of check, because only one of them needs the network:
 *
 * 1. **The lockfile (offline).** Every `npm:` specifier in deno.json is locked
 *    in deno.lock, every locked package carries a sha512 integrity hash (so a
 *    tampered tarball fails to install), the import map holds nothing but
 *    `npm:` packages (no remote URLs that bypass the lock), no task passes
 *    `--allow-scripts`, and every locked package with an install script is
 *    one we know about, with the reason it is harmless here (Deno runs no
 *    lifecycle scripts unless `--allow-scripts` names the package).
 * 2. **Known advisories (online).** `deno audit --level=moderate` sends the
 *    locked versions to the npm registry's advisory endpoint and fails on a
 *    moderate or worse advisory. Where that endpoint cannot be reached (the
 *    development machines reach only the registry's package downloads), the
 *    check says so and is skipped; with `--require-online`, which the CI
 *    workflow's `audit` job passes, an unreachable endpoint fails the run, so
 *    a network problem can never pass for "no advisories".
 *
 * Usage: deno task audit [--require-online]
 *
 * @module
 */

/** Locked packages known to declare install scripts, and why that is harmless. */
export const KNOWN_INSTALL_SCRIPTS: Readonly<Record<string, string>> = {
  "@scarf/scarf": "Usage analytics pulled in by swagger-ui-dist; its postinstall would phone " +
    "home, but Deno never runs it (no --allow-scripts anywhere)",
};

/** The parts of deno.json the checks read. */
export interface DenoConfig {
  imports?: Record<string, string>;
  /** A task is a command, or `{ description, command }`. */
  tasks?: Record<string, string | { command?: string; description?: string }>;
}

/** The parts of deno.lock (version 5) the checks read. */
export interface DenoLock {
  version?: string;
  specifiers?: Record<string, string>;
  npm?: Record<string, { integrity?: string; scripts?: boolean }>;
}

/**
 * Checks deno.json against deno.lock and returns every problem found (none:
 * an empty list). Pure, so tests feed it broken files.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkLockfile } from "./audit.ts";
 * const problems = checkLockfile(
 *   { imports: { zod: "npm:zod@^4.6.7" } },
 *   {
 *     version: "5",
 *     specifiers: { "npm:zod@^4.6.7": "4.6.7" },
 *     npm: { "zod@4.6.7": { integrity: "sha512-abc" } },
 *   },
 * );
 * assert.deepEqual(problems, []);
 * ```
 */
export function checkLockfile(config: DenoConfig, lock: DenoLock): string[] {
  const problems: string[] = [];
  if (lock.version !== "5") {
    problems.push(`deno.lock is version ${lock.version}; these checks read version 5`);
  }
  const specifiers = lock.specifiers ?? {};
  for (const [alias, target] of Object.entries(config.imports ?? {})) {
    if (!target.startsWith("npm:")) {
      problems.push(`Import ${alias} is ${target}: only npm: packages are locked and audited`);
      continue;
    }
    // Deno normalizes ranges when it locks them ("~1.9.0" becomes "1.9"), so
    // the package name is compared; `deno install --frozen` checks the rest.
    const name = packageOf(target);
    if (!Object.keys(specifiers).some((locked) => packageOf(locked) === name)) {
      problems.push(`${target} is not in deno.lock`);
    }
  }
  for (const [name, entry] of Object.entries(lock.npm ?? {})) {
    if (!/^sha512-/.test(entry.integrity ?? "")) {
      problems.push(`${name} has no sha512 integrity hash in deno.lock`);
    }
    const packageName = name.replace(/^(@?[^@]+)@.*$/, "$1");
    if (entry.scripts && !Object.hasOwn(KNOWN_INSTALL_SCRIPTS, packageName)) {
      problems.push(
        `${name} declares install scripts; review it and list it in KNOWN_INSTALL_SCRIPTS`,
      );
    }
  }
  for (const [task, entry] of Object.entries(config.tasks ?? {})) {
    const command = typeof entry === "string" ? entry : entry.command ?? "";
    if (/--allow-scripts|\s-A\b|--allow-all/.test(command)) {
      problems.push(
        `Task ${task} runs with ${command.match(/--allow-scripts|-A|--allow-all/)?.[0]}`,
      );
    }
  }
  return problems;
}

// "npm:/@scope/name@^1.2/" -> "@scope/name"
function packageOf(specifier: string): string {
  return specifier.replace(/^npm:\/?/, "").replace(/^(@?[^@]+)@.*$/, "$1");
}

/** How `deno audit` ended. */
export type AdvisoryOutcome = "clean" | "advisories" | "unreachable";

/**
 * Classifies a `deno audit` run: exit 0 is clean; a failure to reach the
 * advisory endpoint is `unreachable`; any other failure means advisories.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classifyAudit } from "./audit.ts";
 * assert.equal(classifyAudit(0, ""), "clean");
 * assert.equal(classifyAudit(1, "error sending request for url (https://...)"), "unreachable");
 * assert.equal(classifyAudit(1, "hono 4.0.0: High severity advisory"), "advisories");
 * ```
 */
export function classifyAudit(code: number, stderr: string): AdvisoryOutcome {
  if (code === 0) return "clean";
  return /error sending request|client error|dns error|connection refused|timed out|certificate/i
      .test(stderr)
    ? "unreachable"
    : "advisories";
}

async function main(args: string[]): Promise<number> {
  const requireOnline = args.includes("--require-online");
  const root = new URL("../", import.meta.url);
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  const lock = JSON.parse(await Deno.readTextFile(new URL("deno.lock", root)));

  const problems = checkLockfile(config, lock);
  const packages = Object.keys(lock.npm ?? {}).length;
  if (problems.length > 0) {
    for (const problem of problems) console.error(`lockfile: ${problem}`);
    return 1;
  }
  console.log(
    `lockfile: ${packages} npm packages locked with sha512 integrity; no unknown ` +
      "install scripts; only npm: imports",
  );

  const audit = await new Deno.Command("deno", {
    args: ["audit", "--level=moderate"],
    cwd: root,
    stdout: "inherit",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(audit.stderr);
  const outcome = classifyAudit(audit.code, stderr);
  if (outcome === "clean") {
    console.log("advisories: none of moderate severity or worse (deno audit)");
    return 0;
  }
  console.error(stderr.trim());
  if (outcome === "advisories") return 1;
  const message = "advisories: not checked, the npm advisory endpoint could not be reached";
  if (requireOnline) {
    console.error(`${message} (--require-online)`);
    return 1;
  }
  console.log(`${message}; CI's audit job checks them (deno task audit --require-online)`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
