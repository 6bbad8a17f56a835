/**
 * The server half of the read-path benchmark (bench/read_path.ts starts it):
 * reportd's real handler (the app behind the fast lane, as `main.ts` serves
 * it, without the connection guard) on a real `Deno.serve`, in one of five
 * modes, so each mode runs in a process of its own on loopback.
 *
 * - `bare`: a bare `Deno.serve` answering a constant JSON body the size of a
 *   report: the ceiling any framework is measured against.
 * - `off`: the app without telemetry: no spans, no metrics, no access line,
 *   logging not configured.
 * - `on`: the app as `main.ts serve` runs it: JSON access line per request to
 *   stdout, spans, metrics (no collector).
 * - `quiet`: `on` with the access lines turned off
 *   (`LOG_MODULE_LEVELS=http.access=warning`): what spans and metrics cost alone.
 * - `otlp`: `on`, plus spans and metrics exported over OTLP/HTTP (protobuf) to
 *   the collector URL given as the third argument.
 * - `floor`: a bare `Deno.serve` that answers every request with the shipped
 *   server's own response (captured once from `main.ts serve` and given as a
 *   JSON file in place of the database), the way the fast lane builds it (a
 *   `clone()` plus the per-request headers appended) and nothing else: no
 *   lookup, no rate limit, no telemetry. What Deno charges for the response
 *   the contract asks for, and so the most any reportd could reach.
 *
 * Usage: deno run -P=test bench/read_path_server.ts <mode> <database file> [collector URL]
 *
 * It prints one line `{"bench_ready":{"port":...,"id":"..."}}` to stderr once
 * it listens (stdout carries the log lines), then serves until SIGTERM.
 *
 * @module
 */
import { closeDatabase, databaseSizeBytes, openDatabase } from "../db/mod.ts";
import { countReportsByStatus } from "../db/reports_repo.ts";
import { createHandler } from "../routes/mod.ts";
import { WorkerPool } from "../services/jobs/pool.ts";
import { JobQueue } from "../services/jobs/queue.ts";
import { configureLogging, resetLogging } from "../services/telemetry/logger.ts";
import { startTelemetry, type Telemetry } from "../services/telemetry/mod.ts";

/** The modes bench/read_path.ts compares. */
export const MODES = ["bare", "off", "on", "quiet", "otlp", "floor"] as const;

/** One of {@linkcode MODES}. */
export type Mode = (typeof MODES)[number];

const CSV = "timestamp,value,volume\n" +
  Array.from({ length: 500 }, (_, i) => `${1577836800 + i * 86400},${i % 17},${i * 3}`).join("\n");

async function serveApp(mode: Exclude<Mode, "bare">, path: string, collector?: string) {
  if (mode !== "off") {
    await configureLogging({
      level: "info",
      format: "json",
      moduleLevels: mode === "quiet" ? { "http.access": "warning" } : undefined,
    });
  }
  const telemetry: Telemetry | undefined = mode === "off" ? undefined : startTelemetry({
    serviceName: "reportd-bench",
    serviceVersion: "bench",
    otlp: mode === "otlp" && collector !== undefined
      ? { endpoint: collector, protocol: "http/protobuf", metricIntervalMs: 10_000 }
      : undefined,
  });
  const db = await openDatabase(path);
  const queue = new JobQueue({
    db,
    pool: new WorkerPool({ size: 1 }),
    maxAttempts: 1,
    maxPoints: 10_000,
    failedRetentionMs: 86_400_000,
    telemetry: telemetry?.jobs,
  });
  telemetry?.observeDatabase({
    sizeBytes: () => databaseSizeBytes(db),
    reportsByStatus: () => countReportsByStatus(db),
  });
  await queue.start();
  // The handler main.ts serves: the app behind the fast lane.
  const handler = createHandler({
    db,
    config: { maxBodyBytes: 1 << 20, maxPoints: 10_000, queueMax: 10, maxInflightUploads: 4 },
    jobs: queue,
    version: "bench",
    telemetry,
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  const base = `http://127.0.0.1:${server.addr.port}`;
  const created = await fetch(`${base}/v1/reports?name=bench`, {
    method: "POST",
    body: CSV,
    headers: { "content-type": "text/csv" },
  });
  const { id } = await created.json();
  await new Promise<void>((resolve) => {
    queue.addEventListener("settled", () => resolve(), { once: true });
  });
  // This read also puts the report in the cache the fast lane answers from.
  const report = await (await fetch(`${base}/v1/reports/${id}`)).json();
  if (report.status !== "ready") throw new Error(`The benchmark report is ${report.status}`);
  console.error(JSON.stringify({ bench_ready: { port: server.addr.port, id } }));
  await stopped();
  await server.shutdown();
  await queue.drain(1000);
  await telemetry?.shutdown();
  await closeDatabase(db);
  await resetLogging();
}

async function serveBare(): Promise<void> {
  // A body as large as the report the app answers with, so bytes on the wire match.
  const body = JSON.stringify({ padding: "x".repeat(1900) });
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => console.error(JSON.stringify({ bench_ready: { port, id: "bare" } })),
  }, () => new Response(body, { headers: { "content-type": "application/json" } }));
  await stopped();
  await server.shutdown();
}

/** A response as `floor` serves it: captured from the shipped server. */
export interface CapturedResponse {
  /** Every header but `date` and `content-length` (Deno adds both), in order. */
  headers: [string, string][];
  /** Names of the headers whose values change per request (appended per request). */
  perRequest: string[];
  body: string;
}

async function serveFloor(path: string): Promise<void> {
  const captured: CapturedResponse = JSON.parse(await Deno.readTextFile(path));
  const fixed = captured.headers.filter(([name]) => !captured.perRequest.includes(name));
  const appended = captured.headers.filter(([name]) => captured.perRequest.includes(name));
  const prepared = new Response(captured.body, { headers: fixed });
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => console.error(JSON.stringify({ bench_ready: { port, id: "floor" } })),
  }, (request) => {
    // The least any server does: look at what was asked (a handler with no
    // parameters would take a shortcut in Deno that no router can take).
    if (request.method !== "GET" || request.url === "") return new Response(null, { status: 405 });
    const response = prepared.clone();
    for (const [name, value] of appended) response.headers.append(name, value);
    return response;
  });
  await stopped();
  await server.shutdown();
}

function stopped(): Promise<void> {
  return new Promise((resolve) => Deno.addSignalListener("SIGTERM", () => resolve()));
}

if (import.meta.main) {
  const [mode, path, collector] = Deno.args;
  if (!(MODES as readonly string[]).includes(mode)) {
    console.error(`Usage: read_path_server.ts <${MODES.join("|")}> <database file> [collector]`);
    Deno.exit(2);
  }
  if (mode === "bare") await serveBare();
  else if (mode === "floor") await serveFloor(path);
  else await serveApp(mode as Exclude<Mode, "bare">, path, collector);
}
