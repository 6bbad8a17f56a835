import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { generateCsv } from "../helpers/generate.ts";
import { pollReport, type ReportBody } from "../helpers/poll.ts";
import { makeDataDir, type ServerProcess, startServer } from "../helpers/server_process.ts";

const BIG = { REPORTD_MAX_POINTS: "2000000", REPORTD_MAX_BODY_BYTES: String(64 * 1024 * 1024) };

async function upload(server: ServerProcess, body: string): Promise<string> {
  const res = await fetch(`${server.baseUrl}/v1/reports`, {
    method: "POST",
    body,
    headers: { "content-type": "text/csv" },
  });
  assert.equal(res.status, 202);
  return (await res.json()).id;
}

async function seriesOf(server: ServerProcess, id: string): Promise<unknown> {
  return await (await fetch(`${server.baseUrl}/v1/reports/${id}/series?points=500`)).json();
}

function comparable(report: ReportBody): unknown {
  return { rows: report.rows, summary: report.summary };
}

function readStatuses(dataDir: string): Record<string, string> {
  const db = new DatabaseSync(`${dataDir}/reportd.db`);
  try {
    const rows = db.prepare("SELECT id, status FROM reports").all() as {
      id: string;
      status: string;
    }[];
    return Object.fromEntries(rows.map((row) => [row.id, row.status]));
  } finally {
    db.close();
  }
}

function integrityCheck(dataDir: string): string {
  const db = new DatabaseSync(`${dataDir}/reportd.db`);
  try {
    return (db.prepare("PRAGMA integrity_check").get() as { integrity_check: string })
      .integrity_check;
  } finally {
    db.close();
  }
}

Deno.test("e2e: kill -9 during processing loses nothing; the restart finishes the job identically", async () => {
  const dataDir = await makeDataDir();
  try {
    const csv = generateCsv(1_000_000);
    const ids: string[] = [];
    {
      await using first = await startServer({ dataDir, env: { ...BIG, REPORTD_WORKERS: "1" } });
      ids.push(await upload(first, csv), await upload(first, csv));
      await pollReport(first.baseUrl, ids[0], {
        until: (report) => report.status !== "queued",
        intervalMs: 2,
      });
      await first.stop("SIGKILL");
    }
    const atKill = readStatuses(dataDir);
    assert.ok(
      ids.some((id) => atKill[id] === "processing" || atKill[id] === "queued"),
      `Some job was unfinished when the process died: ${JSON.stringify(atKill)}`,
    );

    await using second = await startServer({ dataDir, env: BIG });
    const recovered = await Promise.all(ids.map((id) => pollReport(second.baseUrl, id)));
    const reference = await pollReport(second.baseUrl, await upload(second, csv));
    for (const report of recovered) {
      assert.equal(report.status, "ready");
      assert.deepEqual(comparable(report), comparable(reference));
      assert.deepEqual(await seriesOf(second, report.id), await seriesOf(second, reference.id));
    }
    assert.equal((await second.stop("SIGTERM")).code, 0);
    assert.equal(integrityCheck(dataDir), "ok");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("e2e: SIGTERM under load: complete responses only, exit 0, queued work survives", async () => {
  const dataDir = await makeDataDir();
  try {
    const csv = generateCsv(50_000);
    const accepted: string[] = [];
    {
      await using server = await startServer({
        dataDir,
        env: { REPORTD_WORKERS: "1", REPORTD_SHUTDOWN_TIMEOUT: "20s" },
      });
      // Some uploads first, so the queue is busy when the signal arrives.
      for (let i = 0; i < 4; i++) accepted.push(await upload(server, csv));
      const requests = Array.from(
        { length: 24 },
        (_, i) =>
          (i % 3 === 0
            ? fetch(`${server.baseUrl}/v1/reports`, {
              method: "POST",
              body: csv,
              headers: { "content-type": "text/csv" },
            })
            : fetch(`${server.baseUrl}/v1/reports?limit=5`))
            .then(async (res) => ({ status: res.status, body: await res.json() }))
            .catch((error: Error) => ({ status: 0, body: error.message })),
      );
      const firstAnswer = Promise.race(requests);
      await firstAnswer;
      const stopping = server.stop("SIGTERM");
      const results = await Promise.all(requests);
      const status = await stopping;
      assert.equal(status.code, 0);
      for (const result of results) {
        if (result.status === 0) continue; // Never answered: refused once shutdown began.
        assert.ok(
          [200, 202, 503].includes(result.status),
          `Unexpected ${result.status}: ${JSON.stringify(result.body)}\n${
            server.logs.filter((l) => /rror/.test(l)).join("\n")
          }`,
        );
        // A complete response parses as a whole JSON document.
        assert.equal(typeof result.body, "object");
        if (result.status === 202) accepted.push(result.body.id);
      }
      const messages = server.logs.map((line) => JSON.parse(line).message);
      assert.ok(messages.includes("Stopped cleanly"));
    }
    const statuses = readStatuses(dataDir);
    for (const id of accepted) assert.ok(statuses[id], `Accepted report ${id} was stored`);

    await using again = await startServer({ dataDir });
    for (const id of accepted) {
      assert.equal((await pollReport(again.baseUrl, id)).status, "ready");
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("e2e: a second signal exits at once and the upload is still processed later", async () => {
  const dataDir = await makeDataDir();
  try {
    let id: string;
    {
      await using server = await startServer({
        dataDir,
        env: { ...BIG, REPORTD_WORKERS: "1", REPORTD_SHUTDOWN_TIMEOUT: "60s" },
      });
      id = await upload(server, generateCsv(1_000_000));
      await pollReport(server.baseUrl, id, {
        until: (report) => report.status === "processing",
        intervalMs: 2,
      });
      const exited = server.stop("SIGTERM");
      // The first signal starts a drain that would wait for the job; the second cuts it short.
      await waitForLog(server, "Received {signal}: draining in-flight requests and jobs");
      // A different signal: a second SIGTERM this soon is taken as the task runner's
      // forwarded copy of the first (main.ts, SECOND_SIGNAL_GRACE_MS; signals_test.ts).
      Deno.kill(server.pid, "SIGINT");
      const status = await exited;
      assert.equal(status.code, 1);
    }
    await using again = await startServer({ dataDir, env: BIG });
    assert.equal((await pollReport(again.baseUrl, id)).status, "ready");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

async function waitForLog(server: ServerProcess, message: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!server.logs.some((line) => JSON.parse(line).message === message)) {
    if (Date.now() > deadline) throw new Error(`No log line "${message}"`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

Deno.test("e2e: kill -9 right after the 202s: every acknowledged small upload survives (group commit)", async () => {
  const dataDir = await makeDataDir();
  try {
    const points = Array.from({ length: 100 }, (_, i) => ({ t: 1577836800 + i * 60, value: i }));
    const body = JSON.stringify({ name: "small", points });
    const acknowledged: string[] = [];
    {
      await using first = await startServer({
        dataDir,
        env: { REPORTD_MAX_INFLIGHT_UPLOADS: "64", REPORTD_WORKERS: "1" },
      });
      // 64 uploads at once; the process dies the moment the 16th is
      // acknowledged, with the rest anywhere between sent and committed.
      const enough = Promise.withResolvers<void>();
      const uploads = Array.from({ length: 64 }, async () => {
        const res = await fetch(`${first.baseUrl}/v1/reports`, {
          method: "POST",
          body,
          headers: { "content-type": "application/json" },
        });
        if (res.status !== 202) {
          await res.body?.cancel();
          return;
        }
        acknowledged.push((await res.json()).id);
        if (acknowledged.length >= 16) enough.resolve();
      });
      const all = Promise.allSettled(uploads).then(() => enough.resolve());
      await enough.promise;
      await first.stop("SIGKILL");
      await all;
    }
    assert.ok(acknowledged.length >= 16);
    await using second = await startServer({ dataDir });
    const reports = await Promise.all(acknowledged.map((id) => pollReport(second.baseUrl, id)));
    for (const report of reports) {
      assert.equal(report.status, "ready", JSON.stringify(report));
      assert.equal(report.summary?.points, 100);
    }
    assert.equal((await second.stop("SIGTERM")).code, 0);
    assert.equal(integrityCheck(dataDir), "ok");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
