/**
 * The messages between the worker pool and a worker. Large data crosses as
 * transferable ArrayBuffers: the upload goes in and the series columns come
 * back without being copied (ownership moves to the other thread).
 *
 * @module
 */
import type { ErrorKind, FieldError } from "../errors.ts";
import type { ParseOptions, SourceDialect } from "../series/dialect.ts";
import type { RowCounts, Summary, UploadFormat } from "../series/types.ts";

/** Pool -> worker: process this upload. */
export interface JobRequest {
  /** Correlates the answer with the request. */
  taskId: number;
  /** The raw upload; transferred, so the pool no longer owns it. */
  body: ArrayBuffer;
  format: UploadFormat;
  maxPoints: number;
  /** What the client said about the file. */
  parse?: ParseOptions;
}

/**
 * Pool -> worker: an upload arrives in pieces (`start`, then `piece`s in body
 * order, then `end`); the worker processes it while it arrives and answers
 * the `end` as it answers a {@linkcode JobRequest}.
 */
export type StreamMessage =
  | {
    taskId: number;
    stream: "start";
    format: UploadFormat;
    maxPoints: number;
    parse?: ParseOptions;
    /** The body's size, when known. */
    expectedBytes?: number;
  }
  | { taskId: number; stream: "piece"; bytes: ArrayBuffer }
  | { taskId: number; stream: "end" };

/** Worker -> pool: the processed series and its report. */
export interface JobSuccess {
  taskId: number;
  ok: true;
  /** Epoch ms as Float64Array bytes; transferred. */
  timestamps: ArrayBuffer;
  names: string[];
  /** One Float64Array's bytes per column; transferred. */
  columns: ArrayBuffer[];
  rows: RowCounts;
  summary: Summary;
  name?: string;
  /** How the file was read, for the report's `source.dialect`. */
  dialect?: SourceDialect;
}

/**
 * Worker -> pool: the input is unusable (`rejected`, final: retrying the same
 * bytes cannot help) or the code failed (`crashed`, retried in a fresh worker).
 */
export interface JobFailure {
  taskId: number;
  ok: false;
  failure: "rejected" | "crashed";
  kind?: ErrorKind;
  message: string;
  errors?: FieldError[];
}

/** Any answer from a worker. */
export type JobResponse = JobSuccess | JobFailure;

/**
 * The `ArrayBuffer` to transfer for `view`. Transferring hands over a whole
 * buffer, so a view onto part of a larger one is copied first; an exact-length
 * view (the common case) moves for free.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { transferableBuffer } from "./protocol.ts";
 * const exact = new Float64Array([1, 2]);
 * assert.equal(transferableBuffer(exact), exact.buffer);
 * const part = new Uint8Array(8).subarray(2, 4);
 * assert.equal(transferableBuffer(part).byteLength, 2);
 * ```
 */
export function transferableBuffer(view: Float64Array | Uint8Array): ArrayBuffer {
  const whole = view.byteOffset === 0 && view.byteLength === view.buffer.byteLength;
  return (whole ? view : view.slice()).buffer as ArrayBuffer;
}
