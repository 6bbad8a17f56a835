/**
 * `main.ts copy-to-postgres`: a SQLite deployment with reports, series, a
 * queued job and its upload, an API key, an idempotency key and an upstream
 * cache entry moves onto an empty PostgreSQL database, verified, and a
 * PostgreSQL instance then serves it all (and finishes the queued job).
 */
import assert from "node:assert/strict";
import { appendUploadChunk, enqueueReport } from "../../db/jobs_repo.ts";
import { closeDatabase, openDatabase, querySql } from "../../db/mod.ts";
import { putCachedAnswer } from "../../db/upstream_cache_repo.ts";
import { queuedRecord } from "../helpers/engines.ts";
import { generateCsv } from "../helpers/generate.ts";
import { pollReport } from "../helpers/poll.ts";
import { postgresSkipReason, testDatabase } from "../helpers/postgres.ts";
import { makeDataDir, runCli, startServer } from "../helpers/server_process.ts";

const SKIP = postgresSkipReason();

Deno.test({
  name: "e2e: copy-to-postgres moves every table, verified, and refuses a non-empty target",
  ignore: SKIP !== undefined,
  async fn() {
    const dataDir = await makeDataDir();
    await using database = await testDatabase();
    try {
      const sqlite = `${dataDir}/reportd.db`;
      const created = await runCli(["keys", "create", "--scopes", "admin", "--name", "ops"], {
        env: { REPORTD_DB: sqlite },
      });
      assert.equal(created.code, 0, created.stderr);
      const auth = { authorization: `Bearer ${created.stdout.trim()}` };
      // Two ready reports (one sent with an Idempotency-Key), as SQLite serves them.
      const before: Record<string, unknown>[] = [];
      {
        await using server = await startServer({ dataDir });
        for (const [rows, key] of [[500, "retry-1"], [800, undefined]] as const) {
          const res = await fetch(`${server.baseUrl}/v1/reports`, {
            method: "POST",
            body: generateCsv(rows),
            headers: {
              ...auth,
              "content-type": "text/csv",
              ...(key === undefined ? {} : { "idempotency-key": key }),
            },
          });
          assert.equal(res.status, 202);
          const { id } = await res.json();
          before.push(await pollReport(server.baseUrl, id, { headers: auth }));
        }
        assert.equal((await server.stop("SIGTERM")).code, 0);
      }
      // A queued job with its upload, and an upstream answer, written as the
      // service would while it ran.
      const queuedId = "01900000-0000-7000-8000-000000000001";
      const csv = new TextEncoder().encode(generateCsv(300));
      {
        const db = await openDatabase(sqlite);
        await appendUploadChunk(db, "upload-1", { seq: 0, data: csv });
        const now = new Date().toISOString();
        await enqueueReport(db, queuedRecord(queuedId, { name: "queued before the move", now }), {
          job: { uploadId: "upload-1", format: "csv", bytes: csv.byteLength, nameFromBody: false },
        });
        await putCachedAnswer(db, "stooq", {
          key: "avgo.us",
          body: new Uint8Array([0, 1, 254, 255]),
          fetchedAt: now,
          expiresAt: now,
        });
        await closeDatabase(db);
      }

      const env = { REPORTD_DB: sqlite, REPORTD_DATABASE_URL: database.url };
      const copied = await runCli(["copy-to-postgres"], { env });
      assert.equal(copied.code, 0, copied.stderr);
      assert.match(copied.stdout, /reports\s+3 rows\s+sha256 [0-9a-f]{64}/);
      assert.match(copied.stdout, /series_columns\s+\d+ rows/);
      assert.match(copied.stdout, /upload_chunks\s+1 rows/);
      assert.match(copied.stdout, /jobs\s+1 rows/);
      assert.match(copied.stdout, /idempotency_keys\s+1 rows/);
      assert.match(copied.stdout, /api_keys\s+1 rows/);
      assert.match(copied.stdout, /upstream_cache\s+1 rows/);
      assert.match(copied.stdout, /Copied and verified \d+ rows in 7 tables/);
      assert.ok(!copied.stdout.includes("password"));

      // Again: the target is not empty now, and nothing changes.
      const again = await runCli(["copy-to-postgres"], { env });
      assert.equal(again.code, 1);
      const lines = reportdLines(again.stderr);
      assert.equal(lines.length, 1, again.stderr);
      assert.match(lines[0], /is not empty \(reports: 3 rows/);

      // A PostgreSQL instance serves the copy: same reports, same series, the
      // key works, the idempotency key replays, the queued job is finished.
      await using server = await startServer({ env: { REPORTD_DATABASE_URL: database.url } });
      for (const report of before) {
        const id = String(report.id);
        assert.deepEqual(await json(`${server.baseUrl}/v1/reports/${id}`, auth), report);
      }
      const replay = await fetch(`${server.baseUrl}/v1/reports`, {
        method: "POST",
        body: generateCsv(500),
        headers: { ...auth, "content-type": "text/csv", "idempotency-key": "retry-1" },
      });
      assert.equal(replay.status, 200);
      assert.equal((await replay.json()).id, before[0].id);
      const finished = await pollReport(server.baseUrl, queuedId, { headers: auth });
      assert.equal((finished.rows as { accepted: number }).accepted, 300);
      const db = await openDatabase(database.url, { migrate: false, poolSize: 1 });
      try {
        const [cached] = await querySql(db, "SELECT body FROM upstream_cache");
        assert.deepEqual(
          new Uint8Array(cached.body as Uint8Array),
          new Uint8Array([0, 1, 254, 255]),
        );
      } finally {
        await closeDatabase(db);
      }
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test("e2e: copy-to-postgres without a target database is one clear line", async () => {
  const result = await runCli(["copy-to-postgres"], {
    env: { REPORTD_DB: "./data/none.db" },
  });
  assert.equal(result.code, 1);
  assert.deepEqual(reportdLines(result.stderr), [
    "copy-to-postgres needs REPORTD_DATABASE_URL: the empty PostgreSQL database",
  ]);
});

async function json(
  url: string,
  headers: Record<string, string>,
): Promise<Record<string, unknown>> {
  return await (await fetch(url, { headers })).json();
}

// Deno's own warning about permissions in deno.json aside, what reportd printed.
function reportdLines(stderr: string): string[] {
  return stderr.trim().split("\n").filter((line) => !line.includes("Warning"));
}
