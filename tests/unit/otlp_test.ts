import assert from "node:assert/strict";
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { otlpSpanExporter } from "../../services/telemetry/otlp.ts";
import { captureLogs } from "../helpers/log_capture.ts";
import { startOtlpReceiver } from "../helpers/otlp_receiver.ts";

function exportOnce(
  exporter: ReturnType<typeof otlpSpanExporter>,
  spans: ReadableSpan[] = [],
): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

Deno.test("A collector answering 503 gets the same batch again until it takes it", async () => {
  const statuses = [503, 503, 200];
  await using receiver = startOtlpReceiver({ status: () => statuses.shift() ?? 200 });
  const exporter = otlpSpanExporter({
    endpoint: `${receiver.endpoint}/`,
    protocol: "http/json",
    headers: { "x-api-key": "k-1" },
  });
  try {
    const result = await exportOnce(exporter);
    assert.equal(result.code, ExportResultCode.SUCCESS);
    assert.equal(receiver.received.length, 3);
    for (const item of receiver.received) {
      assert.equal(item.path, "/v1/traces");
      assert.equal(item.contentType, "application/json");
      assert.equal(item.headers.get("x-api-key"), "k-1");
    }
  } finally {
    await exporter.shutdown();
  }
});

Deno.test("A rejected export fails at once and is logged once, recovery once", async () => {
  await using logs = await captureLogs();
  let status = 400;
  await using receiver = startOtlpReceiver({ status: () => status });
  const exporter = otlpSpanExporter({ endpoint: receiver.endpoint, protocol: "http/protobuf" });
  try {
    assert.equal((await exportOnce(exporter)).code, ExportResultCode.FAILED);
    assert.equal((await exportOnce(exporter)).code, ExportResultCode.FAILED);
    // 400 is not transient: no retries.
    assert.equal(receiver.received.length, 2);
    status = 200;
    assert.equal((await exportOnce(exporter)).code, ExportResultCode.SUCCESS);
    assert.equal((await exportOnce(exporter)).code, ExportResultCode.SUCCESS);
  } finally {
    await exporter.shutdown();
  }
  const messages = logs.records().map((line) => [line.level, line.message, line.reason]);
  assert.deepEqual(messages, [
    [
      "WARN",
      "Cannot export telemetry to {url}: {reason}; dropping it until the collector answers",
      "HTTP 400",
    ],
    ["INFO", "Exporting telemetry to {url} again", undefined],
  ]);
});

Deno.test("An unreachable collector fails within the deadline, without retries at shutdown", async () => {
  // A port that was free a moment ago: connections are refused.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  const exporter = otlpSpanExporter({
    endpoint: `http://127.0.0.1:${port}`,
    protocol: "http/json",
    timeoutMs: 300,
  });
  exporter.stopRetrying();
  const result = await exportOnce(exporter);
  assert.equal(result.code, ExportResultCode.FAILED);
  assert.match(result.error?.message ?? "", /^OTLP export failed: /);
  await exporter.shutdown();
});
