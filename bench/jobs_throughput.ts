/**
 * Jobs throughput with 1, 2 and 3 instances on one PostgreSQL (issue 11).
 *
 * For each instance count: a fresh database gets the same queued uploads
 * (written through db/ as the API would store them, so the upload transfer
 * is not part of the number), then that many `main.ts serve` processes start
 * and drain the queue. Throughput is jobs divided by the time from the first
 * "Job started" to the last "Job finished" line over all instances' logs.
 *
 * Usage: deno task bench:jobs [--database=postgres|postgres://...]
 *   [--uploads=200] [--rows=100000] [--workers=1] [--instances=1,2,3]
 *
 * `--workers` is per instance (REPORTD_WORKERS): 1 isolates the scale-out
 * mechanism (N instances, N workers); in production each instance uses all
 * its cores.
 *
 * @module
 */
import { appendUploadChunk, enqueueReport } from "../db/jobs_repo.ts";
import { closeDatabase, openDatabase } from "../db/mod.ts";
import { queuedRecord } from "../tests/helpers/engines.ts";
import { generateCsv } from "../tests/helpers/generate.ts";
import { pollUntil } from "../tests/helpers/poll.ts";
import { logRecords, startServer } from "../tests/helpers/server_process.ts";
import { benchDatabase, databaseChoice } from "./database.ts";

function option(name: string, fallback: string): string {
  return Deno.args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
}

const DATABASE = databaseChoice(Deno.args) === "sqlite" ? "postgres" : databaseChoice(Deno.args);
const UPLOADS = Number(option("uploads", "200"));
const ROWS = Number(option("rows", "100000"));
const WORKERS = option("workers", "1");
const COUNTS = option("instances", "1,2,3").split(",").map(Number);

async function run(instances: number, body: Uint8Array): Promise<Record<string, number>> {
  await using database = (await benchDatabase(DATABASE))!;
  // Instances first, all up and idle, so their start-up is not in the number.
  const servers = await Promise.all(
    Array.from({ length: instances }, () =>
      startServer({
        env: {
          REPORTD_DATABASE_URL: database.url,
          REPORTD_WORKERS: WORKERS,
          REPORTD_QUEUE_MAX: String(UPLOADS + 10),
          LOG_LEVEL: "info",
        },
        startTimeoutMs: 120_000,
      })),
  );
  try {
    const db = await openDatabase(database.url, { poolSize: 4 });
    try {
      for (let i = 0; i < UPLOADS; i++) {
        const id = `0190f5b8-0000-7000-8000-${String(i).padStart(12, "0")}`;
        const uploadId = `bench-${i}`;
        await appendUploadChunk(db, uploadId, { seq: 0, data: body });
        await enqueueReport(db, queuedRecord(id, { name: `bench ${i}` }), {
          job: { uploadId, format: "csv", bytes: body.byteLength, nameFromBody: false },
        });
      }
    } finally {
      await closeDatabase(db);
    }
    const finished = () =>
      servers.flatMap((server) =>
        logRecords(server).filter((record) => String(record.message).startsWith("Job finished"))
      );
    await pollUntil(`${UPLOADS} jobs to finish`, () => finished().length >= UPLOADS || undefined, {
      timeoutMs: 1_800_000,
      intervalMs: 200,
    });
    const started = servers.flatMap((server) =>
      logRecords(server).filter((record) => String(record.message).startsWith("Job started"))
    );
    const first = Math.min(...started.map((record) => Date.parse(record["@timestamp"])));
    const last = Math.max(...finished().map((record) => Date.parse(record["@timestamp"])));
    const seconds = (last - first) / 1000;
    const perInstance = servers.map((server) =>
      logRecords(server).filter((record) => String(record.message).startsWith("Job finished"))
        .length
    );
    return {
      instances,
      seconds: Math.round(seconds * 10) / 10,
      jobsPerSecond: Math.round((UPLOADS / seconds) * 100) / 100,
      minJobsOnOneInstance: Math.min(...perInstance),
      maxJobsOnOneInstance: Math.max(...perInstance),
    };
  } finally {
    await Promise.all(servers.map((server) => server[Symbol.asyncDispose]()));
  }
}

const body = new TextEncoder().encode(generateCsv(ROWS));
console.log(
  `Jobs throughput: ${UPLOADS} uploads of ${ROWS} rows (${
    (body.byteLength / 1e6).toFixed(1)
  } MB each), ${WORKERS} worker(s) per instance, on ${DATABASE}; ${navigator.hardwareConcurrency} CPUs`,
);
const results = [];
for (const count of COUNTS) {
  const result = await run(count, body);
  console.log(JSON.stringify(result));
  results.push(result);
}
const base = results[0].jobsPerSecond;
for (const result of results) {
  console.log(
    `${result.instances} instance(s): ${result.jobsPerSecond} jobs/s (${
      (result.jobsPerSecond / base).toFixed(2)
    }x), ${result.seconds} s`,
  );
}
