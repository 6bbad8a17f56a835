import assert from "node:assert/strict";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { ASSET_CACHE_CONTROL, assetPath, WEB_CSP } from "../../routes/web.ts";
import { assertProblem } from "../helpers/assert_problem.ts";
import { testApp } from "../helpers/test_app.ts";

const ASSETS: [name: string, type: string][] = [
  ["app.js", "text/javascript; charset=utf-8"],
  ["style.css", "text/css; charset=utf-8"],
  ["favicon.svg", "image/svg+xml"],
  ["uplot.js", "text/javascript; charset=utf-8"],
  ["uplot.css", "text/css; charset=utf-8"],
];

Deno.test("GET / serves the page with a strict CSP, revalidated on every load", async () => {
  await using world = await testApp();
  const res = await world.app.request("/");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(res.headers.get("cache-control"), "no-cache");
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  const csp = res.headers.get("content-security-policy") ?? "";
  assert.equal(csp, WEB_CSP);
  assert.match(csp, /default-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|data:|\*/);
  const html = await res.text();
  // No inline script or style anywhere in the page.
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/);
  assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i);
  // Every asset is linked by its fingerprinted name, and only those.
  for (const [name] of ASSETS) assert.ok(html.includes(assetPath(name)), name);
  assert.doesNotMatch(html, /\/assets\/(app\.js|style\.css|uplot\.js|uplot\.css|favicon\.svg)"/);
});

Deno.test("GET / answers 304 to its own ETag and HEAD without a body", async () => {
  await using world = await testApp();
  const first = await world.app.request("/");
  const etag = first.headers.get("etag");
  assert.match(etag ?? "", /^"[0-9a-f]{12}"$/);
  await first.body?.cancel();
  const again = await world.app.request("/", { headers: { "if-none-match": etag! } });
  assert.equal(again.status, 304);
  assert.equal(again.headers.get("etag"), etag);
  assert.equal(await again.text(), "");
  const head = await world.app.request("/", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
});

Deno.test("GET /assets/* serves each file with its type and a year of immutable caching", async (t) => {
  await using world = await testApp();
  for (const [name, type] of ASSETS) {
    await t.step(name, async () => {
      const res = await world.app.request(assetPath(name));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), type);
      assert.equal(res.headers.get("cache-control"), ASSET_CACHE_CONTROL);
      assert.equal(res.headers.get("vary"), "Accept-Encoding");
      assert.equal(res.headers.get("content-encoding"), null);
      assert.ok((await res.arrayBuffer()).byteLength > 0);
    });
  }
});

Deno.test("GET /assets/* compresses with brotli or gzip as the client accepts", async () => {
  await using world = await testApp();
  const path = assetPath("app.js");
  const plain = new Uint8Array(await (await world.app.request(path)).arrayBuffer());

  const br = await world.app.request(path, { headers: { "accept-encoding": "gzip, br" } });
  assert.equal(br.headers.get("content-encoding"), "br");
  const brBytes = new Uint8Array(await br.arrayBuffer());
  assert.ok(brBytes.byteLength < plain.byteLength / 2);
  assert.deepEqual(new Uint8Array(brotliDecompressSync(brBytes)), plain);

  const gzip = await world.app.request(path, { headers: { "accept-encoding": "gzip" } });
  assert.equal(gzip.headers.get("content-encoding"), "gzip");
  assert.deepEqual(new Uint8Array(gunzipSync(new Uint8Array(await gzip.arrayBuffer()))), plain);

  // Each encoding has its own validator, so a cache cannot mix them up.
  assert.notEqual(br.headers.get("etag"), gzip.headers.get("etag"));
  const revalidated = await world.app.request(path, {
    headers: { "accept-encoding": "br", "if-none-match": br.headers.get("etag")! },
  });
  assert.equal(revalidated.status, 304);
});

Deno.test("GET /assets/* names no file that is not a fingerprinted asset", async () => {
  await using world = await testApp();
  for (const path of ["/assets/app.js", "/assets/app.000000000000.js", "/assets/..%2Fdeno.json"]) {
    const problem = await assertProblem(await world.app.request(path), 404);
    assert.equal(problem.type, "/problems/not-found");
  }
  // Only GET (and HEAD) exist there.
  const post = await world.app.request(assetPath("app.js"), { method: "POST" });
  await assertProblem(post, 405);
});
