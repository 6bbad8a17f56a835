/**
 * Serving files that are part of the program (the page, its script and
 * styles, uPlot): fingerprinted names, compression and conditional requests.
 *
 * - **Fingerprints.** An asset's URL carries a hash of its bytes
 *   (`app.1a2b3c4d5e6f.js`), so it can be cached for a year and marked
 *   `immutable`: a new release has new bytes, hence a new name, and the page
 *   (served with `no-cache`) names the new one. Browsers never revalidate an
 *   asset and never run a stale one.
 * - **Compression.** Brotli when the client accepts it, else gzip, else the
 *   bytes as they are. Each encoding is computed once, on first request, with
 *   the strongest settings (it is paid once per process, not per request),
 *   and kept; an encoding that saves less than 5% is not used.
 * - **Validators.** A strong ETag per encoding answers `If-None-Match` with
 *   304, which matters for the page itself (revalidated on every load).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { brotliCompress, constants as zlib, gzip } from "node:zlib";
import type { Context } from "hono";

/** A content coding reportd can send. */
export type Encoding = "br" | "gzip" | "identity";

/** One file as the program carries it. */
export interface AssetSource {
  /** The name the page uses for it, like `app.js`. */
  name: string;
  /** Its content. */
  body: string | Uint8Array<ArrayBuffer>;
  /** Its media type, with a charset for text. */
  type: string;
}

/** Hex digits of SHA-256 in a fingerprint: 48 bits, ample to tell releases apart. */
const FINGERPRINT_LENGTH = 12;

/** Compress only when it saves at least this share of the bytes. */
const MIN_SAVING = 0.05;

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/**
 * A file's name with its content hash before the extension.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fingerprintName } from "./static_assets.ts";
 * assert.equal(fingerprintName("app.js", "1a2b3c4d5e6f"), "app.1a2b3c4d5e6f.js");
 * assert.equal(fingerprintName("LICENSE", "1a2b3c4d5e6f"), "LICENSE.1a2b3c4d5e6f");
 * ```
 */
export function fingerprintName(name: string, hash: string): string {
  const dot = name.lastIndexOf(".");
  return dot <= 0 ? `${name}.${hash}` : `${name.slice(0, dot)}.${hash}${name.slice(dot)}`;
}

/**
 * Picks the content coding from an `Accept-Encoding` header (RFC 9110
 * section 12.5.3): brotli when acceptable, else gzip, else identity. A
 * coding is acceptable when listed, or covered by `*`, with a non-zero q.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { negotiateEncoding } from "./static_assets.ts";
 * assert.equal(negotiateEncoding("gzip, deflate, br, zstd"), "br");
 * assert.equal(negotiateEncoding("gzip, br;q=0"), "gzip");
 * assert.equal(negotiateEncoding("*"), "br");
 * assert.equal(negotiateEncoding(undefined), "identity");
 * ```
 */
export function negotiateEncoding(header: string | undefined): Encoding {
  if (header === undefined) return "identity";
  const weights = new Map<string, number>();
  for (const part of header.split(",")) {
    const [coding, ...parameters] = part.split(";").map((piece) => piece.trim().toLowerCase());
    if (coding === "") continue;
    const q = parameters.find((parameter) => parameter.startsWith("q="));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    weights.set(coding, Number.isFinite(weight) ? weight : 0);
  }
  const acceptable = (coding: string): boolean =>
    (weights.get(coding) ?? weights.get("*") ?? 0) > 0;
  if (acceptable("br")) return "br";
  if (acceptable("gzip")) return "gzip";
  return "identity";
}

/** An asset ready to serve: its bytes, fingerprint, and encodings made on demand. */
export class StaticAsset {
  /** The name the page uses, like `app.js`. */
  readonly name: string;
  /** The name it is served under, like `app.1a2b3c4d5e6f.js`. */
  readonly fingerprinted: string;
  /** The media type. */
  readonly type: string;
  /** The content hash (hex, {@linkcode FINGERPRINT_LENGTH} digits). */
  readonly hash: string;
  /** The uncompressed bytes. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly #encoded = new Map<
    Exclude<Encoding, "identity">,
    Promise<Uint8Array<ArrayBuffer> | null>
  >();

  /** Hashes `source`; nothing is compressed until a client asks for it. */
  constructor(source: AssetSource) {
    this.name = source.name;
    this.type = source.type;
    this.bytes = typeof source.body === "string"
      ? new TextEncoder().encode(source.body)
      : source.body;
    this.hash = createHash("sha256").update(this.bytes).digest("hex").slice(0, FINGERPRINT_LENGTH);
    this.fingerprinted = fingerprintName(source.name, this.hash);
  }

  /**
   * The bytes in `encoding`, computed on first use and kept; null when that
   * encoding would not save enough to be worth it.
   */
  encoded(encoding: Exclude<Encoding, "identity">): Promise<Uint8Array<ArrayBuffer> | null> {
    let result = this.#encoded.get(encoding);
    if (result === undefined) {
      result = compress(this.bytes, encoding).then((bytes) =>
        bytes.byteLength <= this.bytes.byteLength * (1 - MIN_SAVING) ? bytes : null
      );
      this.#encoded.set(encoding, result);
    }
    return result;
  }
}

async function compress(
  bytes: Uint8Array<ArrayBuffer>,
  encoding: "br" | "gzip",
): Promise<Uint8Array<ArrayBuffer>> {
  const compressed = encoding === "br"
    ? await brotli(bytes, {
      params: {
        [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY,
        [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT,
        [zlib.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength,
      },
    })
    : await gzipAsync(bytes, { level: zlib.Z_BEST_COMPRESSION });
  // Node's Buffer may be a view into a shared pool; keep an exact copy instead.
  return new Uint8Array(compressed);
}

/** Options for {@linkcode sendAsset}. */
export interface SendOptions {
  /** The `Cache-Control` value. */
  cacheControl: string;
  /** Extra headers (a Content-Security-Policy, say). */
  headers?: Record<string, string>;
}

/**
 * Answers with `asset` in the best encoding the client accepts, or 304 when
 * its `If-None-Match` names the variant it would get.
 */
export async function sendAsset(
  c: Context,
  asset: StaticAsset,
  options: SendOptions,
): Promise<Response> {
  let encoding = negotiateEncoding(c.req.header("accept-encoding"));
  let body = asset.bytes;
  if (encoding !== "identity") {
    const encoded = await asset.encoded(encoding);
    if (encoded === null) encoding = "identity";
    else body = encoded;
  }
  const etag = `"${asset.hash}${encoding === "identity" ? "" : `-${encoding}`}"`;
  const headers: Record<string, string> = {
    ...options.headers,
    "cache-control": options.cacheControl,
    etag,
    // The same URL has several encodings: caches must key on the request's.
    vary: "Accept-Encoding",
  };
  if (ifNoneMatch(c.req.header("if-none-match"), etag)) return c.body(null, 304, headers);
  if (encoding !== "identity") headers["content-encoding"] = encoding;
  headers["content-type"] = asset.type;
  // A Response copies the bytes of a view it is given, so the cached bytes
  // are shared by every request safely.
  return c.body(body, 200, headers);
}

function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(",").some((candidate) => {
    const tag = candidate.trim();
    return tag === "*" || tag === etag || tag === `W/${etag}`;
  });
}
