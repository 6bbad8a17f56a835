/**
 * A fresh, isolated world per test: a real SQLite file in a new temporary
 * directory and an app built on it. Disposing it closes the database and
 * removes the directory, so tests leave nothing behind.
 *
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { closeDatabase, type Database, openDatabase } from "../../db/mod.ts";
import { type AppDeps, createApp } from "../../routes/mod.ts";
import type { AppEnv } from "../../routes/middleware/request_id.ts";

/** What a test gets from {@linkcode testApp}. */
export interface TestWorld extends AsyncDisposable {
  /** The application, called in-process with `app.request(...)`. */
  app: OpenAPIHono<AppEnv>;
  /** Its database. */
  db: Database;
  /** The temporary directory holding the database file. */
  dir: string;
}

/** Overrides for {@linkcode testApp}. */
export interface TestAppOptions {
  /** Largest body (default 1 MiB, small enough to test the limit cheaply). */
  maxBodyBytes?: number;
  /** Most rows (default 10,000). */
  maxPoints?: number;
  /** Reported by `isShuttingDown`. */
  isShuttingDown?: () => boolean;
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
  const db = await openDatabase(`${dir}/reportd.db`);
  const deps: AppDeps = {
    db,
    config: {
      maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
      maxPoints: options.maxPoints ?? 10_000,
    },
    version: "0.0.0-test",
    isShuttingDown: options.isShuttingDown,
  };
  return {
    app: createApp(deps),
    db,
    dir,
    async [Symbol.asyncDispose]() {
      closeDatabase(db);
      await Deno.remove(dir, { recursive: true });
    },
  };
}

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
