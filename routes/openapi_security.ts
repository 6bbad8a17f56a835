/**
 * The security part of the OpenAPI document: the bearer scheme, which scope
 * each operation needs, and the 401, 403 and 429 answers that access control
 * and rate limits add.
 *
 * It is derived from {@linkcode requiredScope}, the function the `authorize`
 * middleware decides with, rather than written next to each route: the
 * document then cannot claim an operation is public while the middleware
 * refuses it, or the other way round.
 *
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { type AccessPolicy, requiredScope } from "./middleware/auth.ts";
import { PROBLEM_CONTENT_TYPE } from "./middleware/problem.ts";
import type { AppEnv } from "./middleware/request_id.ts";

type OpenApiDocument = ReturnType<OpenAPIHono<AppEnv>["getOpenAPI31Document"]>;

/** The name of the security scheme in `components.securitySchemes`. */
export const BEARER_SCHEME = "bearerAuth";

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

// Probes are exempt from rate limits (routes/middleware/rate_limit.ts).
const UNLIMITED_PATHS = new Set(["/healthz", "/readyz"]);

/**
 * Adds the bearer scheme, a root requirement, and for each operation either
 * the scope it needs (with 401 and 403 answers) or an explicit `security: []`
 * for public ones; every rate-limited operation also documents 429.
 */
export function addSecurity(document: OpenApiDocument, policy: AccessPolicy): OpenApiDocument {
  document.components ??= {};
  document.components.securitySchemes = {
    ...document.components.securitySchemes,
    [BEARER_SCHEME]: {
      type: "http",
      scheme: "bearer",
      description: "An API key: `Authorization: Bearer <key>`. Keys have the scopes `read` " +
        "(list and read reports), `write` (create reports, delete the ones it created) and " +
        "`admin` (everything, including /metrics and deleting any report). An operation's " +
        "requirement names the scope it needs. Keys are required once any is configured " +
        "(REPORTD_API_KEYS, REPORTD_API_KEYS_FILE or `reportd keys create`); an instance " +
        "without keys is open and ignores the header.",
    },
  };
  // The default for anything not listed below; public operations override it.
  document.security = [{ [BEARER_SCHEME]: [] }];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation === undefined) continue;
      const scope = requiredScope(method.toUpperCase(), path, policy);
      operation.responses ??= {};
      if (scope === undefined) {
        operation.security = [];
      } else {
        operation.security = [{ [BEARER_SCHEME]: [scope] }];
        operation.responses["401"] ??= problem(
          "No valid API key; `WWW-Authenticate: Bearer` says why",
        );
        operation.responses["403"] ??= problem(
          method === "delete"
            ? `The key lacks the ${scope} scope, or did not create this report (admin may)`
            : `The key lacks the ${scope} scope`,
        );
      }
      if (!UNLIMITED_PATHS.has(path)) {
        operation.responses["429"] ??= problem(
          "This client's request budget is spent; see Retry-After and the RateLimit-* headers",
        );
      }
    }
  }
  return document;
}

function problem(description: string): {
  description: string;
  content: Record<string, { schema: { $ref: string } }>;
} {
  return {
    description,
    content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: "#/components/schemas/Problem" } } },
  };
}
