import assert from "node:assert/strict";
import { ConfigError, ENVIRONMENT_VARIABLES, loadConfig } from "../../services/runtime/config.ts";
import { hashKey } from "../../services/security/api_keys.ts";

Deno.test("loadConfig applies the documented defaults", () => {
  assert.deepEqual(loadConfig({}), {
    port: 8000,
    host: "0.0.0.0",
    databasePath: "./data/reportd.db",
    databaseUrl: undefined,
    databasePool: 10,
    jobLeaseMs: 30_000,
    maxBodyBytes: 52428800,
    maxPoints: 5000000,
    logLevel: "info",
    logFormat: undefined,
    logModuleLevels: {},
    telemetry: {
      serviceName: "reportd",
      otlpEndpoint: undefined,
      otlpProtocol: "http/protobuf",
      otlpHeaders: {},
      metricExportIntervalMs: 60_000,
    },
    workers: navigator.hardwareConcurrency,
    jobAttempts: 3,
    queueMax: 1000,
    maxInflightUploads: 4,
    seriesCacheBytes: 256 * 1024 * 1024,
    failedRetentionMs: 7 * 86_400_000,
    shutdownTimeoutMs: 10_000,
    diskReserveBytes: 16 * 1024 * 1024,
    providers: {
      maxDays: 3660,
      stooqUrl: "https://stooq.com/q/d/l/",
      stooqApiKey: undefined,
      fetchAllowHosts: [],
      fetchAllowPrivate: false,
      fetchAllowHttp: false,
      cacheTtlHistoricalMs: 30 * 86_400_000,
      cacheTtlRecentMs: 15 * 60_000,
      upstreamTimeoutMs: 10_000,
    },
    security: {
      apiKeys: [],
      apiKeysFile: undefined,
      publicRead: false,
      publicMetrics: false,
      trustProxy: false,
      rateRead: { perSecond: 20, burst: 100 },
      rateWrite: { perSecond: 2, burst: 20 },
      corsOrigins: [],
      hsts: false,
      headersTimeoutMs: 10_000,
      idleTimeoutMs: 60_000,
      maxConnections: undefined,
      bodyTimeoutMs: 30_000,
      bodyMinBytesPerSecond: 16384,
      handlerTimeoutMs: 30_000,
    },
  });
});

Deno.test("loadConfig treats empty variables as unset and trims values", () => {
  const config = loadConfig({ PORT: "", REPORTD_MAX_POINTS: " 10 ", LOG_FORMAT: "" });
  assert.equal(config.port, 8000);
  assert.equal(config.maxPoints, 10);
  assert.equal(config.logFormat, undefined);
});

Deno.test("loadConfig reads every variable", () => {
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    REPORTD_DB: ":memory:",
    REPORTD_DATABASE_URL: "postgresql://app:pw@db.internal:6432/reportd?sslmode=require",
    REPORTD_DATABASE_POOL: "4",
    REPORTD_JOB_LEASE: "10s",
    REPORTD_MAX_BODY_BYTES: "2048",
    REPORTD_MAX_POINTS: "7",
    LOG_LEVEL: "debug",
    LOG_FORMAT: "pretty",
    LOG_MODULE_LEVELS: "db=debug, http.access=warning",
    OTEL_SERVICE_NAME: "reportd-eu",
    OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318/",
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=abc%2C123,Tenant = acme",
    OTEL_METRIC_EXPORT_INTERVAL: "15000",
    REPORTD_WORKERS: "3",
    REPORTD_JOB_ATTEMPTS: "5",
    REPORTD_QUEUE_MAX: "10",
    REPORTD_MAX_INFLIGHT_UPLOADS: "2",
    REPORTD_SERIES_CACHE_MB: "0",
    REPORTD_FAILED_RETENTION: "12h",
    REPORTD_SHUTDOWN_TIMEOUT: "1500ms",
    REPORTD_DISK_RESERVE: "1048576",
    REPORTD_PROVIDER_MAX_DAYS: "30",
    REPORTD_STOOQ_URL: "http://127.0.0.1:9999/q/d/l/",
    REPORTD_STOOQ_API_KEY: "secret",
    REPORTD_FETCH_ALLOW_HOSTS: "Data.Example.org, files.example.com",
    REPORTD_FETCH_ALLOW_PRIVATE: "true",
    REPORTD_FETCH_ALLOW_HTTP: "1",
    REPORTD_API_KEYS: `ci:${"c".repeat(32)}:read+write, ops:${"o".repeat(40)}:admin`,
    REPORTD_API_KEYS_FILE: "./data/api_keys",
    REPORTD_PUBLIC_READ: "true",
    REPORTD_PUBLIC_METRICS: "1",
    REPORTD_TRUST_PROXY: "true",
    REPORTD_RATE_READ_PER_S: "0.5",
    REPORTD_RATE_READ_BURST: "5",
    REPORTD_RATE_WRITE_PER_S: "0",
    REPORTD_RATE_WRITE_BURST: "1",
    REPORTD_CORS_ORIGINS: "https://app.example.com, http://localhost:5173",
    REPORTD_HSTS: "true",
    REPORTD_HEADERS_TIMEOUT: "0",
    REPORTD_IDLE_TIMEOUT: "2m",
    REPORTD_MAX_CONNECTIONS: "5000",
    REPORTD_BODY_TIMEOUT: "5s",
    REPORTD_BODY_MIN_RATE: "0",
    REPORTD_HANDLER_TIMEOUT: "1500ms",
    REPORTD_CACHE_TTL_HISTORICAL: "2d",
    REPORTD_CACHE_TTL_RECENT: "30s",
    REPORTD_UPSTREAM_TIMEOUT: "500ms",
  });
  assert.deepEqual(config, {
    port: 0,
    host: "127.0.0.1",
    databasePath: ":memory:",
    databaseUrl: "postgresql://app:pw@db.internal:6432/reportd?sslmode=require",
    databasePool: 4,
    jobLeaseMs: 10_000,
    maxBodyBytes: 2048,
    maxPoints: 7,
    logLevel: "debug",
    logFormat: "pretty",
    logModuleLevels: { db: "debug", "http.access": "warning" },
    telemetry: {
      serviceName: "reportd-eu",
      otlpEndpoint: "http://127.0.0.1:4318",
      otlpProtocol: "http/json",
      otlpHeaders: { "x-api-key": "abc,123", tenant: "acme" },
      metricExportIntervalMs: 15_000,
    },
    workers: 3,
    jobAttempts: 5,
    queueMax: 10,
    maxInflightUploads: 2,
    seriesCacheBytes: 0,
    failedRetentionMs: 12 * 3_600_000,
    shutdownTimeoutMs: 1500,
    diskReserveBytes: 1048576,
    providers: {
      maxDays: 30,
      stooqUrl: "http://127.0.0.1:9999/q/d/l/",
      stooqApiKey: "secret",
      fetchAllowHosts: ["data.example.org", "files.example.com"],
      fetchAllowPrivate: true,
      fetchAllowHttp: true,
      cacheTtlHistoricalMs: 2 * 86_400_000,
      cacheTtlRecentMs: 30_000,
      upstreamTimeoutMs: 500,
    },
    security: {
      apiKeys: [
        { name: "ci", sha256: hashKey("c".repeat(32)), scopes: ["read", "write"] },
        { name: "ops", sha256: hashKey("o".repeat(40)), scopes: ["admin"] },
      ],
      apiKeysFile: "./data/api_keys",
      publicRead: true,
      publicMetrics: true,
      trustProxy: true,
      rateRead: { perSecond: 0.5, burst: 5 },
      rateWrite: { perSecond: 0, burst: 1 },
      corsOrigins: ["https://app.example.com", "http://localhost:5173"],
      hsts: true,
      headersTimeoutMs: 0,
      idleTimeoutMs: 120_000,
      maxConnections: 5000,
      bodyTimeoutMs: 5000,
      bodyMinBytesPerSecond: 0,
      handlerTimeoutMs: 1500,
    },
  });
});

Deno.test("loadConfig names the invalid variable in one line", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: "eighty" }, /^Invalid PORT="eighty": expected a whole number$/],
    [{ REPORTD_FETCH_ALLOW_PRIVATE: "yes" }, /^Invalid REPORTD_FETCH_ALLOW_PRIVATE="yes"/],
    [{ REPORTD_STOOQ_URL: "ftp://x" }, /^Invalid REPORTD_STOOQ_URL="ftp:\/\/x"/],
    [{ REPORTD_FETCH_ALLOW_HOSTS: "a b" }, /^Invalid REPORTD_FETCH_ALLOW_HOSTS="a b"/],
    [{ PORT: "70000" }, /^Invalid PORT="70000": /],
    [{ REPORTD_MAX_POINTS: "-1" }, /^Invalid REPORTD_MAX_POINTS="-1"/],
    [{ REPORTD_MAX_BODY_BYTES: "1.5" }, /^Invalid REPORTD_MAX_BODY_BYTES=/],
    [{ LOG_LEVEL: "verbose" }, /^Invalid LOG_LEVEL="verbose"/],
    [{ LOG_FORMAT: "xml" }, /^Invalid LOG_FORMAT="xml"/],
    [{ REPORTD_WORKERS: "0" }, /^Invalid REPORTD_WORKERS="0"/],
    [
      { REPORTD_FAILED_RETENTION: "1w" },
      /^Invalid REPORTD_FAILED_RETENTION="1w": expected a duration/,
    ],
    [{ REPORTD_SHUTDOWN_TIMEOUT: "-5s" }, /^Invalid REPORTD_SHUTDOWN_TIMEOUT/],
  ];
  for (const [env, message] of cases) {
    assert.throws(() => loadConfig(env), (error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, message);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  }
});

Deno.test(".env.example lists every variable with its default", async () => {
  const text = await Deno.readTextFile(new URL("../../.env.example", import.meta.url));
  const listed = new Map(
    text.split("\n")
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  assert.deepEqual(
    [...listed.keys()].sort(),
    Object.keys(ENVIRONMENT_VARIABLES).sort(),
  );
  for (const [name, spec] of Object.entries(ENVIRONMENT_VARIABLES)) {
    assert.equal(listed.get(name), spec.default, `${name} default differs`);
  }
});
