import assert from "node:assert/strict";
import { runCli } from "../helpers/server_process.ts";

Deno.test("A database host outside the permission set is one line and exit 1; no password shown", async () => {
  const env = { REPORTD_DATABASE_URL: "postgres://app:hunter2@db.example.com:5432/reportd" };
  const served = await runCli(["serve"], { env: { ...env, PORT: "0", LOG_FORMAT: "json" } });
  assert.equal(served.code, 1);
  const output = served.stdout + served.stderr;
  const errors = output.split("\n").filter((line) => line.includes('"level":"ERROR"'));
  assert.equal(errors.length, 1, output);
  assert.match(errors[0], /db\.example\.com:5432, which the permission set does not allow/);
  assert.doesNotMatch(output, /hunter2| {4}at /);
  const help = await runCli(["--help"], { env });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /REPORTD_DATABASE_URL/);
  assert.doesNotMatch(help.stdout, /hunter2/);
  const migrate = await runCli(["migrate"], { env });
  assert.equal(migrate.code, 1);
  assert.doesNotMatch(migrate.stdout + migrate.stderr, /hunter2| {4}at /);
});
