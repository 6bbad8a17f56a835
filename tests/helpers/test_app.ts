/**
 * A fresh, isolated world per test: a real SQLite file in a new temporary
 * directory (or, with `engine: "postgres"` or `REPORTD_TEST_ENGINE=postgres`,
 * a new database on a real PostgreSQL), a real worker pool and job queue, and
 * an app built on them. Disposing it drains the queue, closes the database
 * and removes the directory (drops the database), so tests leave nothing
 * behind.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { closeDatabase, type Database, openDatabase } from "../../db/mod.ts";
import { type AppDeps, createApp, createHandler, type SecurityOptions } from "../../routes/mod.ts";
import type { FastLaneHandler } from "../../routes/fast_lane.ts";
import type { AppEnv } from "../../routes/middleware/request_id.ts";
import { WorkerPool } from "../../services/jobs/pool.ts";
import { JobQueue, type JobSettledDetail } from "../../services/jobs/queue.ts";
import type { ProviderConfig } from "../../services/runtime/config.ts";
import { Importer } from "../../services/providers/imports.ts";
import { createProviders } from "../../services/providers/mod.ts";
import type { Telemetry } from "../../services/telemetry/mod.ts";
import { testDatabase } from "./postgres.ts";

/** The engine API tests run on: `REPORTD_TEST_ENGINE` (sqlite by default). */
export const TEST_ENGINE: "sqlite" | "postgres" = Deno.env.get("REPORTD_TEST_ENGINE") === "postgres"
  ? "postgres"
  : "sqlite";

/** What a test gets from {@linkcode testApp}. */
export interface TestWorld extends AsyncDisposable {
  /** The application, called in-process with `app.request(...)`. */
  app: OpenAPIHono<AppEnv>;
  /**
   * What `main.ts` serves: another app on the same database and queue, behind
   * the fast lane (built on first use), for `Deno.serve` in a test.
   */
  readonly handler: FastLaneHandler;
  /** Its database. */
  db: Database;
  /** The job queue (started unless `startQueue: false`). */
  queue: JobQueue;
  /** The temporary directory holding the database file. */
  dir: string;
}

/** Overrides for {@linkcode testApp}. */
export interface TestAppOptions {
  /** Largest body (default 1 MiB, small enough to test the limit cheaply). */
  maxBodyBytes?: number;
  /** Most rows (default 10,000). */
  maxPoints?: number;
  /** Most queued jobs (default 100). */
  queueMax?: number;
  /** Most uploads at once (default 4). */
  maxInflightUploads?: number;
  /** Tries per job (default 3). */
  jobAttempts?: number;
  /** Worker module (tests of failures pass a failing one). */
  workerUrl?: URL;
  /** Workers (default 2). */
  workers?: number;
  /** A task running longer is abandoned (default: the pool's). */
  taskTimeoutMs?: number;
  /** Leave the queue stopped, so reports stay `queued`. */
  startQueue?: boolean;
  /** Reported by `isShuttingDown`. */
  isShuttingDown?: () => boolean;
  /** Telemetry for the app and the queue (access lines, spans, `/metrics`); none by default. */
  telemetry?: Telemetry;
  /** Keys, rate limits, CORS, timeouts; given the new database (for API keys). */
  security?: (db: Database) => SecurityOptions;
  /** Enables imports with these provider settings (over test-friendly defaults). */
  providers?: Partial<ProviderConfig> & { backoffBaseMs?: number };
  /** The engine (default {@linkcode TEST_ENGINE}). */
  engine?: "sqlite" | "postgres";
  /** Job lease, in ms (default 30 s). */
  leaseMs?: number;
  /** First backoff after a storage error, in ms (default 10 ms: tests wait for it). */
  retryBaseMs?: number;
}

/**
 * Builds an app on a new database file.
 *
 * @example
 * ```ts ignore
 * await using world = await testApp();
 * const res = await world.app.request("/healthz");
 * ```
 */
export async function testApp(options: TestAppOptions = {}): Promise<TestWorld> {
  const dir = await Deno.makeTempDir({ prefix: "reportd-test-" });
  const postgres = (options.engine ?? TEST_ENGINE) === "postgres"
    ? await testDatabase()
    : undefined;
  const db = await openDatabase(postgres?.url ?? `${dir}/reportd.db`);
  const config = {
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    maxPoints: options.maxPoints ?? 10_000,
    queueMax: options.queueMax ?? 100,
    maxInflightUploads: options.maxInflightUploads ?? 4,
  };
  const pool = new WorkerPool({
    size: options.workers ?? 2,
    workerUrl: options.workerUrl,
    taskTimeoutMs: options.taskTimeoutMs,
  });
  const importer = options.providers === undefined ? undefined : new Importer({
    db,
    providers: createProviders({
      config: { ...TEST_PROVIDER_CONFIG, ...options.providers },
      maxBytes: config.maxBodyBytes,
      backoffBaseMs: options.providers.backoffBaseMs ?? 1,
    }),
  });
  const queue = new JobQueue({
    db,
    pool,
    importer,
    maxAttempts: options.jobAttempts ?? 3,
    maxPoints: config.maxPoints,
    failedRetentionMs: 7 * 86_400_000,
    telemetry: options.telemetry?.jobs,
    leaseMs: options.leaseMs,
    retryBaseMs: options.retryBaseMs ?? 10,
  });
  if (options.startQueue ?? true) await queue.start();
  const deps: AppDeps = {
    db,
    config,
    jobs: queue,
    importer,
    version: "0.0.0-test",
    isShuttingDown: options.isShuttingDown,
    telemetry: options.telemetry,
    security: options.security?.(db),
  };
  let handler: FastLaneHandler | undefined;
  return {
    app: createApp(deps),
    get handler(): FastLaneHandler {
      handler ??= createHandler(deps);
      return handler;
    },
    db,
    queue,
    dir,
    async [Symbol.asyncDispose]() {
      await queue.drain(10_000);
      await closeDatabase(db);
      await postgres?.[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Provider settings for tests: a short timeout, private addresses and http allowed. */
export const TEST_PROVIDER_CONFIG: ProviderConfig = {
  maxDays: 3660,
  stooqUrl: "http://127.0.0.1:9/q/d/l/",
  stooqApiKey: undefined,
  fetchAllowHosts: [],
  fetchAllowPrivate: true,
  fetchAllowHttp: true,
  cacheTtlHistoricalMs: 30 * 86_400_000,
  cacheTtlRecentMs: 15 * 60_000,
  upstreamTimeoutMs: 2_000,
};

/** Posts `body` to `/v1/reports` with the given content type. */
export function postReport(
  world: TestWorld,
  body: BodyInit,
  options: { contentType?: string; query?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  return Promise.resolve(world.app.request(`/v1/reports${options.query ?? ""}`, {
    method: "POST",
    body,
    headers: { "content-type": options.contentType ?? "text/csv", ...options.headers },
  }));
}

/**
 * Resolves when the queue settles the job of `reportId` as ready or failed
 * (an event, not a poll). Register it before the job can finish: call it
 * right after the POST answered.
 */
export function settled(queue: JobQueue, reportId: string): Promise<JobSettledDetail> {
  return new Promise((resolve) => {
    // Typed by EventListener rather than `(event: Event)`: with npm:pg's Node
    // types in the graph, the global Event has two declarations.
    const listener: EventListener = (event) => {
      const detail = (event as CustomEvent<JobSettledDetail>).detail;
      if (detail.reportId !== reportId || detail.status === "queued") return;
      queue.removeEventListener("settled", listener);
      resolve(detail);
    };
    queue.addEventListener("settled", listener);
  });
}

/**
 * Posts an upload, checks the 202, waits for its job to settle and returns the
 * report as `GET /v1/reports/{id}` then shows it.
 */
export async function createSettledReport(
  world: TestWorld,
  body: BodyInit,
  options: { contentType?: string; query?: string; headers?: Record<string, string> } = {},
  // deno-lint-ignore no-explicit-any
): Promise<any> {
  const res = await postReport(world, body, options);
  assert.equal(res.status, 202, await res.clone().text());
  const { id } = await res.json();
  const done = settled(world.queue, id);
  // The job may already have settled before the listener was attached.
  // Read with the same headers, so a key that uploaded (and may read) reads too.
  const read = { headers: options.headers };
  let report = await (await world.app.request(`/v1/reports/${id}`, read)).json();
  if (report.status === "queued" || report.status === "processing") {
    await done;
    report = await (await world.app.request(`/v1/reports/${id}`, read)).json();
  }
  return report;
}

/** A small CSV with a gap, a missing value and a duplicate timestamp. */
export const SAMPLE_CSV = [
  "timestamp,value,volume",
  "2020-01-01,1,100",
  "2020-01-02,2,",
  "2020-01-03,3,300",
  "2020-01-03,4,400",
  "2020-01-10,5,500",
  "not-a-date,6,600",
].join("\n");
