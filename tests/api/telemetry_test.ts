import assert from "node:assert/strict";
import { closeDatabase, databaseSizeBytes } from "../../db/mod.ts";
import { countReportsByStatus } from "../../db/reports_repo.ts";
import { startTelemetry, type Telemetry } from "../../services/telemetry/mod.ts";
import { assertProblem } from "../helpers/assert_problem.ts";
import { captureLogs } from "../helpers/log_capture.ts";
import { PROMTOOL_REQUIRED, promtoolAvailable, promtoolCheckMetrics } from "../helpers/promtool.ts";
import { createSettledReport, postReport, SAMPLE_CSV, testApp } from "../helpers/test_app.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN_ID = "00f067aa0ba902b7";
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`;

/** The access line's fields: LogTape's four, then exactly the ones the issue lists. */
const ACCESS_FIELDS = [
  "@timestamp",
  "level",
  "message",
  "logger",
  "request_id",
  "method",
  "route",
  "status",
  "duration_ms",
  "bytes_in",
  "bytes_out",
  "trace_id",
  "span_id",
].sort();

function testTelemetry(): Telemetry {
  return startTelemetry({ serviceName: "reportd-test", serviceVersion: "0.0.0-test" });
}

function accessLines(records: Record<string, unknown>[]): Record<string, unknown>[] {
  return records.filter((record) => record.logger === "reportd.http.access");
}

Deno.test("Each request writes one access line with exactly the documented fields", async () => {
  await using logs = await captureLogs();
  await using telemetry = testTelemetry();
  await using world = await testApp({ telemetry });

  const created = await postReport(world, SAMPLE_CSV, { headers: { "x-request-id": "upload-1" } });
  assert.equal(created.status, 202);
  const { id } = await created.json();
  const read = await world.app.request(`/v1/reports/${id}`, {
    headers: { "x-request-id": "read-1", traceparent: TRACEPARENT },
  });
  assert.equal(read.status, 200);
  assert.equal(read.headers.get("x-request-id"), "read-1");
  const readBytes = (await read.arrayBuffer()).byteLength;
  const missing = await world.app.request("/v2/nothing", {
    headers: { "x-request-id": "not a safe id" },
  });
  await missing.body?.cancel();
  const generatedId = missing.headers.get("x-request-id");
  assert.match(generatedId ?? "", /^[0-9a-f-]{36}$/);

  // Every line is one JSON object; records() throws on anything else.
  for (const line of logs.lines) {
    assert.ok(line.endsWith("\n") && !line.slice(0, -1).includes("\n"), line);
  }
  const access = accessLines(logs.records());
  assert.equal(access.length, 3);
  for (const line of access) assert.deepEqual(Object.keys(line).sort(), ACCESS_FIELDS);

  const [upload, get, notFound] = access;
  assert.deepEqual(
    { ...upload, "@timestamp": 0, duration_ms: 0, trace_id: "", span_id: "" },
    {
      "@timestamp": 0,
      level: "INFO",
      message: "{method} {route} answered {status} in {duration_ms} ms",
      logger: "reportd.http.access",
      request_id: "upload-1",
      method: "POST",
      route: "/v1/reports",
      status: created.status,
      duration_ms: 0,
      bytes_in: new TextEncoder().encode(SAMPLE_CSV).byteLength,
      bytes_out: upload.bytes_out,
      trace_id: "",
      span_id: "",
    },
  );
  assert.ok((upload.bytes_out as number) > 0);

  assert.equal(get.request_id, "read-1");
  assert.equal(get.method, "GET");
  assert.equal(get.route, "/v1/reports/:id");
  assert.equal(get.status, 200);
  assert.equal(get.bytes_in, 0);
  assert.equal(get.bytes_out, readBytes);
  assert.equal(typeof get.duration_ms, "number");
  assert.ok((get.duration_ms as number) >= 0);
  // The caller's trace continues; the span is ours, a child of the caller's.
  assert.equal(get.trace_id, TRACE_ID);
  assert.match(get.span_id as string, /^[0-9a-f]{16}$/);
  assert.notEqual(get.span_id, PARENT_SPAN_ID);
  // Without a traceparent, a new trace starts.
  assert.match(upload.trace_id as string, /^[0-9a-f]{32}$/);
  assert.notEqual(upload.trace_id, TRACE_ID);

  assert.equal(notFound.route, null);
  assert.equal(notFound.status, 404);
  assert.equal(notFound.request_id, generatedId);

  // The template, never the id: access lines cannot grow one series per report.
  assert.ok(!access.some((line) => JSON.stringify(line).includes(id)));
});

Deno.test("bytes_out counts UTF-8 bytes, not characters", async () => {
  // Two-, three- and four-byte characters (the last a surrogate pair in JavaScript).
  const NAME = "Z\u00fcrich \u2603 \u{1D11E}";
  await using logs = await captureLogs();
  await using telemetry = testTelemetry();
  await using world = await testApp({ telemetry });
  const created = await postReport(world, SAMPLE_CSV, {
    query: `?name=${encodeURIComponent(NAME)}`,
  });
  const { id } = await created.json();
  const read = await world.app.request(`/v1/reports/${id}`);
  const body = new Uint8Array(await read.arrayBuffer());
  assert.ok(new TextDecoder().decode(body).includes(NAME));
  const line = accessLines(logs.records()).find((entry) => entry.route === "/v1/reports/:id");
  assert.equal(line?.bytes_out, body.byteLength);
});

Deno.test("HEAD and 204 responses log zero bytes out", async () => {
  await using logs = await captureLogs();
  await using telemetry = testTelemetry();
  await using world = await testApp({ telemetry });
  const head = await world.app.request("/healthz", { method: "HEAD" });
  assert.equal(head.status, 200);
  await head.body?.cancel();
  const { id } = await (await postReport(world, SAMPLE_CSV)).json();
  const deleted = await world.app.request(`/v1/reports/${id}`, { method: "DELETE" });
  assert.equal(deleted.status, 204);
  const [headLine, , deleteLine] = accessLines(logs.records());
  assert.equal(headLine.method, "HEAD");
  assert.equal(headLine.route, "/healthz");
  assert.equal(headLine.bytes_out, 0);
  assert.equal(deleteLine.method, "DELETE");
  assert.equal(deleteLine.status, 204);
  assert.equal(deleteLine.bytes_out, 0);
});

Deno.test("A chunked upload's bytes_in counts the bytes actually read", async () => {
  await using logs = await captureLogs();
  await using telemetry = testTelemetry();
  await using world = await testApp({ telemetry });
  const bytes = new TextEncoder().encode(SAMPLE_CSV);
  // A stream has no Content-Length, as with `Transfer-Encoding: chunked`.
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes.subarray(0, 10));
      controller.enqueue(bytes.subarray(10));
      controller.close();
    },
  });
  const res = await world.app.request("/v1/reports", {
    method: "POST",
    body,
    headers: { "content-type": "text/csv" },
    duplex: "half",
  } as RequestInit);
  assert.ok(res.status < 300, `POST answered ${res.status}`);
  await res.body?.cancel();
  const [line] = accessLines(logs.records());
  assert.equal(line.bytes_in, bytes.byteLength);
});

Deno.test("Errors log the full stack with request and trace ids; the response has neither", async () => {
  await using logs = await captureLogs();
  await using telemetry = testTelemetry();
  await using world = await testApp({ telemetry });
  const created = await postReport(world, SAMPLE_CSV);
  const { id } = await created.json();
  await closeDatabase(world.db);

  const res = await world.app.request(`/v1/reports/${id}`, {
    headers: { "x-request-id": "broken-1", traceparent: TRACEPARENT },
  });
  const problem = await assertProblem(res, 503);
  assert.equal(problem.request_id, "broken-1");

  const failure = logs.records().find((line) =>
    line.logger === "reportd.http" && line.level === "ERROR"
  );
  assert.ok(failure, "No error line was logged");
  assert.match(failure.error as string, /StorageError: Cannot read the report\n\s+at /);
  assert.match(failure.error as string, /Caused by: /);
  // Not passed by the handler: the request's implicit context and active span add them.
  assert.equal(failure.request_id, "broken-1");
  assert.equal(failure.trace_id, TRACE_ID);
  const [access] = accessLines(logs.records()).filter((line) => line.request_id === "broken-1");
  assert.equal(access.status, 503);
});

Deno.test("Credentials, cookies and bodies never reach the log", async () => {
  await using logs = await captureLogs({ level: "debug" });
  await using telemetry = testTelemetry();
  await using world = await testApp({ telemetry });
  const secrets = ["Bearer sk_live_abc123", "session=cookie-secret-456", "body-secret-789"];
  const res = await postReport(world, `timestamp,value\n2020-01-01,1\n# ${secrets[2]}\n`, {
    headers: { authorization: secrets[0], cookie: secrets[1], "set-cookie": secrets[1] },
  });
  await res.body?.cancel();
  await (await world.app.request("/nowhere", { headers: { authorization: secrets[0] } })).text();
  assert.ok(logs.lines.length >= 2);
  for (const line of logs.lines) {
    for (const secret of secrets) assert.ok(!line.includes(secret), `Leaked ${secret}: ${line}`);
  }
});

Deno.test("/metrics counts requests by route template, with every instrument", async () => {
  await using telemetry = testTelemetry();
  await using world = await testApp({ telemetry });
  telemetry.observeDatabase({
    sizeBytes: () => databaseSizeBytes(world.db),
    reportsByStatus: () => countReportsByStatus(world.db),
  });

  const report = await createSettledReport(world, SAMPLE_CSV);
  assert.equal(report.status, "ready");
  const id = report.id;
  // Waiting for the job read the report already; count from here.
  const readsBefore = parseSamples(await (await world.app.request("/metrics")).text())
    .find((s) =>
      s.name === "http_server_request_duration_count" && s.labels.http_route === "/v1/reports/:id"
    )?.value ?? 0;
  for (let i = 0; i < 2; i++) await (await world.app.request(`/v1/reports/${id}`)).text();
  await (await world.app.request("/v1/reports/0190f5b8-3c4e-7a1b-8f00-5c2d9e6b1a20")).text();
  await (await world.app.request("/v2/nothing")).text();

  const res = await world.app.request("/metrics");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  const samples = parseSamples(text);

  assert.equal(
    sample(samples, "http_server_request_duration_count", {
      http_request_method: "GET",
      http_route: "/v1/reports/:id",
      http_response_status_code: "200",
    }),
    readsBefore + 2,
  );
  assert.equal(
    sample(samples, "http_server_request_duration_count", {
      http_route: "/v1/reports/:id",
      http_response_status_code: "404",
    }),
    1,
  );
  // An unmatched path has no route label at all, rather than the raw path.
  const unmatched = samples.filter((s) =>
    s.name === "http_server_request_duration_count" && s.labels.http_response_status_code === "404"
  );
  assert.ok(unmatched.some((s) => !("http_route" in s.labels)));
  assert.equal(
    sample(samples, "http_server_request_duration_count", {
      http_request_method: "POST",
      http_route: "/v1/reports",
    }),
    1,
  );
  // The scrape itself is in flight while it renders.
  assert.equal(sample(samples, "http_server_active_requests", { http_request_method: "GET" }), 1);
  assert.equal(sample(samples, "reportd_jobs_queued", {}), 0);
  assert.equal(sample(samples, "reportd_jobs_running", {}), 0);
  assert.equal(sample(samples, "reportd_job_duration_count", { outcome: "ready" }), 1);
  assert.equal(sample(samples, "reportd_ingest_points_total", {}), report.summary.points);
  assert.equal(sample(samples, "reportd_reports", { status: "ready" }), 1);
  assert.equal(sample(samples, "reportd_reports", { status: "failed" }), 0);
  assert.ok(sample(samples, "reportd_db_size", {}) > 0);
  assert.ok(sample(samples, "process_memory_usage", {}) > 1024 * 1024);
  assert.ok(sample(samples, "v8js_memory_heap_used", {}) > 0);
  // The event-loop sampler records its first sample one tick (100 ms) after start.
  const later = await scrapeUntil(
    world.app,
    (body) => /reportd_event_loop_delay_count \d/.test(body),
  );
  assert.match(later, /^# TYPE reportd_event_loop_delay histogram$/m);

  // No label carries an id (target_info carries the instance id by design).
  const series = text.split("\n").filter((line) => !line.startsWith("target_info"));
  assert.ok(!series.some((line) => line.includes(id)), "A report id became a label");
  assert.ok(!series.some((line) => /"[0-9a-f]{8}-[0-9a-f]{4}-/.test(line)), "An id label");
});

const promtoolPresent = await promtoolAvailable();

Deno.test({
  name: "/metrics passes `promtool check metrics`",
  // Locally promtool may be missing; CI installs it and sets REPORTD_REQUIRE_PROMTOOL=1.
  ignore: !promtoolPresent && !PROMTOOL_REQUIRED,
  async fn() {
    assert.ok(promtoolPresent, "promtool is required (REPORTD_REQUIRE_PROMTOOL=1) but missing");
    await using telemetry = testTelemetry();
    await using world = await testApp({ telemetry });
    telemetry.observeDatabase({
      sizeBytes: () => databaseSizeBytes(world.db),
      reportsByStatus: () => countReportsByStatus(world.db),
    });
    await telemetry.jobs.run(
      { reportId: "r-1", attempt: 1 },
      () => Promise.resolve({ outcome: "failed" as const, error: new Error("Bad input") }),
    );
    await (await postReport(world, SAMPLE_CSV)).text();
    await (await world.app.request("/v2/nothing", { method: "BREW" })).text();
    const text = await (await world.app.request("/metrics")).text();
    const result = await promtoolCheckMetrics(text);
    assert.equal(result.code, 0, result.output);
    assert.equal(result.output.trim(), "", "promtool reported lint problems");
  },
});

/** Scrapes `/metrics` until `ready` accepts the body, for at most `timeoutMs`. */
async function scrapeUntil(
  app: { request(path: string): Response | Promise<Response> },
  ready: (body: string) => boolean,
  timeoutMs = 5000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const body = await (await app.request("/metrics")).text();
    if (ready(body)) return body;
    assert.ok(Date.now() < deadline, "The expected metric never appeared");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the sample lines of Prometheus' text format (label values here never hold `",`). */
function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const match = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]] = pair[2];
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample named `name` whose labels include `labels`. */
function sample(samples: Sample[], name: string, labels: Record<string, string>): number {
  const found = samples.filter((s) =>
    s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value)
  );
  assert.equal(
    found.length,
    1,
    `Expected one ${name} ${JSON.stringify(labels)}, got ${found.length}`,
  );
  return found[0].value;
}
