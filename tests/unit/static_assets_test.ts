import assert from "node:assert/strict";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import fc from "fast-check";
import { negotiateEncoding, StaticAsset } from "../../routes/static_assets.ts";

Deno.test("negotiateEncoding: q-values, wildcards and refusals", () => {
  const cases: [string | undefined, string][] = [
    ["br", "br"],
    ["gzip", "gzip"],
    ["gzip, deflate, br, zstd", "br"],
    ["br;q=0, gzip;q=0.5", "gzip"],
    ["BR;Q=0.2", "br"],
    ["*;q=0.1", "br"],
    ["*, br;q=0", "gzip"],
    ["gzip;q=0, *;q=0", "identity"],
    ["deflate", "identity"],
    ["identity", "identity"],
    ["br;q=nonsense, gzip", "gzip"],
    ["", "identity"],
    [undefined, "identity"],
  ];
  for (const [header, expected] of cases) {
    assert.equal(negotiateEncoding(header), expected, String(header));
  }
});

Deno.test("negotiateEncoding: any header gives a coding the server has", () => {
  fc.assert(fc.property(fc.string(), (header) => {
    assert.ok(["br", "gzip", "identity"].includes(negotiateEncoding(header)));
  }));
});

Deno.test("StaticAsset: fingerprint follows the bytes; encodings decode to the same bytes", async () => {
  const text = "body { color: red; }\n".repeat(200);
  const asset = new StaticAsset({ name: "style.css", body: text, type: "text/css" });
  assert.match(asset.fingerprinted, /^style\.[0-9a-f]{12}\.css$/);
  const changed = new StaticAsset({ name: "style.css", body: `${text} `, type: "text/css" });
  assert.notEqual(changed.fingerprinted, asset.fingerprinted);

  const br = await asset.encoded("br");
  const gzip = await asset.encoded("gzip");
  assert.ok(br !== null && gzip !== null);
  assert.ok(br.byteLength < asset.bytes.byteLength / 10);
  assert.equal(new TextDecoder().decode(brotliDecompressSync(br)), text);
  assert.equal(new TextDecoder().decode(gunzipSync(gzip)), text);
  // Computed once and kept.
  assert.equal(await asset.encoded("br"), br);
});

Deno.test("StaticAsset: an encoding that saves too little is not used", async () => {
  const noise = crypto.getRandomValues(new Uint8Array(4096));
  const asset = new StaticAsset({
    name: "noise.bin",
    body: noise,
    type: "application/octet-stream",
  });
  assert.equal(await asset.encoded("br"), null);
  assert.equal(await asset.encoded("gzip"), null);
});
