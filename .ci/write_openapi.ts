/**
 * Writes the OpenAPI document the app serves to a file, so CI can lint it with
 * a standard tool (Redocly) exactly as clients will see it.
 *
 * Usage: deno run -P=test .ci/write_openapi.ts <out.json>
 *
 * @module
 */
import { closeDatabase, openDatabase } from "../db/mod.ts";
import { VERSION } from "../main.ts";
import { createApp } from "../routes/mod.ts";
import { WorkerPool } from "../services/jobs/pool.ts";
import { JobQueue } from "../services/jobs/queue.ts";
import { startTelemetry } from "../services/telemetry/mod.ts";

const db = await openDatabase(":memory:");
try {
  // The queue is never started: the document needs the routes, not the workers.
  const jobs = new JobQueue({
    db,
    pool: new WorkerPool({ size: 1 }),
    maxAttempts: 1,
    maxPoints: 10,
    failedRetentionMs: 0,
  });
  // With telemetry, as main.ts runs it, so `/metrics` is in the document too.
  await using telemetry = startTelemetry({ serviceName: "reportd", serviceVersion: VERSION });
  const app = createApp({
    db,
    jobs,
    telemetry,
    config: { maxBodyBytes: 1024, maxPoints: 10, queueMax: 1, maxInflightUploads: 1 },
    version: VERSION,
  });
  const response = await app.request("/openapi.json");
  await Deno.writeTextFile(Deno.args[0], JSON.stringify(await response.json(), null, 2));
} finally {
  await closeDatabase(db);
}
