import assert from "node:assert/strict";
import { pollReport } from "../helpers/poll.ts";
import { makeDataDir, runCli, startServer } from "../helpers/server_process.ts";

const CSV = "timestamp,value\n2020-01-01,1\n2020-01-02,2\n2020-01-03,\n2020-01-04,4\n";

Deno.test("e2e: a real process serves reports in every form and stops on SIGTERM", async () => {
  await using server = await startServer({ env: { REPORTD_MAX_BODY_BYTES: "4096" } });
  const created = await fetch(`${server.baseUrl}/v1/reports?name=e2e`, {
    method: "POST",
    body: CSV,
    headers: { "content-type": "text/csv" },
  });
  assert.equal(created.status, 202);
  const report = await created.json();
  const location = created.headers.get("location");
  assert.equal(location, `/v1/reports/${report.id}`);

  const ready = await pollReport(server.baseUrl, report.id);
  assert.equal(ready.status, "ready");
  assert.equal(ready.summary.columns.value.count, 3);

  const json = await (await fetch(`${server.baseUrl}${location}/series`)).json();
  assert.deepEqual(json.columns.value, [1, 2, null, 4]);
  const csv = await (await fetch(`${server.baseUrl}${location}/series?format=csv`)).text();
  assert.equal(csv.trim().split(/\r?\n/)[3], "2020-01-03T00:00:00.000Z,");
  const uplot = await (await fetch(`${server.baseUrl}${location}/series?format=uplot`)).json();
  assert.equal(uplot.length, 2);
  assert.equal(uplot[0][0], 1577836800);

  const unsupported = await fetch(`${server.baseUrl}/v1/reports`, {
    method: "POST",
    body: "hello",
    headers: { "content-type": "text/plain" },
  });
  assert.equal(unsupported.status, 415);
  assert.equal(unsupported.headers.get("content-type"), "application/problem+json");
  await unsupported.body?.cancel();

  const tooLarge = await fetch(`${server.baseUrl}/v1/reports`, {
    method: "POST",
    body: "t,v\n" + "2020-01-01,1\n".repeat(1000),
    headers: { "content-type": "text/csv" },
  });
  assert.equal(tooLarge.status, 413);
  assert.equal((await tooLarge.json()).type, "/problems/payload-too-large");

  const status = await server.stop("SIGTERM");
  assert.equal(status.code, 0);
  const messages = server.logs.map((line) => JSON.parse(line).message as string);
  const received = server.logs.map((line) => JSON.parse(line)).find((record) =>
    record.message.startsWith("Received")
  );
  assert.equal(received?.signal, "SIGTERM");
  assert.equal(messages.at(-1), "Stopped cleanly");
});

Deno.test("e2e: a report survives a restart on the same database", async () => {
  const dataDir = await makeDataDir();
  try {
    let id: string;
    {
      await using first = await startServer({ dataDir });
      const res = await fetch(`${first.baseUrl}/v1/reports`, {
        method: "POST",
        body: CSV,
        headers: { "content-type": "text/csv" },
      });
      id = (await res.json()).id;
      await pollReport(first.baseUrl, id);
      assert.equal((await first.stop()).code, 0);
    }
    await using second = await startServer({ dataDir });
    const res = await fetch(`${second.baseUrl}/v1/reports/${id}`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).id, id);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("e2e: healthcheck exits 0 against a live server and 1 against nothing", async () => {
  await using server = await startServer();
  const healthy = await runCli(["healthcheck"], { env: { PORT: String(server.port) } });
  assert.equal(healthy.code, 0, healthy.stderr);
  await server.stop();
  const unhealthy = await runCli(["healthcheck"], { env: { PORT: String(server.port) } });
  assert.equal(unhealthy.code, 1);
  assert.match(unhealthy.stderr, /Unhealthy/);
});

Deno.test("e2e: --version, --help and an unknown command", async () => {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  const version = await runCli(["--version"]);
  assert.equal(version.code, 0);
  assert.equal(version.stdout.trim(), `reportd ${denoJson.version}`);
  const help = await runCli(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /REPORTD_MAX_POINTS/);
  const unknown = await runCli(["frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown command "frobnicate"/);
});

Deno.test("e2e: an invalid variable prints one line naming it and exits 1", async () => {
  const result = await runCli(["serve"], { env: { PORT: "not-a-port" } });
  assert.equal(result.code, 1);
  const lines = result.stderr.split("\n").filter((line) => line.startsWith("Invalid"));
  assert.deepEqual(lines, ['Invalid PORT="not-a-port": expected a whole number']);
});

Deno.test("e2e: migrate brings a new database to the current schema and exits 0", async () => {
  const dataDir = await makeDataDir();
  try {
    const result = await runCli(["migrate"], {
      env: { REPORTD_DB: `${dataDir}/reportd.db`, LOG_FORMAT: "json" },
    });
    assert.equal(result.code, 0, result.stderr);
    const line = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
    assert.equal(line.from, 0);
    assert.ok(line.to >= 1);
    const again = await runCli(["migrate"], {
      env: { REPORTD_DB: `${dataDir}/reportd.db`, LOG_FORMAT: "json" },
    });
    assert.equal(JSON.parse(again.stdout.trim().split("\n").at(-1)!).count, 0);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
