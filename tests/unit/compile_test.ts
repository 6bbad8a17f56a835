import assert from "node:assert/strict";
import denoConfig from "../../deno.json" with { type: "json" };
import {
  compileArgs,
  INCLUDES,
  permissionFlags,
  type PermissionSet,
  planCompile,
  TARGETS,
} from "../../tools/compile.ts";
import {
  filesUnder,
  isIncluded,
  runtimeModules,
  sourceFiles,
  textAssets,
} from "../helpers/build_manifest.ts";
import { REPO_ROOT, RUN_ARGS } from "../helpers/server_process.ts";

const DEFAULT_SET = denoConfig.permissions.default as PermissionSet;

Deno.test("permissionFlags writes each form of a permission as the matching flag", () => {
  assert.deepEqual(
    permissionFlags({
      read: ["./data", "/etc/hosts"],
      write: false,
      net: true,
      env: [],
      sys: { allow: ["hostname"], deny: true },
      run: { ignore: ["x"] },
    }),
    [
      "--allow-read=./data,/etc/hosts",
      "--allow-net",
      "--allow-sys=hostname",
      "--deny-sys",
      "--ignore-run=x",
    ],
  );
  assert.deepEqual(permissionFlags({ all: true, read: ["./data"] }), ["--allow-all"]);
});

Deno.test("permissionFlags refuses what it cannot express faithfully", () => {
  assert.throws(() => permissionFlags({ camera: true }), /Unknown permission "camera"/);
  assert.throws(() => permissionFlags({ read: ["a,b"] }), /contains a comma/);
});

Deno.test("the executable gets exactly the production permission set, paths left relative", () => {
  const args = compileArgs({ output: "dist/reportd" });
  const permissionArgs = args.filter((arg) => /^--(allow|deny|ignore)-/.test(arg));
  assert.deepEqual(permissionArgs, permissionFlags(DEFAULT_SET));
  // Relative paths must reach deno compile as written: resolved against the
  // working directory when the binary starts (docs/decisions/0010).
  for (const path of [...(DEFAULT_SET.read as string[]), ...(DEFAULT_SET.write as string[])]) {
    assert.ok(path.startsWith("./"), `${path} should be relative`);
    assert.ok(permissionArgs.some((arg) => arg.split("=")[1]?.split(",").includes(path)));
  }
  assert.ok(!args.includes("-P") && !args.some((arg) => arg.startsWith("--permission-set")));
  assert.ok(args.includes("--no-prompt"));
  assert.equal(args.at(-1), "main.ts");
});

Deno.test("the e2e runner and the executable use the same permission set", () => {
  // `-P` with no name loads permissions.default, which compileArgs turns into flags.
  assert.deepEqual(RUN_ARGS, ["run", "-P", "main.ts"]);
  for (const name of ["start", "dev", "migrate"] as const) {
    assert.match(denoConfig.tasks[name], /^deno run -P (--watch )?main\.ts /);
  }
  assert.equal(denoConfig.tasks.compile, "deno run -P=build tools/compile.ts");
  assert.equal(denoConfig.tasks["compile:all"], "deno run -P=build tools/compile.ts --all");
});

Deno.test("every module loaded by URL at run time is included in the executable", async () => {
  const modules = await runtimeModules();
  for (const module of modules) {
    assert.ok(isIncluded(module), `${module} is loaded at run time but not in INCLUDES`);
  }
  // Each include names something that exists, or deno compile would fail.
  for (const include of INCLUDES) {
    const info = await Deno.stat(`${REPO_ROOT}${include}`);
    assert.equal(info.isDirectory, include.endsWith("/"), include);
  }
});

Deno.test("the included folders hold the migrations and page assets", async () => {
  const assets = await textAssets();
  for (const engine of ["sqlite", "postgres"]) {
    const folder = `db/${engine}/migrations`;
    assert.ok(assets.some((path) => path.startsWith(`${folder}/`) && path.endsWith(".sql")));
    for (const sql of (await filesUnder(folder)).filter((f) => f.endsWith(".sql"))) {
      assert.ok(assets.includes(sql), `${sql} is not imported as text`);
    }
  }
  assert.ok(assets.some((path) => path.startsWith("web/")));
  for (const asset of assets) assert.ok(isIncluded(asset), `${asset} is not included`);
});

Deno.test("the source scan sees the program's modules", async () => {
  // Guards the helpers above: an empty scan would make the checks vacuous.
  const files = await sourceFiles();
  assert.ok(files.includes("main.ts") && files.includes("db/sqlite/migrations/mod.ts"));
});

Deno.test("planCompile builds for the host by default and every target with --all", () => {
  const single = planCompile([]);
  assert.equal(single.builds.length, 1);
  assert.equal(single.builds[0].output, "dist/reportd");
  assert.equal(single.envFile, undefined);
  assert.ok(!single.builds[0].args.some((arg) => arg.startsWith("--env-file")));

  const all = planCompile(["--all", "--commit", "ABCDEF1234"]);
  assert.deepEqual(all.builds.map((build) => build.target), [...TARGETS]);
  assert.deepEqual(
    all.builds.map((build) => build.output),
    TARGETS.map((target) => `dist/reportd-${target}`),
  );
  assert.equal(all.commit, "abcdef1234");
  assert.equal(all.envFile, "dist/build.env");
  for (const build of all.builds) {
    assert.deepEqual(build.args.slice(build.args.indexOf("--target"), -3), [
      "--target",
      build.target,
      "--env-file=dist/build.env",
    ]);
  }

  const custom = planCompile(["--target", "aarch64-apple-darwin", "--output", "dist/x/reportd"]);
  assert.equal(custom.outputDir, "dist/x");
  assert.equal(custom.builds[0].target, "aarch64-apple-darwin");
});

Deno.test("planCompile adds --database-hosts to the executable's net permission only", () => {
  const plan = planCompile(["--database-hosts", "postgres:5432, db.example.com:6432"]);
  const net = plan.builds[0].args.find((arg) => arg.startsWith("--allow-net="));
  assert.deepEqual(
    net?.slice("--allow-net=".length).split(","),
    [...(DEFAULT_SET.net as string[]), "postgres:5432", "db.example.com:6432"],
  );
  assert.throws(
    () => planCompile(["--database-hosts", "postgres"]),
    /Invalid --database-hosts entry "postgres": expected host:port/,
  );
});

Deno.test("planCompile rejects a bad commit, an unknown target and conflicting options", () => {
  assert.throws(() => planCompile(["--commit", "main"]), /Invalid --commit "main"/);
  assert.throws(() => planCompile(["--target", "riscv"]), /Unknown --target riscv/);
  assert.throws(() => planCompile(["--all", "--target", TARGETS[0]]), /--all or --target/);
  assert.throws(() => planCompile(["--frobnicate"]));
});
