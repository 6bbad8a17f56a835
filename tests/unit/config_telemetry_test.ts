import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../../services/runtime/config.ts";

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.doesNotMatch(error.message, /\n/);
    return error.message;
  }
  assert.fail(`Expected ${JSON.stringify(env)} to be rejected`);
}

Deno.test("OTEL_EXPORTER_OTLP_ENDPOINT takes an http(s) base URL and nothing else", () => {
  const endpoint = (value: string) => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: value }).telemetry;
  assert.equal(endpoint("https://otel.example.com/").otlpEndpoint, "https://otel.example.com");
  assert.equal(endpoint("http://collector:4318/base//").otlpEndpoint, "http://collector:4318/base");
  assert.equal(endpoint("  ").otlpEndpoint, undefined);
  assert.match(
    configError({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" }),
    /^Invalid OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318": expected an http\(s\) URL$/,
  );
  assert.match(
    configError({ OTEL_EXPORTER_OTLP_ENDPOINT: "ftp://collector" }),
    /expected an http\(s\) URL$/,
  );
  assert.match(
    configError({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://u:p@otel.example.com" }),
    /put credentials in OTEL_EXPORTER_OTLP_HEADERS/,
  );
  assert.match(
    configError({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://otel.example.com/?x=1" }),
    /without query or fragment$/,
  );
});

Deno.test("A malformed OTEL_EXPORTER_OTLP_HEADERS is rejected without showing its value", () => {
  for (const value of ["api-key", "=abc", "x-api-key=%zz", "bad name=secret-value"]) {
    const message = configError({ OTEL_EXPORTER_OTLP_HEADERS: value });
    assert.match(message, /^Invalid OTEL_EXPORTER_OTLP_HEADERS \(value hidden\): expected name=/);
    assert.ok(!message.includes(value), message);
  }
});

Deno.test("LOG_MODULE_LEVELS takes module=level pairs", () => {
  assert.deepEqual(loadConfig({ LOG_MODULE_LEVELS: "jobs=error" }).logModuleLevels, {
    jobs: "error",
  });
  for (const value of ["db", "db=verbose", "DB=debug", "db=debug=info", ".db=info"]) {
    assert.match(
      configError({ LOG_MODULE_LEVELS: value }),
      /^Invalid LOG_MODULE_LEVELS=".*": expected module=level pairs like db=debug/,
    );
  }
});

Deno.test("OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_METRIC_EXPORT_INTERVAL and OTEL_SERVICE_NAME are checked", () => {
  assert.match(
    configError({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }),
    /^Invalid OTEL_EXPORTER_OTLP_PROTOCOL="grpc"/,
  );
  assert.match(
    configError({ OTEL_METRIC_EXPORT_INTERVAL: "500" }),
    /^Invalid OTEL_METRIC_EXPORT_INTERVAL="500"/,
  );
  assert.match(configError({ OTEL_SERVICE_NAME: "r\u00e9portd" }), /expected printable ASCII/);
});
