/**
 * Receiving an upload: stream the request body into SQLite chunk by chunk.
 *
 * Nothing here holds a whole body in memory: each chunk is committed as it
 * fills, the SHA-256 (for Idempotency-Key) is updated incrementally, and the
 * size limit is enforced as bytes arrive, so an endless body is cut off at the
 * limit. With at most `REPORTD_MAX_INFLIGHT_UPLOADS` bodies being received at
 * once, upload memory is bounded by that number times the chunk size.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Database } from "../../db/mod.ts";
import { appendUploadChunk, deleteUpload } from "../../db/jobs_repo.ts";
import { concatBytes } from "../bytes.ts";
import { AppError } from "../errors.ts";
import {
  checkLineCount,
  checkUploadHead,
  checkUploadTail,
  countLineBreaks,
  HEAD_BYTES,
  type LineCount,
  TAIL_BYTES,
} from "../series/preflight.ts";
import type { ParseOptions } from "../series/dialect.ts";
import type { UploadFormat } from "../series/types.ts";

/** Bytes per stored chunk: large enough that a 50 MiB body is 50 rows. */
export const CHUNK_BYTES = 1024 * 1024;

/** A body that is now durably stored. */
export interface ReceivedUpload {
  /** Key of its chunks in `upload_chunks`. */
  uploadId: string;
  /** Its size. */
  bytes: number;
  /** Hex SHA-256 of the body, to compare Idempotency-Key retries. */
  sha256: string;
  /**
   * With `deferLastChunk`: the body's last chunk, not stored yet. The caller
   * stores it in the transaction that queues the report (`NewJob.lastChunk`),
   * so a small upload is one commit, not two.
   */
  lastChunk?: { seq: number; data: Uint8Array };
}

/** Options for {@linkcode receiveUpload}. */
export interface ReceiveOptions {
  /** How to read the head of the body. */
  format: UploadFormat;
  /** What the client said about the file, for the head check. */
  parse?: ParseOptions;
  /** Largest body accepted. */
  maxBytes: number;
  /** Most data rows (checked approximately here, exactly by the worker). */
  maxPoints: number;
  /** The Content-Length header, when the client sent one. */
  declaredBytes?: number;
  /** Bytes per stored chunk (tests use small ones). */
  chunkBytes?: number;
  /**
   * Return the last chunk as `lastChunk` instead of storing it: the body is
   * then durably stored only once the caller committed that chunk.
   */
  deferLastChunk?: boolean;
  /**
   * Called with each chunk as it is stored, before its buffer is filled
   * again (so a listener that keeps it must copy it); not with a deferred
   * last chunk. Lets a worker process a large body while it arrives.
   */
  onChunk?: (chunk: Uint8Array) => void;
}

/**
 * Streams `body` into storage and returns where it is (with
 * `deferLastChunk`, all but its last chunk). On any failure
 * (too large, bad head, client gone, storage error) the chunks written so far
 * are deleted before the error is rethrown.
 */
export async function receiveUpload(
  db: Database,
  body: ReadableStream<Uint8Array> | null,
  options: ReceiveOptions,
): Promise<ReceivedUpload> {
  const { maxBytes } = options;
  if (options.declaredBytes !== undefined && options.declaredBytes > maxBytes) {
    await body?.cancel();
    throw tooLarge(maxBytes);
  }
  const uploadId = crypto.randomUUID();
  const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
  const hash = createHash("sha256");
  const lines: LineCount = { lf: 0, cr: 0 };
  const head = new Uint8Array(HEAD_BYTES);
  let headLength = 0;
  let headChecked = false;
  // One buffer per upload, filled and stored again and again: SQLite copies
  // the bytes when it binds them, so nothing has to be allocated per stored
  // chunk. (Joining the incoming pieces into a new 1 MiB array per chunk left
  // 20 MB of garbage per 20 MB upload for the garbage collector; with 32
  // such uploads that garbage was a good part of the peak RSS:
  // bench/big_uploads.ts.)
  //
  // It starts no larger than the declared body (a 5 kB upload zero-filling
  // a 1 MiB buffer was a tenth of the main thread's time with 32 clients of
  // small uploads: bench/ingest.ts) and grows up to a chunk when a body is
  // larger than declared (a compressed one is).
  let buffer = new Uint8Array(
    Math.min(chunkBytes, Math.max(options.declaredBytes ?? chunkBytes, 4096)),
  );
  let filled = 0;
  // The last chunks, holding at least TAIL_BYTES (a Parquet footer is at the end).
  const tail: Uint8Array[] = [];
  let tailBytes = 0;
  let total = 0;
  let seq = 0;

  async function flush(): Promise<void> {
    if (filled === 0) return;
    const data = buffer.subarray(0, filled);
    options.onChunk?.(data);
    await appendUploadChunk(db, uploadId, { seq: seq++, data });
    filled = 0;
  }

  const reader = body?.getReader();
  try {
    while (reader !== undefined) {
      const { done, value } = await readChunk(reader);
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) throw tooLarge(maxBytes);
      hash.update(value);
      if (options.format === "csv" || options.format === "ndjson") {
        countLineBreaks(lines, value);
        checkLineCount(lines, options);
      }
      if (!headChecked) {
        const take = Math.min(value.byteLength, HEAD_BYTES - headLength);
        head.set(value.subarray(0, take), headLength);
        headLength += take;
        if (headLength === HEAD_BYTES) {
          checkUploadHead(head, { format: options.format, complete: false, parse: options.parse });
          headChecked = true;
        }
      }
      if (options.format === "parquet") {
        tail.push(value);
        tailBytes += value.byteLength;
        while (tail.length > 1 && tailBytes - tail[0].byteLength >= TAIL_BYTES) {
          tailBytes -= tail.shift()!.byteLength;
        }
      }
      if (buffer.byteLength < chunkBytes && filled + value.byteLength > buffer.byteLength) {
        const grown = new Uint8Array(
          Math.min(chunkBytes, Math.max(buffer.byteLength * 2, filled + value.byteLength)),
        );
        grown.set(buffer.subarray(0, filled));
        buffer = grown;
      }
      for (let offset = 0; offset < value.byteLength;) {
        const take = Math.min(chunkBytes - filled, value.byteLength - offset);
        buffer.set(value.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === chunkBytes) await flush();
      }
    }
    if (!headChecked) {
      checkUploadHead(head.subarray(0, headLength), {
        format: options.format,
        complete: true,
        parse: options.parse,
      });
    }
    if (tail.length > 0) {
      const joined = concatBytes(tail, tailBytes);
      checkUploadTail(joined.subarray(Math.max(0, joined.byteLength - TAIL_BYTES)), options);
    }
    if (!options.deferLastChunk) await flush();
  } catch (error) {
    await reader?.cancel().catch(() => {});
    await deleteUpload(db, uploadId);
    throw error;
  }
  const received: ReceivedUpload = { uploadId, bytes: total, sha256: hash.digest("hex") };
  // The buffer is not filled again: handing out a view of it copies nothing.
  if (options.deferLastChunk && filled > 0) {
    received.lastChunk = { seq, data: buffer.subarray(0, filled) };
  }
  return received;
}

/** Content-Encodings an upload may use, by header value. */
export const CONTENT_ENCODINGS = ["gzip", "br", "identity"] as const;

/** One of {@linkcode CONTENT_ENCODINGS}. */
export type ContentEncoding = (typeof CONTENT_ENCODINGS)[number];

/**
 * Decompresses a `Content-Encoding: gzip` or `br` body while it streams, so
 * whoever reads it (and counts its bytes against the size limit) sees the
 * decompressed bytes: a small bomb is refused with 413 as soon as its output
 * passes the limit, having cost at most one decompressed chunk of memory.
 * A corrupt stream is `malformed_body` (400); a client that goes away is
 * still reported by the reader as before.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeContentEncoding } from "./uploads.ts";
 * const gzipped = new Blob(["t,v\n0,1\n"]).stream()
 *   .pipeThrough(new CompressionStream("gzip"));
 * const text = await new Response(decodeContentEncoding(gzipped, "gzip")).text();
 * assert.equal(text, "t,v\n0,1\n");
 * ```
 */
export function decodeContentEncoding(
  body: ReadableStream<Uint8Array>,
  encoding: ContentEncoding,
): ReadableStream<Uint8Array> {
  if (encoding === "identity") return body;
  let sourceFailed = false;
  const source = body.getReader();
  const watched = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await source.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        sourceFailed = true;
        controller.error(error);
      }
    },
    cancel(reason) {
      return source.cancel(reason);
    },
  }, { highWaterMark: 0 });
  // Deno's DecompressionStream has "brotli" beside the standard formats; its
  // lib types know only the standard ones, hence the casts.
  const format = (encoding === "gzip" ? "gzip" : "brotli") as CompressionFormat;
  const inflated = watched.pipeThrough(
    new DecompressionStream(format) as unknown as ReadableWritablePair<Uint8Array, Uint8Array>,
  ).getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await inflated.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        if (sourceFailed || error instanceof AppError) {
          controller.error(error);
          return;
        }
        controller.error(
          new AppError(
            "malformed_body",
            `The body is not valid ${encoding === "gzip" ? "gzip" : "Brotli"} data ` +
              "(Content-Encoding)",
            { cause: error },
          ),
        );
      }
    },
    cancel(reason) {
      return inflated.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/** The first bytes of a body, and a stream that still yields all of it. */
export interface PeekedBody {
  /** Up to `limit` bytes from the start. */
  head: Uint8Array;
  /** True when `head` is the whole body. */
  complete: boolean;
  /** The whole body again, head included, for whoever reads it next. */
  body: ReadableStream<Uint8Array> | null;
}

/**
 * Reads the first `limit` bytes of `body` (or all of it, when shorter) without
 * losing them: the returned stream replays them before the rest. Lets the
 * request path look at a small JSON body (is it an import request?) while a
 * large one still streams into storage untouched.
 */
export async function peekBody(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<PeekedBody> {
  if (body === null) return { head: new Uint8Array(0), complete: true, body: null };
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  let complete = false;
  while (total < limit) {
    const { done, value } = await readChunk(reader);
    if (done) {
      complete = true;
      break;
    }
    parts.push(value);
    total += value.byteLength;
  }
  const head = concatBytes(parts, total);
  const replay = new ReadableStream<Uint8Array>({
    start(controller) {
      if (head.byteLength > 0) controller.enqueue(head);
      if (complete) controller.close();
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return { head: head.subarray(0, Math.min(total, limit)), complete, body: replay };
}

/**
 * A counter of uploads being received, to bound memory and disk bandwidth.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UploadSlots } from "./uploads.ts";
 * const slots = new UploadSlots(1);
 * const release = slots.tryAcquire();
 * assert.equal(slots.tryAcquire(), undefined);
 * release?.();
 * assert.ok(slots.tryAcquire());
 * ```
 */
export class UploadSlots {
  #free: number;

  /** Allows `max` uploads at once. */
  constructor(max: number) {
    this.#free = max;
  }

  /** Takes a slot and returns its release function, or undefined when none is free. */
  tryAcquire(): (() => void) | undefined {
    if (this.#free === 0) return undefined;
    this.#free--;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#free++;
    };
  }
}

/** Options for {@linkcode withBodyDeadline}. */
export interface BodyDeadline {
  /** Time the body gets at first, in ms. */
  timeoutMs: number;
  /** Each byte received extends the deadline by 1/this seconds; 0 never extends it. */
  minBytesPerSecond: number;
}

/**
 * Wraps a request body so that reading it fails with `request_timeout` (408)
 * once its deadline passes: `timeoutMs` after the first read, extended by one
 * second for every `minBytesPerSecond` bytes received (Apache's
 * mod_reqtimeout `body=30,MinRate=...` rule). A client that sends a large
 * body at a reasonable pace always stays ahead of its deadline; a slow-loris
 * client trickling a byte now and then is cut off after `timeoutMs`, and its
 * upload slot is freed. The source is cancelled on timeout, which makes the
 * server drop the connection.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withBodyDeadline } from "./uploads.ts";
 * const silent = new ReadableStream<Uint8Array>(); // never sends a byte
 * const body = withBodyDeadline(silent, { timeoutMs: 10, minBytesPerSecond: 0 });
 * await assert.rejects(body.getReader().read(), { kind: "request_timeout" });
 * ```
 */
export function withBodyDeadline(
  body: ReadableStream<Uint8Array>,
  options: BodyDeadline,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let started: number | undefined;
  let received = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      started ??= performance.now();
      const extension = options.minBytesPerSecond > 0
        ? received / options.minBytesPerSecond * 1000
        : 0;
      const remaining = started + options.timeoutMs + extension - performance.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = new Promise<"expired">((resolve) => {
        timer = setTimeout(() => resolve("expired"), Math.max(0, remaining));
      });
      try {
        const result = await Promise.race([reader.read(), expired]);
        if (result === "expired") {
          const seconds = Math.round((performance.now() - started) / 100) / 10;
          await reader.cancel("Body deadline passed").catch(() => {});
          controller.error(
            new AppError(
              "request_timeout",
              `The body did not arrive in time (${received} bytes in ${seconds} s)`,
            ),
          );
        } else if (result.done) {
          controller.close();
        } else {
          received += result.value.byteLength;
          controller.enqueue(result.value);
        }
      } catch (error) {
        controller.error(error);
      } finally {
        clearTimeout(timer);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * Wraps a request body so that a body ending before its end (the connection
 * closed short of `Content-Length`, or a chunked body without its final
 * zero-size chunk) fails with `malformed_body` (400) naming the cause,
 * instead of the runtime's bare `BadResource` error. The runtime's error
 * says nothing about why, so the cause is told from what was declared and
 * what arrived. A client that stops sending is the client's mistake: it must
 * not be answered (or counted) as a server error, or anyone could raise the
 * 5xx rate at will. Domain errors from inside (the body deadline) keep their
 * kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withBodyEndCheck } from "./uploads.ts";
 * const broken = new ReadableStream<Uint8Array>({
 *   pull(controller) {
 *     controller.error(new Error("connection closed"));
 *   },
 * });
 * const body = withBodyEndCheck(broken, { declaredBytes: 10 });
 * await assert.rejects(body.getReader().read(), { kind: "malformed_body" });
 * ```
 */
export function withBodyEndCheck(
  body: ReadableStream<Uint8Array>,
  options: { declaredBytes?: number },
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let received = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const result = await reader.read();
        if (result.done) {
          controller.close();
        } else {
          received += result.value.byteLength;
          controller.enqueue(result.value);
        }
      } catch (error) {
        controller.error(
          error instanceof AppError ? error : new AppError(
            "malformed_body",
            truncationDetail(received, options.declaredBytes),
            { cause: error },
          ),
        );
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

function truncationDetail(received: number, declared: number | undefined): string {
  if (declared === undefined) {
    return `The chunked body ended after ${received} bytes, before its last (zero-size) chunk; ` +
      "send the whole body";
  }
  if (received === 0) {
    return `No body arrived although Content-Length declared ${declared} bytes (after ` +
      "`Expect: 100-continue`, send the body once the server answers 100 Continue)";
  }
  return `The body ended after ${received} of the ${declared} bytes its Content-Length ` +
    "declared; send the whole body";
}

// A body that stops mid-way is normally explained by withBodyEndCheck (400);
// a read failure it did not see (a caller that skipped it) is not a bug
// either: answer 503 and let the client retry. Nothing was stored, because
// the chunks are deleted by the caller. A domain error from the stream itself
// (the body deadline, a truncated body) keeps its kind.
async function readChunk(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  try {
    return await reader.read();
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError("unavailable", "The request body could not be read to its end; retry", {
      retryAfterSeconds: 1,
      cause: error,
    });
  }
}

function tooLarge(maxBytes: number): AppError {
  return new AppError(
    "payload_too_large",
    `The body exceeds the limit of ${maxBytes} bytes (REPORTD_MAX_BODY_BYTES)`,
  );
}
