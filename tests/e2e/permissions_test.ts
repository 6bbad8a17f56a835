/**
 * Least privilege, proven: the real server runs under the production
 * permission set (`deno run -P`, which is `permissions.default` in deno.json,
 * the set the compiled binary embeds) while a probe in the same process tries
 * what it must not be able to do. Each attempt must fail with `NotCapable`,
 * Deno's refusal, and each thing the server needs must still work.
 *
 * @module
 */
import assert from "node:assert/strict";
import { makeDataDir, REPO_ROOT } from "../helpers/server_process.ts";

const PROBE = "tests/fixtures/permission_probe.ts";

Deno.test("e2e: under the production permission set the server can do only what it needs", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}deno.json`));
  const production = config.permissions.default;
  // The assertions below are only meaningful for what the set restricts.
  assert.ok(Array.isArray(production.read) && Array.isArray(production.write));
  assert.ok(Array.isArray(production.net), "net is restricted to named hosts");
  assert.ok(Array.isArray(production.env), "env is restricted to named variables");
  for (const never of ["run", "ffi", "sys", "import"]) {
    assert.equal(production[never], undefined, `permissions.default grants ${never}`);
  }

  const dataDir = await makeDataDir();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      // -P: exactly permissions.default, as RUN_ARGS in server_process.ts and
      // tools/compile.ts use it.
      args: ["run", "-P", PROBE],
      cwd: REPO_ROOT,
      clearEnv: true,
      env: {
        NO_COLOR: "1",
        PORT: String(port),
        HOST: "127.0.0.1",
        REPORTD_DB: `${dataDir}/reportd.db`,
        LOG_FORMAT: "json",
        REPORTD_WORKERS: "1",
        // Present in the environment, yet unreadable.
        HOME: "/root",
        PATH: "/usr/bin:/bin",
        AWS_SECRET_ACCESS_KEY: "probe-secret-value",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(output.stdout);
    const stderr = new TextDecoder().decode(output.stderr);
    const line = stdout.split("\n").find((text) => text.startsWith("PROBE "));
    assert.ok(line, `The probe printed no result (exit ${output.code}):\n${stderr}\n${stdout}`);
    const outcomes: Record<string, string> = JSON.parse(line.slice("PROBE ".length));

    const allowed = Object.keys(outcomes).filter((name) => name.startsWith("allowed: "));
    assert.ok(allowed.length >= 4);
    for (const name of allowed) assert.equal(outcomes[name], "ok", name);
    const refused = Object.keys(outcomes).filter((name) => !name.startsWith("allowed: "));
    assert.ok(refused.length >= 20, "Every kind of attempt is probed");
    for (const name of refused) assert.equal(outcomes[name], "NotCapable", name);
    assert.ok(!stdout.includes("probe-secret-value"), "A variable it may not read was logged");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
    // Written only if the set failed to refuse it; removed so nothing is left behind.
    await Deno.remove("/tmp/reportd-probe.txt").catch(() => {});
    await Deno.remove(`${REPO_ROOT}probe.txt`).catch(() => {});
  }
});
