/**
 * The web page: `GET /` and its files under `/assets/`.
 *
 * Every file is imported as text, so `deno compile` embeds it and the binary
 * serves the page with no file access at all (docs/decisions/0007): the page
 * itself, its stylesheet and icon, the bundled script built from web/app/
 * (docs/decisions/0013), and uPlot's script and stylesheet from
 * `npm:uplot`. uPlot is served as its own file rather than bundled into the
 * page's script: it changes far less often, so it stays cached across
 * releases of the page.
 *
 * The page is revalidated on every load (`no-cache` with an ETag) and names
 * its assets by content hash; the assets are cached for a year (see
 * routes/static_assets.ts).
 *
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import appJs from "../web/bundle/app.js" with { type: "text" };
import faviconSvg from "../web/favicon.svg" with { type: "text" };
import indexHtml from "../web/index.html" with { type: "text" };
import styleCss from "../web/style.css" with { type: "text" };
import { problemResponse } from "./middleware/problem.ts";
import type { AppEnv } from "./middleware/request_id.ts";
import { type AssetSource, sendAsset, StaticAsset } from "./static_assets.ts";

/**
 * The page's Content-Security-Policy. Everything comes from this origin, and
 * nothing inline: no inline script or style, no `eval`, and, through Trusted
 * Types, no HTML strings turned into DOM (the page builds elements; uPlot does
 * too). `form-action 'self'` because `default-src` does not cover forms.
 */
export const WEB_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join("; ");

/** Assets are named by their content, so they never change: cache for a year. */
export const ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable";

/** The page names its assets by content hash, so it must be revalidated on every load. */
export const PAGE_CACHE_CONTROL = "no-cache";

const TEXT = "charset=utf-8";

const SOURCES: AssetSource[] = [
  { name: "app.js", body: appJs, type: `text/javascript; ${TEXT}` },
  { name: "style.css", body: styleCss, type: `text/css; ${TEXT}` },
  { name: "favicon.svg", body: faviconSvg, type: "image/svg+xml" },
  { name: "uplot.js", body: uplotJs, type: `text/javascript; ${TEXT}` },
  { name: "uplot.css", body: uplotCss, type: `text/css; ${TEXT}` },
];

/**
 * The assets by the name they are served under. Built once per process: the
 * files are part of the program and cannot change while it runs.
 */
const ASSETS = new Map(
  SOURCES.map((source) => {
    const asset = new StaticAsset(source);
    return [asset.fingerprinted, asset];
  }),
);

/**
 * Rewrites every `/assets/<name>` in the page to the fingerprinted name. A name that is not an asset is a bug in the
 * page, so it throws rather than leave a link that would 404.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linkAssets } from "./web.ts";
 * const names = new Map([["app.js", "app.0123456789ab.js"]]);
 * assert.equal(
 *   linkAssets('<script src="/assets/app.js"></script>', names),
 *   '<script src="/assets/app.0123456789ab.js"></script>',
 * );
 * assert.throws(() => linkAssets('<img src="/assets/nope.png">', names), /nope\.png/);
 * ```
 */
export function linkAssets(text: string, fingerprinted: Map<string, string>): string {
  return text.replace(/\/assets\/([\w.-]+)/g, (_match, name: string) => {
    const served = fingerprinted.get(name);
    if (served === undefined) throw new Error(`The page links /assets/${name}, which is no asset`);
    return `/assets/${served}`;
  });
}

/** The page, with its links pointing at the fingerprinted assets. */
function buildPage(): StaticAsset {
  const names = new Map([...ASSETS.values()].map((asset) => [asset.name, asset.fingerprinted]));
  return new StaticAsset({
    name: "index.html",
    body: linkAssets(indexHtml, names),
    type: `text/html; ${TEXT}`,
  });
}

const PAGE = buildPage();

/** The URL path of the asset that the page calls `name` (for tests and links). */
export function assetPath(name: string): string {
  const asset = [...ASSETS.values()].find((candidate) => candidate.name === name);
  if (asset === undefined) throw new Error(`No asset named ${name}`);
  return `/assets/${asset.fingerprinted}`;
}

/** Registers `GET /` and `GET /assets/{file}`. */
export function registerWebRoutes(app: OpenAPIHono<AppEnv>): void {
  app.get("/", (c) =>
    sendAsset(c, PAGE, {
      cacheControl: PAGE_CACHE_CONTROL,
      headers: { "content-security-policy": WEB_CSP },
    }));
  app.get("/assets/:file", (c) => {
    const asset = ASSETS.get(c.req.param("file"));
    if (asset === undefined) {
      // An old fingerprint after a release, or a typo: a problem, not a page.
      return problemResponse(c, "not-found", { detail: "No such asset" });
    }
    return sendAsset(c, asset, { cacheControl: ASSET_CACHE_CONTROL });
  });
}
