import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import { getBatchedStdoutSink } from "../../services/telemetry/stdout_sink.ts";

function record(text: string): LogRecord {
  return {
    category: ["t"],
    level: "info",
    rawMessage: text,
    message: [text],
    timestamp: 0,
    properties: {},
  };
}

function format(entry: LogRecord): string {
  return `${entry.rawMessage}\n`;
}

Deno.test("Lines logged together go out in one write, shortly after", async () => {
  const writes = Promise.withResolvers<string>();
  const sink = getBatchedStdoutSink(format, {
    maxDelayMs: 1,
    write: (bytes) => writes.resolve(new TextDecoder().decode(bytes)),
  });
  try {
    sink(record("a"));
    sink(record("b"));
    sink.writeRecord(record("c"));
    assert.equal(await writes.promise, "a\nb\nc\n");
  } finally {
    sink[Symbol.dispose]();
  }
});

Deno.test("A full batch is written at once, and disposing writes the rest", () => {
  const written: string[] = [];
  const sink = getBatchedStdoutSink(format, {
    maxPendingChars: 4,
    write: (bytes) => written.push(new TextDecoder().decode(bytes)),
  });
  sink(record("ab"));
  assert.deepEqual(written, []);
  sink(record("cd")); // 6 characters pending: over the limit
  assert.deepEqual(written, ["ab\ncd\n"]);
  sink(record("e"));
  sink[Symbol.dispose]();
  assert.deepEqual(written, ["ab\ncd\n", "e\n"]);
});

Deno.test("A queued record is formatted when its batch is written, in order with formatted ones", () => {
  const written: string[] = [];
  let formatted = 0;
  const sink = getBatchedStdoutSink((entry) => {
    formatted++;
    return format(entry);
  }, { write: (bytes) => written.push(new TextDecoder().decode(bytes)) });
  sink.writeRecord(record("a"));
  sink(record("b")); // the ordinary way: formatted at once
  sink.writeRecord(record("c"));
  assert.equal(formatted, 1, "a queued record is not formatted on the caller's time");
  sink[Symbol.dispose]();
  assert.equal(formatted, 3);
  assert.deepEqual(written, ["a\nb\nc\n"]);
});

Deno.test("Queued records count towards a full batch", () => {
  const written: string[] = [];
  const sink = getBatchedStdoutSink(format, {
    maxPendingChars: 500,
    write: (bytes) => written.push(new TextDecoder().decode(bytes)),
  });
  sink.writeRecord(record("a"));
  assert.deepEqual(written, []);
  sink.writeRecord(record("b")); // two records count as about two access lines: over 500
  assert.deepEqual(written, ["a\nb\n"]);
  sink[Symbol.dispose]();
});
