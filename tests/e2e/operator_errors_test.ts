/**
 * Operator mistakes against the real CLI under the production permission
 * set: each is one line on stderr that says what to do, and exit code 1;
 * never a stack trace, never a server that starts anyway.
 *
 * @module
 */
import assert from "node:assert/strict";
import { makeDataDir, REPO_ROOT, RUN_ARGS } from "../helpers/server_process.ts";

/** Runs `main.ts args`, killed after 30 s so a server that starts by mistake fails the test. */
async function run(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; lines: string[] }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...RUN_ARGS, ...args],
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1", HOST: "127.0.0.1", PORT: "0", LOG_FORMAT: "json", ...env },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  // Deno's own notice about permissions in deno.json is not reportd's output.
  const lines = stderr.split("\n").filter((line) =>
    line.trim() !== "" && !line.includes("Permissions in the config file is an experimental")
  );
  return { code: output.code, stdout: new TextDecoder().decode(output.stdout), lines };
}

function assertOneClearLine(lines: string[], pattern: RegExp): void {
  assert.equal(lines.length, 1, `Expected one line, got:\n${lines.join("\n")}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(lines[0], /^\s+at |NotCapable|--allow-write|Uncaught/);
}

Deno.test("e2e: REPORTD_DB outside the permission set says which folder is granted", async () => {
  for (const path of ["/tmp/reportd-elsewhere/reports.db", "reports.db"]) {
    const result = await run(["serve"], { REPORTD_DB: path });
    assert.equal(result.code, 1, path);
    assertOneClearLine(result.lines, /is outside the folders reportd may .*\(\.\/data\)/);
    assert.match(result.lines[0], /permissions\.default\.read and \.write in deno\.json/);
  }
  // The other commands that open the database say the same.
  const migrate = await run(["migrate"], { REPORTD_DB: "/tmp/reportd-elsewhere/reports.db" });
  assert.equal(migrate.code, 1);
  assertOneClearLine(migrate.lines, /outside the folders/);
  const keys = await run(["keys", "list"], { REPORTD_DB: "/tmp/reportd-elsewhere/reports.db" });
  assert.equal(keys.code, 1);
  assertOneClearLine(keys.lines, /outside the folders/);
});

Deno.test("e2e: a database that cannot be opened names the cause", async () => {
  const dataDir = await makeDataDir();
  try {
    // A folder where the database file should be.
    const result = await run(["serve"], { REPORTD_DB: dataDir });
    assert.equal(result.code, 1);
    // Logged (the logger is running by then), as one error line with the cause.
    const errors = result.stdout.split("\n").filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line)).filter((record) => record.level === "ERROR")
      .map((record) => String(record.message));
    assertOneClearLine(errors, /^Cannot open the database at .*: unable to open database file/);
    assert.deepEqual(result.lines, [], "Nothing on stderr, no stack trace");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
    // SQLite's process lock sits beside the path it was given: here, the folder.
    await Deno.remove(`${dataDir}.lock`).catch(() => {});
  }
});

Deno.test("e2e: a port in use is one line naming the address", async () => {
  const dataDir = await makeDataDir();
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const result = await run(["serve"], {
      REPORTD_DB: `${dataDir}/reportd.db`,
      PORT: String(listener.addr.port),
    });
    assert.equal(result.code, 1);
    assertOneClearLine(
      result.lines,
      new RegExp(`^Cannot listen on 127\\.0\\.0\\.1:${listener.addr.port}: the port is in use`),
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("e2e: --help anywhere on the command line prints help and starts nothing", async () => {
  for (
    const args of [["serve", "--help"], ["--help"], ["migrate", "-h"], ["keys", "create", "--help"]]
  ) {
    const result = await run(args, { REPORTD_DB: "/tmp/reportd-never/reports.db" });
    assert.equal(result.code, 0, args.join(" "));
    assert.match(result.stdout, /^reportd .*\n\nUsage: reportd \[command\]/, args.join(" "));
    assert.doesNotMatch(result.stdout, /Listening on/);
  }
});

Deno.test("e2e: a duration without a unit is refused, naming the variable", async () => {
  const dataDir = await makeDataDir();
  try {
    const result = await run(["serve"], {
      REPORTD_DB: `${dataDir}/reportd.db`,
      REPORTD_FAILED_RETENTION: "7",
    });
    assert.equal(result.code, 1);
    assertOneClearLine(
      result.lines,
      /^Invalid REPORTD_FAILED_RETENTION="7": expected a duration with a unit, like .*7d/,
    );
    // Nothing was opened, let alone cleaned up.
    assert.deepEqual([...Deno.readDirSync(dataDir)], []);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("e2e: the terminal shows a copyable address and a keys command that works", async () => {
  const dataDir = await makeDataDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: [...RUN_ARGS, "serve"],
    cwd: REPO_ROOT,
    env: {
      NO_COLOR: "1",
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_FORMAT: "pretty",
      REPORTD_DB: `${dataDir}/reportd.db`,
    },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    let text = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      text += decoder.decode(chunk, { stream: true });
      if (/Listening on .*\n/.test(text)) break;
    }
    // The pretty format colours values; what a reader copies is the text.
    // deno-lint-ignore no-control-regex
    text = text.replace(/\x1b\[[0-9;]*m/g, "");
    assert.match(text, /Listening on http:\/\/127\.0\.0\.1:\d+[\s(]/);
    // The open-mode hint names a command that exists under `deno task` too.
    assert.match(text, /`deno run -P main\.ts keys create --scopes read,write --name <name>`/);
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await child.stdout.cancel().catch(() => {});
    await Deno.remove(dataDir, { recursive: true });
  }
});
