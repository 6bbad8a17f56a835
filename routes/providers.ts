/**
 * `GET /v1/providers`: which market-data providers this instance has enabled,
 * their parameters, and whether they are reachable (their circuit state).
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Importer } from "../services/providers/imports.ts";
import type { AppEnv } from "./middleware/request_id.ts";

const ProviderSchema = z.object({
  name: z.string().meta({ example: "stooq" }),
  description: z.string().meta({ example: "Stooq daily, weekly and monthly OHLCV bars" }),
  parameters: z.record(z.string(), z.string()).meta({
    example: { symbol: "1 to 32 characters (e.g. avgo.us)", interval: "d, w or m" },
  }),
  circuit: z.enum(["closed", "open", "half_open"]).meta({
    description: "closed: healthy; open: failing, calls rejected at once; half_open: one probe",
  }),
  reachable: z.boolean(),
  retry_after_s: z.number().int().meta({ description: "Seconds until an open circuit probes" }),
}).meta({ id: "Provider" });

const ProviderListSchema = z.object({ items: z.array(ProviderSchema) }).meta({
  id: "ProviderList",
});

const listProvidersRoute = createRoute({
  method: "get",
  path: "/v1/providers",
  operationId: "listProviders",
  tags: ["providers"],
  summary: "List the enabled market-data providers and their health",
  responses: {
    200: {
      description: "The enabled providers",
      content: { "application/json": { schema: ProviderListSchema } },
    },
  },
});

/** Registers `GET /v1/providers`. */
export function registerProviderRoutes(
  app: OpenAPIHono<AppEnv>,
  deps: { importer: Pick<Importer, "status"> },
): void {
  app.openapi(listProvidersRoute, (c) => c.json({ items: deps.importer.status() }, 200));
}
