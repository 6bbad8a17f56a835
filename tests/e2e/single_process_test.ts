import assert from "node:assert/strict";
import { enqueueReport } from "../../db/jobs_repo.ts";
import { closeDatabase, openDatabase, querySql } from "../../db/mod.ts";
import { record } from "../helpers/engines.ts";
import { generateCsv } from "../helpers/generate.ts";
import { pollReport } from "../helpers/poll.ts";
import { makeDataDir, runCli, startServer } from "../helpers/server_process.ts";

/**
 * Writes a queued report whose job points at an upload that is not stored,
 * as a process would leave it; `status` then overrides the report's state.
 */
async function queueWithoutUpload(
  path: string,
  id: string,
  options: { bytes: number; status?: string },
): Promise<void> {
  const db = await openDatabase(path);
  try {
    await enqueueReport(db, { ...record(id, "queued"), rowCounts: null, summary: null }, {
      job: { uploadId: `missing-${id}`, format: "csv", bytes: options.bytes, nameFromBody: false },
    });
    if (options.status !== undefined) {
      await querySql(db, "UPDATE reports SET status = ? WHERE id = ?", [options.status, id]);
    }
  } finally {
    await closeDatabase(db);
  }
}

Deno.test("e2e: a second process on the same SQLite file refuses to start and touches nothing", async () => {
  await using first = await startServer({ env: { REPORTD_WORKERS: "1" } });
  // An upload still arriving: its first chunks are stored, no job yet.
  const body = new TransformStream<Uint8Array, Uint8Array>();
  const writer = body.writable.getWriter();
  const csv = new TextEncoder().encode(generateCsv(200_000));
  const half = Math.floor(csv.byteLength / 2);
  const answer = fetch(`${first.baseUrl}/v1/reports`, {
    method: "POST",
    body: body.readable,
    headers: { "content-type": "text/csv" },
  });
  await writer.write(csv.subarray(0, half));

  const second = await runCli(["serve"], {
    env: { PORT: "0", HOST: "127.0.0.1", REPORTD_DB: `${first.dataDir}/reportd.db` },
  });
  assert.equal(second.code, 1);
  const lines = (second.stdout + second.stderr).split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("Warning"));
  const errors = lines.filter((line) => line.includes('"level":"ERROR"'));
  assert.equal(errors.length, 1, lines.join("\n"));
  assert.match(errors[0], new RegExp(`is in use by reportd pid ${first.pid} `));
  assert.doesNotMatch(second.stdout + second.stderr, /Listening on|at Object| {4}at /);

  // The first one's upload finishes and is processed as if nothing happened.
  await writer.write(csv.subarray(half));
  await writer.close();
  const accepted = await answer;
  assert.equal(accepted.status, 202);
  const { id } = await accepted.json();
  const report = await pollReport(first.baseUrl, id);
  assert.equal(report.status, "ready");
  assert.equal(report.summary.points, 200_000);
});

Deno.test("e2e: a persistent storage error fails the job after its attempts; the server stays responsive", async () => {
  const dataDir = await makeDataDir();
  try {
    // A queued job whose upload is missing: every attempt to read it fails.
    const id = "0190f5b8-0000-7000-8000-0000000000e6";
    await queueWithoutUpload(`${dataDir}/reportd.db`, id, { bytes: 1000 });

    await using server = await startServer({ dataDir, env: { REPORTD_JOB_ATTEMPTS: "3" } });
    const health = await fetch(`${server.baseUrl}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const report = await pollReport(server.baseUrl, id, { intervalMs: 50 });
    assert.equal(report.status, "failed");
    assert.match(report.error.detail, /Storage failed 3 time\(s\)/);
    const status = await server.stop("SIGTERM");
    assert.equal(status.code, 0, "SIGTERM is honoured");
    const storageErrors = server.logs.filter((line) => line.includes("hit a storage error"));
    assert.equal(storageErrors.length, 3, "Three attempts, not a loop");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("e2e: a start that cannot bind its port recovers no job", async () => {
  const dataDir = await makeDataDir();
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const id = "0190f5b8-0000-7000-8000-0000000000e7";
    await queueWithoutUpload(`${dataDir}/reportd.db`, id, { bytes: 0, status: "processing" });

    const failed = await runCli(["serve"], {
      env: {
        PORT: String((taken.addr as Deno.NetAddr).port),
        HOST: "127.0.0.1",
        REPORTD_DB: `${dataDir}/reportd.db`,
      },
    });
    assert.notEqual(failed.code, 0);
    const after = await openDatabase(`${dataDir}/reportd.db`);
    const [row] = await querySql(after, "SELECT status FROM reports WHERE id = ?", [id]);
    await closeDatabase(after);
    assert.equal(row.status, "processing", "The job was left as it was");
  } finally {
    taken.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
