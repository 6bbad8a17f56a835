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
    sink.writeLine("c\n");
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
