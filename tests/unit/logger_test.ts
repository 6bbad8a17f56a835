import assert from "node:assert/strict";
import { context } from "@opentelemetry/api";
import { getJsonLinesFormatter, type LogRecord } from "@logtape/logtape";
import fc from "fast-check";
import {
  formatJsonLine,
  getLogger,
  logInfoFast,
  withContext,
} from "../../services/telemetry/logger.ts";
import { startTelemetry } from "../../services/telemetry/mod.ts";
import { captureLogs } from "../helpers/log_capture.ts";

const LOGTAPE_JSON_LINES = getJsonLinesFormatter({ message: "template", properties: "flatten" });

Deno.test("formatJsonLine writes exactly LogTape's JSON Lines for plain fields", () => {
  const value = fc.oneof(
    fc.string({ unit: "binary" }),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
  );
  fc.assert(
    fc.property(
      fc.dictionary(fc.string({ minLength: 1 }), value),
      fc.constantFrom("debug", "info", "warning", "error"),
      fc.string({ unit: "binary" }),
      fc.integer({ min: 0, max: 4_102_444_800_000 }),
      (properties, level, rawMessage, timestamp) => {
        // Keys LogTape's own fields would shadow are not worth comparing.
        for (const key of ["@timestamp", "level", "message", "logger", "__proto__"]) {
          delete properties[key];
        }
        const record: LogRecord = {
          category: ["reportd", "test"],
          level,
          rawMessage,
          message: [rawMessage],
          timestamp,
          properties,
        };
        assert.equal(formatJsonLine(record), LOGTAPE_JSON_LINES(record));
      },
    ),
  );
});

Deno.test("formatJsonLine leaves errors and nested values to LogTape", () => {
  const record: LogRecord = {
    category: ["reportd"],
    level: "error",
    rawMessage: "Failed",
    message: ["Failed"],
    timestamp: 0,
    properties: { error: new Error("Boom"), nested: { a: 1 }, big: 10n },
  };
  const line = JSON.parse(formatJsonLine(record));
  assert.equal(line.error.message, "Boom");
  assert.deepEqual(line.nested, { a: 1 });
  assert.equal(line.big, "10");
});

Deno.test("LOG_MODULE_LEVELS makes one module louder and another quieter", async () => {
  await using logs = await captureLogs({
    level: "info",
    moduleLevels: { db: "debug", "http.access": "warning" },
  });
  getLogger(["reportd", "db"]).debug("db debug");
  getLogger(["reportd", "db", "pool"]).debug("db pool debug");
  getLogger(["reportd", "http"]).debug("http debug");
  getLogger(["reportd", "http"]).info("http info");
  getLogger(["reportd", "http", "access"]).info("access info");
  getLogger(["reportd", "http", "access"]).warn("access warning");
  assert.deepEqual(logs.records().map((line) => line.message), [
    "db debug",
    "db pool debug",
    "http info",
    "access warning",
  ]);
});

Deno.test("Lines inside a span and a context get trace ids and context fields", async () => {
  await using logs = await captureLogs();
  await using telemetry = startTelemetry({ serviceName: "test", serviceVersion: "0" });
  const scope = telemetry.http.start({ method: "GET", path: "/", headers: new Headers() });
  await context.with(scope.context, () =>
    withContext({ request_id: "r-1" }, async () => {
      await Promise.resolve();
      getLogger(["reportd", "test"]).info("Inside {what}", { what: "span" });
      getLogger(["reportd", "test"]).info("Explicit wins", { request_id: "r-2" });
    }));
  getLogger(["reportd", "test"]).info("Outside");
  scope.finish({ route: "/", status: 200 });
  const [inside, explicit, outside] = logs.records();
  assert.equal(inside.trace_id, scope.traceId);
  assert.equal(inside.span_id, scope.spanId);
  assert.equal(inside.request_id, "r-1");
  assert.equal(inside.what, "span");
  assert.equal(explicit.request_id, "r-2");
  assert.equal("trace_id" in outside, false);
  assert.equal("request_id" in outside, false);
});

Deno.test("Fields named like secrets are redacted, nested ones too", async () => {
  await using logs = await captureLogs();
  getLogger(["reportd", "test"]).info("Config", {
    authorization: "Bearer abc",
    config: { apiKey: "k-1", nested: { password: "p-1", port: 8000 } },
    Cookie: "session=1",
  });
  getLogger(["reportd", "test"]).info("Nested only", { config: { db: { token: "t-9" } } });
  const [line, nested] = logs.records();
  assert.deepEqual(nested.config, { db: { token: "[redacted]" } });
  assert.equal(line.authorization, "[redacted]");
  assert.equal(line.Cookie, "[redacted]");
  assert.deepEqual(line.config, {
    apiKey: "[redacted]",
    nested: { password: "[redacted]", port: 8000 },
  });
  assert.ok(!logs.lines.join("").match(/abc|p-1|t-9/));
});

Deno.test("logInfoFast honours levels and falls back to the ordinary path", async () => {
  {
    await using logs = await captureLogs({ moduleLevels: { "http.access": "warning" } });
    logInfoFast(getLogger(["reportd", "http", "access"]), "Quiet {n}", { n: 1 });
    assert.equal(logs.lines.length, 0);
  }
  await using logs = await captureLogs();
  logInfoFast(getLogger(["reportd", "http", "access"]), "Loud {n}", { n: 2, token: "t-1" });
  const [line] = logs.records();
  assert.equal(line.message, "Loud {n}");
  assert.equal(line.logger, "reportd.http.access");
  assert.equal(line.n, 2);
  assert.equal(line.token, "[redacted]");
});

Deno.test("formatJsonLine escapes C1 controls, which could drive a terminal, and only those", () => {
  const record: LogRecord = {
    category: ["reportd", "test"],
    level: "info",
    rawMessage: "{a}",
    message: ["{a}"],
    timestamp: 0,
    properties: { a: "csi\u009b[2J del\u007f \u00e9" },
  };
  const line = formatJsonLine(record);
  assert.ok(line.includes(String.raw`csi\u009b[2J del\u007f ` + "\u00e9"), line);
  assert.equal(line, LOGTAPE_JSON_LINES(record));
});
