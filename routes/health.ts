/**
 * Liveness and readiness probes.
 *
 * `/healthz` says the process is alive and its event loop turns (restart me if
 * not); `/readyz` says it can do useful work right now because the database
 * answers (send me traffic or not). Orchestrators treat the two differently,
 * so they are separate endpoints.
 *
 * @module
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { type Database, pingDatabase } from "../db/mod.ts";
import { AppError } from "../services/errors.ts";
import type { AppEnv } from "./middleware/request_id.ts";
import { problemContent } from "./openapi.ts";
import { HealthSchema } from "./schemas.ts";

const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  operationId: "getHealth",
  tags: ["operations"],
  summary: "Liveness: the process is up",
  responses: {
    200: { description: "Alive", content: { "application/json": { schema: HealthSchema } } },
  },
});

const readyRoute = createRoute({
  method: "get",
  path: "/readyz",
  operationId: "getReadiness",
  tags: ["operations"],
  summary: "Readiness: the database answers",
  responses: {
    200: { description: "Ready", content: { "application/json": { schema: HealthSchema } } },
    503: problemContent(
      "Not ready: the database does not answer, the disk is full, or shutdown has begun",
    ),
  },
});

/** What the probes look at. */
export interface HealthDeps {
  /** The database `/readyz` pings. */
  db: Database;
  /** Turns true when shutdown begins, so `/readyz` fails before connections close. */
  isShuttingDown?: () => boolean;
  /** Why the disk counts as full, or undefined (services/runtime/disk_space.ts). */
  diskFull?: () => string | undefined;
}

/** What `/healthz` answers while the process is alive. */
export const HEALTH_BODY = { status: "ok" } as const;

/** Registers `/healthz` and `/readyz`. */
export function registerHealthRoutes(app: OpenAPIHono<AppEnv>, deps: HealthDeps): void {
  app.openapi(healthRoute, (c) => c.json(HEALTH_BODY, 200));
  app.openapi(readyRoute, async (c) => {
    if (deps.isShuttingDown?.()) {
      throw new AppError("unavailable", "Shutting down; send traffic elsewhere");
    }
    const full = deps.diskFull?.();
    if (full !== undefined) {
      // Not ready for uploads; reads and deletes still work, and deleting
      // reports is how an operator makes room.
      throw new AppError(
        "unavailable",
        `${full}: uploads are refused (507) until space is freed; reads and deletes work`,
        { retryAfterSeconds: 60 },
      );
    }
    // A StorageError from the ping becomes the usual 503 problem.
    await pingDatabase(deps.db);
    return c.json({ status: "ok" as const }, 200);
  });
}
