/**
 * A full disk, for real: a 30 MB tmpfs mounted under ./data holds the
 * database of a real `main.ts serve`. Uploads fill it until one is refused
 * with 507; then reads keep working, `/readyz` says why it is not ready,
 * deletes work and give the space back, shutdown exits 0, and a restart on a
 * disk filled to the last byte serves again. Nothing acknowledged is lost.
 *
 * Mounting needs root (or CAP_SYS_ADMIN); CI and the project's machine have
 * it. Without it the test fails rather than skips: a test that cannot run
 * must say so.
 *
 * @module
 */
import assert from "node:assert/strict";
import { generateCsv } from "../helpers/generate.ts";
import { pollReport, pollUntil } from "../helpers/poll.ts";
import { makeDataDir, type ServerProcess, startServer } from "../helpers/server_process.ts";
import { closeDatabase, openDatabase, querySql } from "../../db/mod.ts";
import { enqueueReport } from "../../db/jobs_repo.ts";
import { WorkerPool } from "../../services/jobs/pool.ts";
import { JobQueue, type JobSettledDetail } from "../../services/jobs/queue.ts";
import { queuedRecord } from "../helpers/engines.ts";

const SIZE = "30m";
const RESERVE = String(4 * 1024 * 1024);

async function mountTmpfs(dir: string, size = SIZE): Promise<void> {
  const result = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
    stderr: "piped",
  }).output().catch((error) => ({
    success: false,
    stderr: new TextEncoder().encode(String(error)),
  }));
  if (!result.success) {
    throw new Error(
      `Cannot mount a ${size} tmpfs at ${dir} (${
        new TextDecoder().decode(result.stderr).trim()
      }); ` +
        "this test needs root or CAP_SYS_ADMIN to make a small filesystem it can fill",
    );
  }
}

async function unmount(dir: string): Promise<void> {
  await new Deno.Command("umount", { args: [dir] }).output();
}

async function upload(server: ServerProcess, body: Uint8Array<ArrayBuffer>): Promise<Response> {
  return await fetch(`${server.baseUrl}/v1/reports`, {
    method: "POST",
    body,
    headers: { "content-type": "text/csv" },
  });
}

/** Free bytes on the filesystem holding `dir`, as `df` sees them. */
async function availableBytes(dir: string): Promise<number> {
  const output = await new Deno.Command("df", { args: ["-B1", "--output=avail", dir] }).output();
  return Number(new TextDecoder().decode(output.stdout).trim().split("\n").at(-1));
}

/** Writes zeros to `path` until the filesystem refuses; returns the bytes written. */
async function fillDisk(path: string): Promise<number> {
  using file = await Deno.open(path, { write: true, create: true });
  const block = new Uint8Array(256 * 1024);
  let written = 0;
  try {
    for (;;) written += await file.write(block);
  } catch (error) {
    assert.match(String(error), /No space left|os error 28/);
  }
  // The last few bytes of a block: the filesystem is now full to the byte.
  for (let size = 1024; size >= 1; size = Math.floor(size / 2)) {
    try {
      written += await file.write(block.subarray(0, size));
    } catch {
      // Full at this size; try a smaller one.
    }
  }
  return written;
}

Deno.test("e2e: a full disk: 507, reads and deletes work, stop and restart succeed", async () => {
  const dataDir = await makeDataDir();
  let mounted = false;
  try {
    await mountTmpfs(dataDir);
    mounted = true;
    const env = { REPORTD_DISK_RESERVE: RESERVE, REPORTD_WORKERS: "1" };
    const accepted: string[] = [];
    const body = new TextEncoder().encode(generateCsv(60_000)); // about 1.3 MB
    {
      await using server = await startServer({ dataDir, env });
      let refused: Response | undefined;
      for (let i = 0; i < 60 && refused === undefined; i++) {
        const response = await upload(server, body);
        if (response.status === 202) {
          accepted.push((await response.json()).id);
        } else {
          refused = response;
        }
      }
      assert.ok(refused !== undefined, "The disk never filled");
      assert.equal(refused.status, 507, await refused.clone().text());
      assert.ok(Number(refused.headers.get("retry-after")) > 0);
      const problem = await refused.json();
      assert.equal(problem.type, "/problems/insufficient-storage");
      assert.ok(accepted.length >= 3, `Only ${accepted.length} uploads fit`);

      // Refused at once from now on, and readiness says why.
      const again = await upload(server, body);
      assert.equal(again.status, 507);
      await again.body?.cancel();
      const ready = await fetch(`${server.baseUrl}/readyz`);
      assert.equal(ready.status, 503);
      assert.match((await ready.json()).detail, /disk .* is full/);

      // Reads keep working.
      for (const id of accepted) {
        const report = await fetch(`${server.baseUrl}/v1/reports/${id}`);
        assert.equal(report.status, 200);
        await report.body?.cancel();
      }
      const list = await fetch(`${server.baseUrl}/v1/reports?limit=100`);
      assert.equal(list.status, 200);
      await list.body?.cancel();

      // A job reading its upload holds a read snapshot, and SQLite cannot
      // truncate the WAL under it, so the space would come back only later
      // (seen under coverage, where jobs run slower). The queue claims no new
      // job while the disk is full: wait until the one running has settled.
      await pollUntil("no job running while the disk is full", async () => {
        const page = await (await fetch(`${server.baseUrl}/v1/reports?status=processing`)).json();
        return page.items.length === 0 || undefined;
      }, { timeoutMs: 60_000, intervalMs: 100 });

      // Deletes work and give the space back to the filesystem.
      const before = await availableBytes(dataDir);
      // All but one: that one's job then has room to finish (with two kept,
      // the second job's result sometimes did not fit; it then waits, queued,
      // until more space is freed, which is right but not what this tests).
      const deleted = accepted.splice(0, accepted.length - 1);
      for (const id of deleted) {
        const response = await fetch(`${server.baseUrl}/v1/reports/${id}`, { method: "DELETE" });
        assert.equal(response.status, 204, await response.text());
      }
      // Measured on the filesystem, not on the file: the checkpoint after the
      // deletes also moves the WAL's pages into it.
      const after = await availableBytes(dataDir);
      // The reserve was written again out of what came back, so it counts.
      assert.ok(
        after + Number(RESERVE) > before + 2 * 1024 * 1024,
        `The deletes gave too little back to the filesystem (${before} -> ${after} bytes free)`,
      );
      for (const id of accepted) {
        const report = await pollReport(server.baseUrl, id, { timeoutMs: 60_000 });
        assert.equal(report.status, "ready", JSON.stringify(report));
      }
      // With room again, uploads are accepted and the service is ready.
      const readyAgain = await fetch(`${server.baseUrl}/readyz`);
      assert.equal(readyAgain.status, 200, await readyAgain.text());
      // A small upload: what the deletes gave back is partly taken again by
      // the two jobs that finished meanwhile, so a second 1.3 MB body may
      // rightly be refused again (seen in CI); the point is that the service
      // accepts uploads once it has room.
      const fits = await upload(server, new TextEncoder().encode(generateCsv(2_000)));
      assert.equal(fits.status, 202, await fits.clone().text());
      accepted.push((await fits.json()).id);

      const status = await server.stop("SIGTERM");
      assert.equal(status.code, 0, server.logs.slice(-5).join("\n"));
    }

    // Fill the disk to the last byte while the server is down, then restart.
    const filler = `${dataDir}/filler`;
    await fillDisk(filler);
    {
      await using server = await startServer({ dataDir, env });
      const health = await fetch(`${server.baseUrl}/healthz`);
      assert.equal(health.status, 200);
      await health.body?.cancel();
      // The start released the reserve for its own writes; whether the reserve
      // fitted again depends on how much those took, but an upload larger than
      // the whole reserve does not (a 1.3 MB one sometimes did).
      const refused = await upload(server, new TextEncoder().encode(generateCsv(250_000)));
      assert.equal(refused.status, 507);
      await refused.body?.cancel();
      const ready = await fetch(`${server.baseUrl}/readyz`);
      assert.equal(ready.status, 503, "Not ready while the disk is full");
      await ready.body?.cancel();
      // Nothing acknowledged was lost.
      for (const id of accepted) {
        const report = await fetch(`${server.baseUrl}/v1/reports/${id}`);
        assert.equal(report.status, 200, `Report ${id} is gone`);
        await report.body?.cancel();
      }
      assert.equal((await server.stop("SIGTERM")).code, 0);
    }
    await Deno.remove(filler);
    {
      // Room again: every acknowledged upload gets processed.
      await using server = await startServer({ dataDir, env });
      for (const id of accepted) {
        const report = await pollReport(server.baseUrl, id, { timeoutMs: 60_000 });
        assert.equal(report.status, "ready", JSON.stringify(report));
      }
      assert.equal((await server.stop("SIGTERM")).code, 0);
    }
  } finally {
    if (mounted) await unmount(dataDir);
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("e2e: a job that meets the full disk first says so: the reserve is released, the job requeued", async () => {
  const dataDir = await makeDataDir();
  let mounted = false;
  try {
    await mountTmpfs(dataDir, "4m");
    mounted = true;
    const db = await openDatabase(`${dataDir}/reportd.db`);
    const pool = new WorkerPool({ size: 1 });
    // What DiskSpace does on a full disk, by hand: the reserve file goes.
    const reserve = `${dataDir}/reserve`;
    let released = 0;
    const queue = new JobQueue({
      db,
      pool,
      maxAttempts: 3,
      maxPoints: 1_000_000,
      failedRetentionMs: 86_400_000,
      onDiskFull: async () => {
        released++;
        await Deno.remove(reserve).catch(() => {});
      },
    });
    try {
      // An upload whose result (about 1 MB of columns) is the write that fills the disk.
      const body = new TextEncoder().encode(generateCsv(60_000));
      const id = crypto.randomUUID();
      await enqueueReport(db, queuedRecord(id), {
        job: {
          uploadId: crypto.randomUUID(),
          lastChunk: { seq: 0, data: body },
          format: "csv",
          bytes: body.byteLength,
          nameFromBody: false,
        },
      });
      await Deno.writeFile(reserve, new Uint8Array(256 * 1024));
      // Full to the last byte, then 256 KiB back: room for the claim, not the result.
      const filler = `${dataDir}/filler`;
      await fillDisk(filler);
      await Deno.truncate(filler, Math.max(0, (await Deno.stat(filler)).size - 256 * 1024));
      const first = new Promise<JobSettledDetail>((resolve) => {
        queue.addEventListener("settled", (event) => {
          resolve((event as CustomEvent<JobSettledDetail>).detail);
        }, { once: true });
      });
      await queue.start();
      assert.deepEqual(await first, { reportId: id, status: "queued" });
      // Without that call the reserve stayed while the job's requeue needed room:
      // in a full run (the test above) the report then sat in processing.
      assert.equal(released, 1, "The queue said the disk is full");
      const [row] = await querySql(db, "SELECT status FROM reports WHERE id = ?", [id]);
      assert.equal(row.status, "queued", "Back in the queue, not left in processing");
    } finally {
      await queue.drain(1_000);
      await closeDatabase(db).catch(() => {});
    }
  } finally {
    if (mounted) await unmount(dataDir);
    await Deno.remove(dataDir, { recursive: true });
  }
});
