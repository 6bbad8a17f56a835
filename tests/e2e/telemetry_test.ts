import assert from "node:assert/strict";
import { spanAttribute, startOtlpReceiver } from "../helpers/otlp_receiver.ts";
import { PROMTOOL_REQUIRED, promtoolAvailable, promtoolCheckMetrics } from "../helpers/promtool.ts";
import { makeDataDir, runCli, startServer } from "../helpers/server_process.ts";

const TRACE_ID = "5b8efff798038103d269b633813fc60c";
const PARENT_SPAN_ID = "eee19b7ec3c1b174";

Deno.test("e2e: a real process logs, serves /metrics and sends its spans to a collector", async () => {
  await using receiver = startOtlpReceiver();
  await using server = await startServer({
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=collector-secret-1",
      OTEL_SERVICE_NAME: "reportd-e2e",
    },
  });
  const listed = await fetch(`${server.baseUrl}/v1/reports?limit=1`, {
    headers: {
      traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`,
      authorization: "Bearer client-secret-2",
    },
  });
  assert.equal(listed.status, 200);
  await listed.body?.cancel();

  const scrape = await fetch(`${server.baseUrl}/metrics`);
  assert.equal(scrape.status, 200);
  const metrics = await scrape.text();
  assert.match(
    metrics,
    /^http_server_request_duration_count\{http_request_method="GET",http_response_status_code="200",http_route="\/v1\/reports"\} 1$/m,
  );
  assert.match(metrics, /^target_info\{service_name="reportd-e2e",/m);
  assert.match(metrics, /^reportd_jobs_queued 0$/m);
  assert.match(metrics, /^reportd_db_size \d+$/m);
  if (PROMTOOL_REQUIRED || await promtoolAvailable()) {
    const lint = await promtoolCheckMetrics(metrics);
    assert.equal(lint.code, 0, lint.output);
  }

  // SIGTERM flushes what is pending before the process exits.
  assert.equal((await server.stop("SIGTERM")).code, 0);
  await receiver.until(() =>
    receiver.spans().some((span) => span.traceId === TRACE_ID) &&
    receiver.metricNames().has("http.server.request.duration")
  );
  const span = receiver.spans().find((span) => span.traceId === TRACE_ID && span.kind === 2)!;
  assert.equal(span.name, "GET /v1/reports");
  assert.equal(span.parentSpanId, PARENT_SPAN_ID);
  assert.equal(spanAttribute(span, "http.response.status_code"), 200);
  const traces = receiver.received.find((item) => item.path === "/v1/traces")!;
  assert.equal(traces.headers.get("x-api-key"), "collector-secret-1");
  assert.match(new TextDecoder().decode(traces.body), /"stringValue":"reportd-e2e"/);

  // Every line is JSON; the request's line carries its trace; no secret is logged.
  const records = server.logs.map((line) => JSON.parse(line));
  const access = records.find((record) =>
    record.logger === "reportd.http.access" && record.route === "/v1/reports"
  );
  assert.equal(access?.trace_id, TRACE_ID);
  assert.equal(access?.span_id, span.spanId);
  const starting = records.find((record) => record.message === "Starting reportd {version}");
  assert.deepEqual(starting?.config.telemetry.otlpHeaders, { "x-api-key": "[redacted]" });
  for (const line of server.logs) {
    assert.ok(!line.includes("collector-secret-1") && !line.includes("client-secret-2"), line);
  }
  assert.ok(records.some((record) => record.message === "Stopped cleanly"));
});

Deno.test("e2e: a collector outside the permission set stops the start with one clear line", async () => {
  const dataDir = await makeDataDir();
  try {
    const result = await runCli(["serve"], {
      env: {
        PORT: "0",
        HOST: "127.0.0.1",
        REPORTD_DB: `${dataDir}/reportd.db`,
        LOG_FORMAT: "json",
        OTEL_EXPORTER_OTLP_ENDPOINT: "https://otel.example.com",
      },
    });
    assert.equal(result.code, 1, result.stderr);
    const error = result.stdout.split("\n").filter(Boolean).map((line) => JSON.parse(line))
      .find((record) => record.level === "ERROR");
    assert.match(error?.message ?? "", /otel\.example\.com:443/);
    assert.match(error?.message ?? "", /permissions\.default\.net/);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
