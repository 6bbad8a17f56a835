import assert from "node:assert/strict";
import { Hono } from "hono";
import { type AppEnv, requestId } from "../../routes/middleware/request_id.ts";
import { requestTelemetry } from "../../routes/middleware/request_telemetry.ts";
import { startTelemetry } from "../../services/telemetry/mod.ts";
import { captureLogs } from "../helpers/log_capture.ts";

const encoder = new TextEncoder();

/** A bare app with only the two middlewares under test and routes answering in every way. */
function appWith(telemetry: ReturnType<typeof startTelemetry>): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(requestId());
  app.use(requestTelemetry(telemetry));
  app.get("/bytes", (c) => c.body(encoder.encode("12345")));
  app.get("/text", (c) => c.text("\u00e9t\u00e9 \ud83d\ude00 \ud800"));
  app.get("/json", (c) => c.json({ word: "caf\u00e9" }, 201, { "x-extra": "1" }));
  app.get("/declared", () => new Response("abc", { headers: { "content-length": "3" } }));
  app.get("/stream", () =>
    new Response(
      new ReadableStream({
        start(controller) {
          controller.enqueue(encoder.encode("abc"));
          controller.enqueue(encoder.encode("de"));
          controller.close();
        },
      }),
    ));
  return app;
}

Deno.test("bytes_out is the body's size however the handler built it", async () => {
  await using logs = await captureLogs();
  await using telemetry = startTelemetry({ serviceName: "test", serviceVersion: "0" });
  const app = appWith(telemetry);
  const sizes: Record<string, number> = {};
  for (const path of ["/bytes", "/text", "/json", "/declared"]) {
    const res = await app.request(path);
    sizes[path] = (await res.arrayBuffer()).byteLength;
  }
  const json = await app.request("/json");
  assert.equal(json.status, 201);
  assert.equal(json.headers.get("content-type"), "application/json");
  assert.equal(json.headers.get("x-extra"), "1");
  assert.deepEqual(await json.json(), { word: "caf\u00e9" });
  const logged = Object.fromEntries(
    logs.records().map((line) => [line.route as string, line.bytes_out as number]),
  );
  assert.deepEqual(logged, sizes);
  // A lone surrogate is sent as U+FFFD: three bytes.
  assert.equal(sizes["/text"], encoder.encode("\u00e9t\u00e9 \ud83d\ude00 \ud800").byteLength);
});

Deno.test("A streamed body is counted as it goes out, and logged once it has", async () => {
  await using logs = await captureLogs();
  await using telemetry = startTelemetry({ serviceName: "test", serviceVersion: "0" });
  const res = await appWith(telemetry).request("/stream");
  assert.equal(logs.lines.length, 0, "Logged before the body went out");
  assert.equal(await res.text(), "abcde");
  const [line] = logs.records();
  assert.equal(line.route, "/stream");
  assert.equal(line.bytes_out, 5);
  assert.equal(line.status, 200);
});

Deno.test("A client that stops reading a stream still gets its request logged", async () => {
  await using logs = await captureLogs();
  await using telemetry = startTelemetry({ serviceName: "test", serviceVersion: "0" });
  const res = await appWith(telemetry).request("/stream");
  await res.body?.cancel();
  const [line] = logs.records();
  assert.equal(line.route, "/stream");
  assert.ok((line.bytes_out as number) < 5);
});
