import assert from "node:assert/strict";
import { context } from "@opentelemetry/api";
import { startTelemetry, type Telemetry, tracedFetch } from "../../services/telemetry/mod.ts";
import { captureLogs } from "../helpers/log_capture.ts";
import { type JsonSpan, spanAttribute, startOtlpReceiver } from "../helpers/otlp_receiver.ts";
import { postReport, SAMPLE_CSV, settled, testApp } from "../helpers/test_app.ts";

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
  await using world = await testApp({ telemetry });
  const created = await postReport(world, SAMPLE_CSV, {
    headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01` },
  });
  assert.equal(created.status, 202);
  const { id } = await created.json();
  const done = settled(world.queue, id);
  const report = await (await world.app.request(`/v1/reports/${id}`)).json();
  if (report.status !== "ready") assert.equal((await done).status, "ready");
  const points = (await (await world.app.request(`/v1/reports/${id}`)).json()).summary.points;
  assert.ok(points > 0);
  await telemetry.shutdown();
  await receiver.until(() => receiver.spans().some((span) => span.name === "process report"));

  const upload = receiver.spans().find((span) => span.name === "POST /v1/reports")!;
  assert.equal(upload.traceId, TRACE_ID);
  const job = receiver.spans().find((span) => span.name === "process report")!;
  assert.equal(job.kind, SPAN_KIND_CONSUMER);
  assert.notEqual(job.traceId, TRACE_ID);
  assert.equal(job.parentSpanId ?? "", "");
  assert.deepEqual(job.links?.map((link) => [link.traceId, link.spanId]), [
    [TRACE_ID, upload.spanId],
  ]);
  assert.equal(spanAttribute(job, "reportd.report_id"), id);
  assert.equal(spanAttribute(job, "reportd.job.outcome"), "ready");
  assert.equal(spanAttribute(job, "reportd.job.points"), points);
  // The job's storage calls are children of its span.
  assert.ok(
    receiver.spans().some((span) =>
      span.parentSpanId === job.spanId && spanAttribute(span, "db.system.name") === "sqlite"
    ),
  );

  // Lifecycle lines: queued inside the request, the rest inside the job's span.
  const lines = logs.records().filter((line) => String(line.message).startsWith("Job "));
  const queued = lines.find((line) => String(line.message).startsWith("Job queued"));
  assert.equal(queued?.report_id, id);
  assert.equal(queued?.trace_id, TRACE_ID);
  const started = lines.find((line) => String(line.message).startsWith("Job started"));
  const finished = lines.find((line) => String(line.message).startsWith("Job finished"));
  for (const line of [started, finished]) {
    assert.equal(line?.report_id, id);
    assert.equal(line?.attempt, 1);
    assert.equal(line?.trace_id, job.traceId);
    assert.equal(line?.span_id, job.spanId);
  }
  assert.equal(finished?.points, points);
  assert.equal(typeof finished?.duration_ms, "number");
});

Deno.test("A failing attempt marks its span and counts as failed", async () => {
  await using receiver = startOtlpReceiver();
  await using telemetry = exportingTelemetry(receiver.endpoint, "http/json");
  await assert.rejects(
    telemetry.jobs.run({ reportId: "report-2", attempt: 3, traceparent: "garbage" }, () => {
      throw new Error("Worker died");
    }),
    /Worker died/,
  );
  const text = await telemetry.renderPrometheus();
  assert.match(text, /^reportd_job_duration_count\{outcome="failed"\} 1$/m);
  await telemetry.shutdown();
  await receiver.until(() => receiver.spans().some((span) => span.name === "process report"));
  const [failed] = receiver.spans();
  // A malformed stored traceparent costs the link, not the job.
  assert.deepEqual(failed.links ?? [], []);
  assert.equal(failed.status?.code, 2);
  assert.equal(spanAttribute(failed, "reportd.job.outcome"), "failed");
  assert.equal(spanAttribute(failed, "reportd.job.attempt"), 3);
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
