/**
 * A LogTape sink that writes formatted lines to stdout in batches.
 *
 * Why not `console.log` per line: under load every request writes an access
 * line, and one `write` system call per line was the largest single cost of
 * observability on the read path (docs/benchmarks.md). Here lines gather in
 * memory and go out together at most 10 ms later (or sooner, when 64 KiB
 * have gathered), which turns thousands of writes a second into about a
 * hundred.
 *
 * A record can also be queued unformatted (`writeRecord`, the access line's
 * way): it is formatted with the rest of its batch when the batch is
 * written. Formatting 170 lines in one go costs less than formatting each
 * in the middle of its request: the read path's access line went from 5.0
 * to 7.6 us to 3.3 to 4.2 us of server time per request (bench:read-path,
 * modes `on` against `quiet`, five runs; docs/benchmarks.md, issue 15).
 *
 * Nothing is dropped: a write blocks until the reader (a terminal, journald,
 * Docker) takes the bytes, as `console.log` would. Lines still pending when
 * the process exits, even through `Deno.exit()`, are written by the `unload`
 * handler; only a crash of the runtime itself could lose the last few
 * milliseconds of lines.
 *
 * @module
 */
import type { LogRecord, Sink } from "@logtape/logtape";

/** The sink, plus a way to queue a record that is formatted only when its batch is written. */
export type BatchedStdoutSink = Sink & Disposable & {
  /** Queues `record`, formatted when the batch is written rather than now. */
  writeRecord(record: LogRecord): void;
};

/** Options for {@linkcode getBatchedStdoutSink}. */
export interface BatchedStdoutSinkOptions {
  /** Write at once when this many characters are pending (default 64 Ki). */
  maxPendingChars?: number;
  /** Longest a line waits before it is written, in ms (default 10). */
  maxDelayMs?: number;
  /** Where bytes go; stdout unless a test passes its own. */
  write?: (bytes: Uint8Array) => void;
}

/**
 * Returns a sink that formats each record with `format` (which must end each
 * line with a newline) and writes the lines in batches.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getBatchedStdoutSink } from "./stdout_sink.ts";
 *
 * const written: string[] = [];
 * const sink = getBatchedStdoutSink((record) => `${record.rawMessage}\n`, {
 *   write: (bytes) => written.push(new TextDecoder().decode(bytes)),
 * });
 * const record = { category: ["x"], level: "info" as const, message: [], timestamp: 0 };
 * sink({ ...record, rawMessage: "a", properties: {} });
 * sink({ ...record, rawMessage: "b", properties: {} });
 * assert.deepEqual(written, []); // gathered, not written yet
 * sink[Symbol.dispose]();
 * assert.deepEqual(written, ["a\nb\n"]); // one write for both lines
 * ```
 */
export function getBatchedStdoutSink(
  format: (record: LogRecord) => string,
  options: BatchedStdoutSinkOptions = {},
): BatchedStdoutSink {
  const maxPendingChars = options.maxPendingChars ?? 64 * 1024;
  const write = options.write ?? writeToStdout;
  const maxDelayMs = options.maxDelayMs ?? 10;
  const encoder = new TextEncoder();
  let pending: (string | LogRecord)[] = [];
  let pendingChars = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  function flush(): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    let text = "";
    for (const entry of pending) text += typeof entry === "string" ? entry : format(entry);
    pending = [];
    pendingChars = 0;
    write(encoder.encode(text));
  }

  function sink(record: LogRecord): void {
    const line = format(record);
    queue(line, line.length);
  }

  function writeRecord(record: LogRecord): void {
    queue(record, RECORD_CHARS);
  }

  function queue(entry: string | LogRecord, chars: number): void {
    pending.push(entry);
    pendingChars += chars;
    if (pendingChars >= maxPendingChars) {
      flush();
    } else if (timer === undefined) {
      // A short timer, not a microtask: the lines of every request answered
      // meanwhile share one write, and under load there are a hundred timers
      // a second rather than one per turn of the event loop.
      timer = setTimeout(flush, maxDelayMs);
      // Pending lines must not keep the process alive; `unload` writes them.
      Deno.unrefTimer(Number(timer));
    }
  }

  globalThis.addEventListener("unload", flush);
  return Object.assign(sink, {
    writeRecord,
    [Symbol.dispose](): void {
      globalThis.removeEventListener("unload", flush);
      flush();
    },
  });
}

/**
 * What a queued record counts towards `maxPendingChars` before it is
 * formatted: about an access line's length.
 */
const RECORD_CHARS = 300;

function writeToStdout(bytes: Uint8Array): void {
  // writeSync may take only part of the bytes (a full pipe); loop until all are out.
  let offset = 0;
  while (offset < bytes.length) offset += Deno.stdout.writeSync(bytes.subarray(offset));
}
