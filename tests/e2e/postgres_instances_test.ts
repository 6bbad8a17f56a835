import assert from "node:assert/strict";
import pg from "pg";
import { generateCsv } from "../helpers/generate.ts";
import { pollReport } from "../helpers/poll.ts";
import { postgresSkipReason, testDatabase } from "../helpers/postgres.ts";
import { startServer } from "../helpers/server_process.ts";

async function jobRow(url: string, id: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query(
      "SELECT r.status, j.locked_by, j.attempts FROM reports r " +
        "LEFT JOIN jobs j ON j.report_id = r.id WHERE r.id = $1",
      [id],
    );
    return result.rows[0] as { status: string; locked_by: string | null; attempts: number };
  } finally {
    await client.end();
  }
}

Deno.test({
  name: "e2e: kill -9 of the instance holding a job; a living instance takes it over, no restart",
  ignore: postgresSkipReason() !== undefined,
  async fn() {
    await using database = await testDatabase();
    const env = {
      REPORTD_DATABASE_URL: database.url,
      REPORTD_JOB_LEASE: "3s",
      REPORTD_WORKERS: "1",
      REPORTD_MAX_POINTS: "2000000",
      REPORTD_MAX_BODY_BYTES: String(64 * 1024 * 1024),
    };
    // Two instances on one database; the job goes to whichever claims it.
    await using one = await startServer({ env });
    await using two = await startServer({ env });
    const accepted = await fetch(`${one.baseUrl}/v1/reports`, {
      method: "POST",
      body: generateCsv(1_000_000),
      headers: { "content-type": "text/csv" },
    });
    assert.equal(accepted.status, 202);
    const { id } = await accepted.json();
    let held = await jobRow(database.url, id);
    while (held.locked_by === null) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      held = await jobRow(database.url, id);
    }
    // locked_by is "pid-<pid>-<random>": the instance to kill.
    const [holder, survivor] = held.locked_by.startsWith(`pid-${one.pid}-`)
      ? [one, two]
      : [two, one];
    assert.ok(held.locked_by.startsWith(`pid-${holder.pid}-`), held.locked_by);
    await holder.stop("SIGKILL");

    const report = await pollReport(survivor.baseUrl, id, { timeoutMs: 60_000, intervalMs: 50 });
    assert.equal(report.status, "ready", "Taken over by the living instance, without a restart");
    assert.equal(report.summary.points, 1_000_000);
    const after = await jobRow(database.url, id);
    assert.equal(after.locked_by, null, "The job row is gone once ready");
    assert.ok(
      survivor.logs.some((line) => line.includes("whose lease expired")),
      "The survivor's lease sweep freed the job",
    );
    const list = await (await fetch(`${survivor.baseUrl}/v1/reports`)).json();
    assert.equal(list.items.filter((item: { id: string }) => item.id === id).length, 1);
  },
});
