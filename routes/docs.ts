/**
 * API documentation: `/openapi.json`, generated from the same zod schemas that
 * validate requests, and `/docs`, Swagger UI on top of it.
 *
 * Swagger UI comes from the npm package `swagger-ui-dist`, imported as text so
 * `deno compile` embeds it: the page works offline and from the single binary,
 * and it loads nothing from a CDN (the CSP would forbid that anyway).
 *
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import swaggerCss from "swagger-ui-dist/swagger-ui.css" with { type: "text" };
import swaggerJs from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "text" };
import docsHtml from "../web/docs/index.html" with { type: "text" };
import faviconSvg from "../web/favicon.svg" with { type: "text" };
import docsInit from "../web/docs/init.js" with { type: "text" };
import type { AccessPolicy } from "./middleware/auth.ts";
import { PROBLEM_TYPES, problemResponse, type ProblemSlug } from "./middleware/problem.ts";
import type { AppEnv } from "./middleware/request_id.ts";
import { addSecurity } from "./openapi_security.ts";

/** Facts about this build that the document states. */
export interface DocsInfo {
  /** The version from deno.json. */
  version: string;
  /** Which operations are public; the rest need a bearer key of some scope. */
  access?: AccessPolicy;
}

// Swagger UI sets inline styles from script; everything else stays 'self'.
const DOCS_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " +
  "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const ASSETS: Record<string, { body: string; type: string }> = {
  "swagger-ui.css": { body: swaggerCss, type: "text/css; charset=utf-8" },
  "swagger-ui-bundle.js": { body: swaggerJs, type: "text/javascript; charset=utf-8" },
  "init.js": { body: docsInit, type: "text/javascript; charset=utf-8" },
  // The page's icon too: without one a browser asks for /favicon.ico, a 404.
  "favicon.svg": { body: faviconSvg, type: "image/svg+xml" },
};

/** Registers `/openapi.json`, `/docs`, its assets and `/problems/{type}`. */
export function registerDocsRoutes(app: OpenAPIHono<AppEnv>, info: DocsInfo): void {
  let document: unknown;
  app.get("/openapi.json", (c) => {
    // Generated on first use and kept: the routes do not change at run time.
    // Security (the bearer scheme, each operation's scope, 401/403/429) is
    // added from the same function the authorize middleware decides with.
    document ??= addSecurity(
      app.getOpenAPI31Document({
        openapi: "3.1.0",
        info: {
          title: "reportd",
          version: info.version,
          description: "Time-series reports: upload a series, get statistics, gaps and " +
            "chart-ready data back. Errors are RFC 9457 problem documents.",
          license: { name: "MIT", url: "https://spdx.org/licenses/MIT.html" },
        },
        servers: [{ url: "/", description: "This server" }],
        tags: [
          { name: "reports", description: "Upload series and read their reports" },
          { name: "providers", description: "Market-data providers that imports fetch from" },
          { name: "operations", description: "Health and readiness probes" },
        ],
      }),
      info.access ?? {},
    );
    return c.json(document);
  });
  app.get("/docs", (c) => {
    c.header("content-security-policy", DOCS_CSP);
    return c.html(docsHtml);
  });
  app.get("/docs/assets/:file", (c) => {
    // Own properties only: /docs/assets/constructor must be a 404, not Object (a fuzz finding).
    const file = c.req.param("file");
    const asset = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (asset === undefined) return c.notFound();
    c.header("content-security-policy", DOCS_CSP);
    c.header("cache-control", "public, max-age=3600");
    return c.body(asset.body, 200, { "content-type": asset.type });
  });
  app.get("/problems/:slug", (c) => describeProblem(c, c.req.param("slug")));
}

function describeProblem(c: Context<AppEnv>, slug: string): Response {
  if (!Object.hasOwn(PROBLEM_TYPES, slug)) {
    return problemResponse(c, "not-found", { detail: `No problem type ${slug}` });
  }
  const type = PROBLEM_TYPES[slug as ProblemSlug];
  return c.json({ type: `/problems/${slug}`, ...type });
}
