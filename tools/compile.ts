/**
 * Builds reportd as one self-contained executable with `deno compile`.
 *
 * This module is the single place that says what goes into the binary:
 *
 * - the permissions are derived from `permissions.default` in deno.json, the
 *   same set that `deno task start`, `deno task dev` and the end-to-end tests
 *   run under (`deno run -P`); nothing here lists a permission of its own;
 * - {@linkcode INCLUDES} lists the files the static module graph does not
 *   reach (worker entry modules) plus the asset folders;
 * - {@linkcode TARGETS} lists the platforms of `compile:all` and the release.
 *
 * The Dockerfile and the release workflow call `deno task compile`, which runs
 * this file, so they cannot drift from it; tests/unit/compile_test.ts checks
 * that they do call it and that every worker module is included.
 *
 * Why the permissions become explicit `--allow-*` flags instead of `-P`:
 * `deno compile -P` resolves relative paths in the set against the folder of
 * deno.json on the build machine and bakes the absolute result into the
 * binary (`/src/data` inside the Docker build stage), while paths given as
 * flags stay relative and are resolved against the working directory when the
 * binary starts. The same `./data` then means `/data` in the container
 * (working directory `/`) and `/var/lib/reportd/data` under systemd
 * ([0010](../docs/decisions/0010-compiled-permissions-resolve-against-the-working-directory.md)).
 *
 * Usage:
 *
 * ```sh
 * deno task compile                      # dist/reportd for this machine
 * deno task compile --target aarch64-unknown-linux-gnu --commit "$(git rev-parse HEAD)"
 * deno task compile:all --commit "$SHA"   # dist/reportd-<target> for every target
 * deno task compile --dry-run            # print the deno compile command only
 * deno task compile --output dist/x/reportd   # elsewhere, but under ./dist (the
 *                                          # `build` permission set writes only there)
 * ```
 *
 * `deno compile` downloads the Deno runtime for the target on first use, so it
 * needs network access to the Deno release servers.
 *
 * @module
 */
import { parseArgs } from "node:util";
import denoConfig from "../deno.json" with { type: "json" };
import { BUILD_COMMIT_VARIABLE, isCommit } from "../services/runtime/build_info.ts";

/** The program's entry module. */
export const ENTRYPOINT = "main.ts";

/** Where `deno task compile` writes the executable (and `compile:all` its prefix). */
export const OUTPUT = "dist/reportd";

/**
 * The name of the env file that carries the commit into the binary (see
 * services/runtime/build_info.ts); it is written next to the executable.
 */
export const BUILD_ENV_FILE = "build.env";

/**
 * Files and folders embedded with `--include`, relative to the repository root.
 *
 * A module started with `new Worker(new URL("./x.ts", import.meta.url))` is
 * not part of the static import graph, so `deno compile` would leave it out
 * and the worker would fail to start in the binary: list every such module
 * here (a test finds them in the source and fails when one is missing).
 *
 * Migrations and the page assets are imported as text and so are embedded
 * through the module graph already (docs/decisions/0007); their folders are
 * included as well so that the binary also carries them as files.
 */
export const INCLUDES: readonly string[] = [
  // Started by services/jobs/pool.ts; --include of a module brings its imports too.
  "services/jobs/worker.ts",
  "db/sqlite/migrations/",
  "db/postgres/migrations/",
  "web/",
];

/** The platforms of `deno task compile:all` and of the release binaries. */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
] as const;

/** One of {@linkcode TARGETS}. */
export type Target = (typeof TARGETS)[number];

/** A permission's value in a deno.json permission set. */
export type PermissionValue =
  | boolean
  | string[]
  | { allow?: boolean | string[]; deny?: boolean | string[]; ignore?: boolean | string[] };

/** A deno.json permission set, such as `permissions.default`. */
export type PermissionSet = { all?: boolean } & Record<string, PermissionValue | undefined>;

const PERMISSION_KINDS = new Set(["read", "write", "net", "env", "sys", "run", "ffi", "import"]);

/**
 * Turns a deno.json permission set into the equivalent command-line flags,
 * keeping every value exactly as written (relative paths stay relative).
 *
 * An unknown key is an error rather than skipped, so a permission kind that a
 * later Deno adds cannot silently go missing from the binary.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { permissionFlags } from "./compile.ts";
 * assert.deepEqual(
 *   permissionFlags({ read: ["./data"], env: ["PORT", "REPORTD_*"], sys: true, run: false }),
 *   ["--allow-read=./data", "--allow-env=PORT,REPORTD_*", "--allow-sys"],
 * );
 * ```
 */
export function permissionFlags(set: PermissionSet): string[] {
  if (set.all === true) return ["--allow-all"];
  const flags: string[] = [];
  for (const [kind, value] of Object.entries(set)) {
    if (kind === "all") continue;
    if (!PERMISSION_KINDS.has(kind)) {
      throw new Error(`Unknown permission ${JSON.stringify(kind)} in the permission set`);
    }
    if (value === undefined || typeof value === "boolean" || Array.isArray(value)) {
      flags.push(...flagFor("allow", kind, value));
    } else {
      flags.push(
        ...flagFor("allow", kind, value.allow),
        ...flagFor("deny", kind, value.deny),
        ...flagFor("ignore", kind, value.ignore),
      );
    }
  }
  return flags;
}

function flagFor(mode: string, kind: string, value: boolean | string[] | undefined): string[] {
  if (value === undefined || value === false) return [];
  if (value === true) return [`--${mode}-${kind}`];
  // Deno treats an empty list in the config file as "not granted".
  if (value.length === 0) return [];
  const comma = value.find((item) => item.includes(","));
  if (comma !== undefined) {
    throw new Error(`Permission value ${JSON.stringify(comma)} contains a comma`);
  }
  return [`--${mode}-${kind}=${value.join(",")}`];
}

/** Options for {@linkcode compileArgs}. */
export interface CompileOptions {
  /** Output file. */
  output: string;
  /** Cross-compile for this target; the host platform when absent. */
  target?: Target;
  /** An env file to embed (carries the commit). */
  envFile?: string;
  /** The permission set; deno.json's `permissions.default` when absent. */
  permissions?: PermissionSet;
  /**
   * PostgreSQL hosts (`host:port`) the executable may reach, on top of the
   * permission set: a compiled binary's permissions are fixed when it is
   * built, and the database host is the operator's (the image grants
   * `postgres:5432`; docs/decisions/0016-postgres-scale-out.md).
   */
  databaseHosts?: string[];
}

/**
 * The arguments of one `deno compile` run.
 *
 * `--no-prompt`: a service must fail on a missing permission, never wait for
 * someone to answer a prompt. `--frozen`: build exactly what deno.lock pins.
 * `--exclude-unused-npm`: embed only the npm packages the program imports,
 * not test-only ones such as fast-check.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileArgs } from "./compile.ts";
 * const args = compileArgs({ output: "dist/reportd", permissions: { read: ["./data"] } });
 * assert.deepEqual(args.slice(0, 2), ["compile", "--frozen"]);
 * assert.ok(args.includes("--allow-read=./data"));
 * assert.equal(args.at(-1), "main.ts");
 * ```
 */
export function compileArgs(options: CompileOptions): string[] {
  const base = options.permissions ?? (denoConfig.permissions.default as PermissionSet);
  const hosts = options.databaseHosts ?? [];
  const net = base.net;
  const permissions: PermissionSet = hosts.length === 0 || !Array.isArray(net)
    ? base
    : { ...base, net: [...net, ...hosts] };
  return [
    "compile",
    "--frozen",
    "--no-prompt",
    "--exclude-unused-npm",
    ...permissionFlags(permissions),
    ...INCLUDES.flatMap((path) => ["--include", path]),
    ...(options.target ? ["--target", options.target] : []),
    ...(options.envFile ? [`--env-file=${options.envFile}`] : []),
    "--output",
    options.output,
    ENTRYPOINT,
  ];
}

/** What one invocation of this script should build. */
export interface CompilePlan {
  /** One `deno compile` argument list per executable. */
  builds: { target?: Target; output: string; args: string[] }[];
  /** The folder the executables go to. */
  outputDir: string;
  /** The env file to write, when there is a commit to embed. */
  envFile?: string;
  /** The commit to embed, if any. */
  commit?: string;
  /** Print the commands instead of running them. */
  dryRun: boolean;
}

/**
 * Parses this script's command line into a {@linkcode CompilePlan}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planCompile } from "./compile.ts";
 * const plan = planCompile(["--all", "--commit", "9cd5259"]);
 * assert.equal(plan.builds.length, 4);
 * assert.equal(plan.builds[0].output, "dist/reportd-x86_64-unknown-linux-gnu");
 * ```
 */
export function planCompile(argv: string[]): CompilePlan {
  const { values } = parseArgs({
    args: argv,
    options: {
      all: { type: "boolean", default: false },
      target: { type: "string" },
      output: { type: "string" },
      commit: { type: "string" },
      "database-hosts": { type: "string" },
      "dry-run": { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const commit = values.commit?.trim().toLowerCase() || undefined;
  if (commit !== undefined && !isCommit(commit)) {
    throw new Error(`Invalid --commit ${JSON.stringify(values.commit)}: expected a git commit id`);
  }
  if (values.target !== undefined && !(TARGETS as readonly string[]).includes(values.target)) {
    throw new Error(`Unknown --target ${values.target}; expected one of ${TARGETS.join(", ")}`);
  }
  if (values.all && values.target !== undefined) {
    throw new Error("Use --all or --target, not both");
  }
  const databaseHosts = (values["database-hosts"] ?? "").split(",").map((host) => host.trim())
    .filter((host) => host !== "");
  const badHost = databaseHosts.find((host) => !/^[A-Za-z0-9.-]+:\d{1,5}$/.test(host));
  if (badHost !== undefined) {
    throw new Error(
      `Invalid --database-hosts entry ${JSON.stringify(badHost)}: expected host:port`,
    );
  }
  const output = values.output ?? OUTPUT;
  const slash = output.lastIndexOf("/");
  const outputDir = slash === -1 ? "." : output.slice(0, slash);
  const envFile = commit === undefined ? undefined : `${outputDir}/${BUILD_ENV_FILE}`;
  const targets: (Target | undefined)[] = values.all
    ? [...TARGETS]
    : [values.target as Target | undefined];
  const builds = targets.map((target) => {
    const path = values.all ? `${output}-${target}` : output;
    return {
      target,
      output: path,
      args: compileArgs({ output: path, target, envFile, databaseHosts }),
    };
  });
  return { builds, outputDir, envFile, commit, dryRun: values["dry-run"] };
}

async function run(plan: CompilePlan): Promise<number> {
  if (plan.dryRun) {
    for (const build of plan.builds) console.log(["deno", ...build.args].join(" "));
    return 0;
  }
  // The `build` permission set may write under ./dist only.
  await Deno.mkdir(plan.outputDir, { recursive: true });
  if (plan.envFile !== undefined) {
    await Deno.writeTextFile(plan.envFile, `${BUILD_COMMIT_VARIABLE}=${plan.commit}\n`);
  }
  for (const build of plan.builds) {
    // `deno` from PATH, the only program the `build` permission set may run.
    const { code } = await new Deno.Command("deno", { args: build.args }).spawn().status;
    if (code !== 0) return code;
  }
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await run(planCompile(Deno.args)));
  } catch (error) {
    console.error((error as Error).message);
    Deno.exit(2);
  }
}
