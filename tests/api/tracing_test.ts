import assert from "node:assert/strict";
import { context } from "@opentelemetry/api";
import {
  currentTraceparent,
  startTelemetry,
  type Telemetry,
  tracedFetch,
} from "../../services/telemetry/mod.ts";
import { captureLogs } from "../helpers/log_capture.ts";
import { type JsonSpan, spanAttribute, startOtlpReceiver } from "../helpers/otlp_receiver.ts";
import { postReport, SAMPLE_CSV, testApp } from "../helpers/test_app.ts";

const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
const PARENT_SPAN_ID = "b7ad6b7169203331";
const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;
const SPAN_KIND_CONSUMER = 5;

function exportingTelemetry(endpoint: string, protocol: "http/json" | "http/protobuf"): Telemetry {
  return startTelemetry({
    serviceName: "reportd-test",
    serviceVersion: "0.0.0-test",
    otlp: { endpoint, protocol },
  });
}

function spansOf(spans: JsonSpan[], traceId: string): JsonSpan[] {
  return spans.filter((span) => span.traceId === traceId);
}

Deno.test("A request's traceparent continues into the spans sent to the collector", async () => {
  await using receiver = startOtlpReceiver();
  await using telemetry = exportingTelemetry(receiver.endpoint, "http/json");
  await using world = await testApp({ telemetry });
  await (await postReport(world, SAMPLE_CSV)).text();
  // Listing always reads the database (a single report may come from a cache).
  const res = await world.app.request("/v1/reports?limit=5", {
    headers: {
      traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`,
      tracestate: "vendor=opaque",
    },
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();

  // Shutdown flushes the batch; the receiver then holds everything.
  await telemetry.shutdown();
  await receiver.until(() => spansOf(receiver.spans(), TRACE_ID).length >= 2);

  const spans = spansOf(receiver.spans(), TRACE_ID);
  const server = spans.find((span) => span.kind === SPAN_KIND_SERVER);
  assert.ok(server, "No server span in the caller's trace");
  assert.equal(server.name, "GET /v1/reports");
  assert.equal(server.parentSpanId, PARENT_SPAN_ID);
  assert.equal(spanAttribute(server, "http.route"), "/v1/reports");
  assert.equal(spanAttribute(server, "http.response.status_code"), 200);
  assert.equal(spanAttribute(server, "url.path"), "/v1/reports");

  const list = spans.find((span) => span.name === "list reports");
  assert.ok(list, "No database span under the request");
  assert.equal(list.parentSpanId, server.spanId);
  assert.equal(list.kind, SPAN_KIND_CLIENT);
  assert.equal(spanAttribute(list, "db.system.name"), "sqlite");

  // The final metrics push happens at shutdown too.
  await receiver.until(() => receiver.metricNames().has("http.server.request.duration"));
});

Deno.test("The default OTLP encoding is protobuf", async () => {
  await using receiver = startOtlpReceiver();
  await using telemetry = exportingTelemetry(receiver.endpoint, "http/protobuf");
  await using world = await testApp({ telemetry });
  const res = await world.app.request("/healthz", {
    headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01` },
  });
  await res.body?.cancel();
  await telemetry.shutdown();
  await receiver.until(() => receiver.received.some((item) => item.path === "/v1/traces"));
  const traces = receiver.received.find((item) => item.path === "/v1/traces");
  assert.equal(traces?.contentType, "application/x-protobuf");
  // Protobuf carries the trace id as its 16 raw bytes.
  const idBytes = TRACE_ID.match(/../g)!.map((hex) => parseInt(hex, 16));
  assert.ok(containsBytes(traces!.body, idBytes), "The trace id is not in the protobuf body");
});

Deno.test("A job's span starts its own trace, linked to the request that queued it", async () => {
  await using logs = await captureLogs();
  await using receiver = startOtlpReceiver();
  await using telemetry = exportingTelemetry(receiver.endpoint, "http/json");
  const request = telemetry.http.start({
    method: "POST",
    path: "/v1/reports",
    headers: new Headers(),
  });
  const traceparent = context.with(request.context, () => {
    assert.ok(currentTraceparent()?.includes(request.spanId));
    return telemetry.jobs.queued({ reportId: "report-1" });
  });
  request.finish({ route: "/v1/reports", status: 202 });
  assert.equal(traceparent, `00-${request.traceId}-${request.spanId}-01`);

  await telemetry.jobs.run(
    { reportId: "report-1", attempt: 1, traceparent },
    () => Promise.resolve({ outcome: "ready" as const, points: 42 }),
  );
  await assert.rejects(
    telemetry.jobs.run({ reportId: "report-2", attempt: 3, traceparent: "garbage" }, () => {
      throw new Error("Worker died");
    }),
    /Worker died/,
  );
  await telemetry.shutdown();
  await receiver.until(() =>
    receiver.spans().filter((s) => s.name === "process report").length === 2
  );

  const [ready, failed] = receiver.spans().filter((span) => span.name === "process report");
  assert.equal(ready.kind, SPAN_KIND_CONSUMER);
  assert.notEqual(ready.traceId, request.traceId);
  assert.equal(ready.parentSpanId ?? "", "");
  assert.deepEqual(
    ready.links?.map((link) => [link.traceId, link.spanId]),
    [[request.traceId, request.spanId]],
  );
  assert.equal(spanAttribute(ready, "reportd.report_id"), "report-1");
  assert.equal(spanAttribute(ready, "reportd.job.points"), 42);
  // A malformed stored traceparent costs the link, not the job.
  assert.deepEqual(failed.links ?? [], []);
  assert.equal(failed.status?.code, 2);

  const jobLines = logs.records().filter((line) => line.logger === "reportd.jobs");
  assert.deepEqual(jobLines.map((line) => line.message), [
    "Job for report {report_id} queued",
    "Job for report {report_id} started (attempt {attempt})",
    "Job for report {report_id} finished in {duration_ms} ms",
    "Job for report {report_id} started (attempt {attempt})",
    "Job for report {report_id} failed on attempt {attempt}",
  ]);
  const [queued, , finished, , failure] = jobLines;
  assert.equal(queued.trace_id, request.traceId);
  assert.equal(finished.report_id, "report-1");
  assert.equal(finished.attempt, 1);
  assert.equal(finished.points, 42);
  assert.equal(finished.outcome, "ready");
  assert.equal(typeof finished.duration_ms, "number");
  assert.equal(finished.trace_id, ready.traceId);
  assert.equal(failure.level, "ERROR");
  assert.equal(failure.attempt, 3);
  assert.equal(failure.outcome, "failed");
  assert.match(failure.error as string, /^Error: Worker died\n\s+at /);
});

Deno.test("tracedFetch carries traceparent onwards and records a client span", async () => {
  await using receiver = startOtlpReceiver();
  await using telemetry = exportingTelemetry(receiver.endpoint, "http/json");
  const request = telemetry.http.start({ method: "GET", path: "/", headers: new Headers() });
  const res = await context.with(
    request.context,
    () => tracedFetch(`${receiver.endpoint}/upstream?token=secret`),
  );
  await res.body?.cancel();
  request.finish({ route: "/", status: 200 });
  await telemetry.shutdown();
  await receiver.until(() => receiver.spans().some((span) => span.kind === SPAN_KIND_CLIENT));

  const upstream = receiver.received.find((item) => item.path === "/upstream");
  const client = receiver.spans().find((span) => span.kind === SPAN_KIND_CLIENT)!;
  assert.equal(upstream?.headers.get("traceparent"), `00-${request.traceId}-${client.spanId}-01`);
  assert.equal(client.parentSpanId, request.spanId);
  assert.equal(client.name, "GET");
  assert.equal(spanAttribute(client, "http.response.status_code"), 200);
  assert.equal(spanAttribute(client, "url.full"), `${receiver.endpoint}/upstream`);
});

function containsBytes(haystack: Uint8Array, needle: number[]): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}
