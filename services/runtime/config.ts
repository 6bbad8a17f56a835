/**
 * Configuration: environment variables validated with zod into one typed object.
 *
 * Only `main.ts` reads the environment (through {@linkcode readEnvironment});
 * everything else receives the {@linkcode Config} it needs. That keeps modules
 * testable with plain objects and makes the permission set name exactly the
 * variables reportd uses.
 *
 * @module
 */
import { z } from "zod";
import { type ConfiguredKey, parseKeyEntries } from "../security/api_keys.ts";
import type { RateLimit } from "../security/rate_limit.ts";
import { databaseUrlProblem } from "../../db/url.ts";

const MIB = 1024 * 1024;

/** Log severities accepted by `LOG_LEVEL`. */
export const LOG_LEVELS = ["debug", "info", "warning", "error"] as const;

/** A severity in {@linkcode LOG_LEVELS}. */
export type LogLevelName = (typeof LOG_LEVELS)[number];

/** OTLP/HTTP encodings accepted by `OTEL_EXPORTER_OTLP_PROTOCOL`. */
export const OTLP_PROTOCOLS = ["http/protobuf", "http/json"] as const;

/** Where traces and metrics go (the `OTEL_*` variables). */
export interface TelemetryConfig {
  /** `service.name` on every span and metric. */
  serviceName: string;
  /** Base URL of an OTLP/HTTP collector; undefined exports nothing. */
  otlpEndpoint: string | undefined;
  /** Body encoding of OTLP requests. */
  otlpProtocol: (typeof OTLP_PROTOCOLS)[number];
  /** Headers sent to the collector (an API key, say); a secret, never logged. */
  otlpHeaders: Record<string, string>;
  /** How often metrics are pushed to the collector, in ms. */
  metricExportIntervalMs: number;
}

/** The validated configuration. */
export interface Config {
  /** TCP port to listen on (0 picks a free one). */
  port: number;
  /** Interface to bind. */
  host: string;
  /** SQLite file path, or `:memory:` (used when no `databaseUrl` is set). */
  databasePath: string;
  /**
   * A postgres:// URL: run on PostgreSQL instead of SQLite. Holds the
   * password, so it is a secret: logs show `databaseLocation` instead.
   */
  databaseUrl: string | undefined;
  /** Most PostgreSQL connections of this instance. */
  databasePool: number;
  /** How long a claimed job stays this instance's without a heartbeat, in ms. */
  jobLeaseMs: number;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Most data rows accepted in one upload. */
  maxPoints: number;
  /** Lowest log severity written. */
  logLevel: (typeof LOG_LEVELS)[number];
  /** Log line format; undefined means "json unless stdout is a terminal". */
  logFormat: "json" | "pretty" | undefined;
  /** Levels of single modules, by category below `reportd` (`db`, `http.access`). */
  logModuleLevels: Record<string, LogLevelName>;
  /** Trace and metric export. */
  telemetry: TelemetryConfig;
  /** Web Workers that parse and compute reports. */
  workers: number;
  /** Tries per job before it is marked failed. */
  jobAttempts: number;
  /** Most queued jobs; beyond it uploads get 503. */
  queueMax: number;
  /** Most uploads being received at once; beyond it uploads get 503. */
  maxInflightUploads: number;
  /** Bytes of decoded series kept in memory for the read path; 0 turns the cache off. */
  seriesCacheBytes: number;
  /** How long the raw upload of a failed report is kept, in ms. */
  failedRetentionMs: number;
  /** How long shutdown waits for requests in flight and running jobs, in ms. */
  shutdownTimeoutMs: number;
  /** Bytes kept back beside the database for a full disk (services/runtime/disk_space.ts). */
  diskReserveBytes: number;
  /** Settings of the market-data providers. */
  providers: ProviderConfig;
  /** Access control, rate limits, CORS and timeouts. */
  security: SecurityConfig;
}

/** Access control, rate limits, HTTP hygiene and server-side timeouts. */
export interface SecurityConfig {
  /** Keys from `REPORTD_API_KEYS`, hashed; a secret, never logged. */
  apiKeys: ConfiguredKey[];
  /** A file of `name:key:scopes` lines, read at start (must be under ./data). */
  apiKeysFile: string | undefined;
  /** Reading reports needs no key. */
  publicRead: boolean;
  /** `GET /metrics` needs no key (otherwise it needs `admin`). */
  publicMetrics: boolean;
  /** Believe the last `X-Forwarded-For` entry as the client address. */
  trustProxy: boolean;
  /** Budget for GET and HEAD requests per client. */
  rateRead: RateLimit;
  /** Budget for every other method per client. */
  rateWrite: RateLimit;
  /** Exact origins allowed by CORS; empty turns CORS off. */
  corsOrigins: string[];
  /** Send `Strict-Transport-Security`. */
  hsts: boolean;
  /** Longest time to receive a request's head, in ms (0: no connection guard). */
  headersTimeoutMs: number;
  /** A connection with no request in flight for this long is closed, in ms. */
  idleTimeoutMs: number;
  /**
   * Connections open at once; more are closed as soon as accepted. Undefined:
   * derived from the open-file limit (services/security/connection_guard.ts).
   */
  maxConnections: number | undefined;
  /** Time a request body gets before the minimum rate applies, in ms. */
  bodyTimeoutMs: number;
  /** Each byte received extends the body deadline by 1/rate seconds (0: no extension). */
  bodyMinBytesPerSecond: number;
  /** Longest time a handler may take, uploads excepted, in ms. */
  handlerTimeoutMs: number;
}

/** Settings of the market-data providers (issue: import from upstream providers). */
export interface ProviderConfig {
  /** Longest date range one import may ask for, in days. */
  maxDays: number;
  /** Base URL of Stooq's CSV download endpoint. */
  stooqUrl: string;
  /** Stooq API key; a secret, never logged. */
  stooqApiKey: string | undefined;
  /** Exact host names the `url` provider may fetch from; empty turns it off. */
  fetchAllowHosts: string[];
  /** Allow loopback, link-local and private addresses (only for tests). */
  fetchAllowPrivate: boolean;
  /** Allow plain http for the `url` provider (only for tests). */
  fetchAllowHttp: boolean;
  /** Cache lifetime of a range entirely in the past, in ms. */
  cacheTtlHistoricalMs: number;
  /** Cache lifetime of a range that includes today, in ms. */
  cacheTtlRecentMs: number;
  /** Timeout of one upstream request, in ms. */
  upstreamTimeoutMs: number;
}

/** Every variable reportd reads, with its default and meaning (also shown by `--help`). */
export const ENVIRONMENT_VARIABLES = {
  PORT: { default: "8000", description: "TCP port to listen on" },
  HOST: { default: "0.0.0.0", description: "Interface to bind" },
  REPORTD_DB: { default: "./data/reportd.db", description: "SQLite database file or :memory:" },
  REPORTD_DATABASE_URL: {
    default: "",
    description: "postgres://user:password@host:5432/db to run on PostgreSQL (secret)",
    secret: true,
  },
  REPORTD_DATABASE_POOL: {
    default: "10",
    description: "PostgreSQL connections for requests; jobs get workers + 2",
  },
  REPORTD_JOB_LEASE: {
    default: "30s",
    description: "A job whose instance stops is taken over after this",
  },
  REPORTD_MAX_BODY_BYTES: { default: String(50 * MIB), description: "Largest request body" },
  REPORTD_MAX_POINTS: { default: "5000000", description: "Most data rows in one upload" },
  LOG_LEVEL: { default: "info", description: "debug, info, warning or error" },
  LOG_FORMAT: { default: "", description: "json or pretty (default: json unless a terminal)" },
  LOG_MODULE_LEVELS: {
    default: "",
    description: "Levels of single modules, e.g. db=debug,http.access=warning",
  },
  OTEL_SERVICE_NAME: { default: "reportd", description: "service.name on traces and metrics" },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    default: "",
    description: "OTLP/HTTP collector base URL; unset exports nothing",
  },
  OTEL_EXPORTER_OTLP_PROTOCOL: {
    default: "http/protobuf",
    description: "http/protobuf or http/json",
  },
  OTEL_EXPORTER_OTLP_HEADERS: {
    default: "",
    description: "Headers for the collector, name=value,... (secret)",
    secret: true,
  },
  OTEL_METRIC_EXPORT_INTERVAL: { default: "60000", description: "Metric push interval in ms" },
  REPORTD_WORKERS: { default: "", description: "Worker threads for processing (default: CPUs)" },
  REPORTD_JOB_ATTEMPTS: { default: "3", description: "Tries per job before it fails" },
  REPORTD_QUEUE_MAX: { default: "1000", description: "Most queued jobs before uploads get 503" },
  REPORTD_MAX_INFLIGHT_UPLOADS: { default: "4", description: "Most uploads received at once" },
  REPORTD_SERIES_CACHE_MB: {
    default: "256",
    description: "MiB of decoded series kept in memory for reads (0: off)",
  },
  REPORTD_FAILED_RETENTION: { default: "7d", description: "How long failed uploads are kept" },
  REPORTD_DISK_RESERVE: {
    default: String(16 * MIB),
    description: "Bytes kept back beside the database for when the disk fills (0: none)",
  },
  REPORTD_SHUTDOWN_TIMEOUT: {
    default: "10s",
    description: "How long shutdown waits for requests and jobs",
  },
  REPORTD_PROVIDER_MAX_DAYS: { default: "3660", description: "Longest date range of an import" },
  REPORTD_STOOQ_URL: { default: "https://stooq.com/q/d/l/", description: "Stooq CSV endpoint" },
  REPORTD_STOOQ_API_KEY: { default: "", description: "Stooq API key, appended when set (secret)" },
  REPORTD_FETCH_ALLOW_HOSTS: { default: "", description: "Hosts the url provider may fetch from" },
  REPORTD_FETCH_ALLOW_PRIVATE: {
    default: "false",
    description: "Let fetches reach loopback/private addresses (tests only)",
  },
  REPORTD_FETCH_ALLOW_HTTP: {
    default: "false",
    description: "Let the url provider use plain http (tests only)",
  },
  REPORTD_CACHE_TTL_HISTORICAL: { default: "30d", description: "Cache life of past ranges" },
  REPORTD_CACHE_TTL_RECENT: { default: "15m", description: "Cache life of ranges touching today" },
  REPORTD_UPSTREAM_TIMEOUT: { default: "10s", description: "Timeout of one upstream request" },
  REPORTD_API_KEYS: {
    default: "",
    description: "API keys as name:key:scopes,... with scopes joined by + (secret)",
    secret: true,
  },
  REPORTD_API_KEYS_FILE: {
    default: "",
    description: "File of name:key:scopes lines; must be under ./data",
  },
  REPORTD_PUBLIC_READ: { default: "false", description: "Reading reports needs no key" },
  REPORTD_PUBLIC_METRICS: { default: "false", description: "/metrics needs no admin key" },
  REPORTD_TRUST_PROXY: {
    default: "false",
    description: "Believe X-Forwarded-For (only behind your own proxy)",
  },
  REPORTD_RATE_READ_PER_S: { default: "20", description: "Reads per second per client (0: off)" },
  REPORTD_RATE_READ_BURST: { default: "100", description: "Largest burst of reads per client" },
  REPORTD_RATE_WRITE_PER_S: { default: "2", description: "Writes per second per client (0: off)" },
  REPORTD_RATE_WRITE_BURST: { default: "20", description: "Largest burst of writes per client" },
  REPORTD_CORS_ORIGINS: {
    default: "",
    description: "Exact origins allowed by CORS (off if empty)",
  },
  REPORTD_HSTS: { default: "false", description: "Send Strict-Transport-Security" },
  REPORTD_HEADERS_TIMEOUT: { default: "10s", description: "Time to send a request head (0: off)" },
  REPORTD_IDLE_TIMEOUT: { default: "60s", description: "Close connections silent this long" },
  REPORTD_MAX_CONNECTIONS: {
    default: "",
    description: "Connections open at once (default: free descriptors - 128, at most 1024)",
  },
  REPORTD_BODY_TIMEOUT: { default: "30s", description: "Time a request body gets at first" },
  REPORTD_BODY_MIN_RATE: { default: "16384", description: "Bytes/s that extend the body time" },
  REPORTD_HANDLER_TIMEOUT: { default: "30s", description: "Longest handler time, uploads aside" },
} as const;

/** Names of the variables in {@linkcode ENVIRONMENT_VARIABLES}. */
export type EnvironmentName = keyof typeof ENVIRONMENT_VARIABLES;

function integerSetting(min: number, max: number) {
  return z.string().trim().regex(/^\d+$/, "expected a whole number").transform(Number).pipe(
    z.number().int().min(min).max(max),
  );
}

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

// Durations read as a whole number with a unit: 500ms, 10s, 15m, 12h, 7d, because
// "REPORTD_FAILED_RETENTION=604800" is hard to review. A bare number is refused:
// REPORTD_FAILED_RETENTION=7 used to mean 7 seconds where 7 days was meant, and
// deleted failed uploads at the next start. Only 0 (off, the same in any unit)
// may go without one.
function durationSetting() {
  return z.string().trim().regex(
    /^(0|\d+(ms|s|m|h|d))$/,
    "expected a duration with a unit, like 500ms, 10s, 15m, 12h or 7d",
  ).transform((text) => {
    const unit = text.match(/[a-z]+$/)?.[0] ?? "s";
    return Number.parseInt(text, 10) * DURATION_UNITS_MS[unit];
  });
}

function booleanSetting() {
  return z.string().trim().toLowerCase().pipe(z.enum(["true", "false", "1", "0"]))
    .transform((text) => text === "true" || text === "1");
}

// `db=debug,http.access=warning`: module names as in the logger categories below
// "reportd", each with one of LOG_LEVELS.
function moduleLevelsSetting() {
  return z.string().transform((text, context) => {
    const levels: Record<string, LogLevelName> = {};
    for (const entry of text.split(",").map((part) => part.trim()).filter(Boolean)) {
      const [name, level, extra] = entry.split("=").map((part) => part.trim());
      if (
        extra !== undefined || !/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/.test(name ?? "") ||
        !(LOG_LEVELS as readonly string[]).includes(level ?? "")
      ) {
        context.addIssue({
          code: "custom",
          message: `expected module=level pairs like db=debug, got ${JSON.stringify(entry)}`,
        });
        return z.NEVER;
      }
      levels[name] = level as LogLevelName;
    }
    return levels;
  });
}

// A base URL; /v1/traces and /v1/metrics are appended. Credentials in the URL
// would end up in logs and error messages, and fetch refuses them anyway.
function otlpEndpointSetting() {
  return z.string().trim().transform((text, context) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      context.addIssue({ code: "custom", message: "expected an http(s) URL" });
      return z.NEVER;
    }
    const problem = url.protocol !== "http:" && url.protocol !== "https:"
      ? "expected an http(s) URL"
      : url.username !== "" || url.password !== ""
      ? "put credentials in OTEL_EXPORTER_OTLP_HEADERS, not in the URL"
      : url.search !== "" || url.hash !== ""
      ? "expected a base URL without query or fragment"
      : undefined;
    if (problem !== undefined) {
      context.addIssue({ code: "custom", message: problem });
      return z.NEVER;
    }
    return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
  });
}

// The OpenTelemetry format: name=value pairs, comma-separated, values
// percent-encoded. Messages never quote a value: these are secrets.
function otlpHeadersSetting() {
  return z.string().transform((text, context) => {
    const headers: Record<string, string> = {};
    for (const entry of text.split(",").map((part) => part.trim()).filter(Boolean)) {
      const equals = entry.indexOf("=");
      const name = entry.slice(0, equals).trim().toLowerCase();
      let value: string | undefined;
      try {
        value = decodeURIComponent(entry.slice(equals + 1).trim());
      } catch {
        value = undefined;
      }
      if (equals <= 0 || !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name) || value === undefined) {
        context.addIssue({
          code: "custom",
          message: "expected name=value pairs separated by commas (values percent-encoded)",
        });
        return z.NEVER;
      }
      headers[name] = value;
    }
    return headers;
  });
}

// A sustained request rate: a decimal number of requests per second, 0 for no limit.
function rateSetting() {
  return z.string().trim().regex(/^\d+(\.\d+)?$/, "expected a number of requests per second")
    .transform(Number).pipe(z.number().min(0).max(1_000_000));
}

// REPORTD_API_KEYS: the entries are hashed here, so the plain keys go no
// further than this function. Messages never quote a key.
function apiKeysSetting() {
  return z.string().transform((text, context) => {
    if (text.trim() === "") return [];
    try {
      const keys = parseKeyEntries(text, { separator: "," });
      if (keys.length === 0) throw new Error("No key is listed");
      return keys;
    } catch (error) {
      context.addIssue({ code: "custom", message: (error as Error).message });
      return z.NEVER;
    }
  });
}

// Exact origins (scheme, host, port; no path): a CORS allow-list is compared
// byte for byte with the Origin header, so a trailing slash would never match.
function originsSetting() {
  return z.string().transform((text, context) => {
    const origins = text.split(",").map((part) => part.trim()).filter((part) => part !== "");
    for (const origin of origins) {
      let parsed: URL | undefined;
      try {
        parsed = new URL(origin);
      } catch {
        parsed = undefined;
      }
      if (
        parsed === undefined || !["http:", "https:"].includes(parsed.protocol) ||
        parsed.origin !== origin
      ) {
        context.addIssue({
          code: "custom",
          message: `expected exact origins like https://app.example.com, got ${
            JSON.stringify(origin)
          }`,
        });
        return z.NEVER;
      }
    }
    return origins;
  });
}

const ConfigSchema = z.object({
  PORT: integerSetting(0, 65535),
  HOST: z.string().trim().min(1).max(255),
  REPORTD_DB: z.string().trim().min(1),
  REPORTD_DATABASE_URL: z.string().trim().superRefine((url, context) => {
    const problem = databaseUrlProblem(url);
    if (problem !== undefined) context.addIssue({ code: "custom", message: problem });
  }).optional(),
  REPORTD_DATABASE_POOL: integerSetting(1, 1000),
  REPORTD_JOB_LEASE: durationSetting().pipe(
    z.number().min(2000, "expected at least 2s").max(3_600_000, "expected at most 1h"),
  ),
  REPORTD_MAX_BODY_BYTES: integerSetting(1024, 4096 * MIB),
  REPORTD_MAX_POINTS: integerSetting(1, 100_000_000),
  LOG_LEVEL: z.enum(LOG_LEVELS),
  LOG_FORMAT: z.enum(["json", "pretty"]).optional(),
  LOG_MODULE_LEVELS: moduleLevelsSetting(),
  OTEL_SERVICE_NAME: z.string().trim().min(1).max(255).regex(
    /^[\x20-\x7e]+$/,
    "expected printable ASCII",
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpointSetting().optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(OTLP_PROTOCOLS),
  OTEL_EXPORTER_OTLP_HEADERS: otlpHeadersSetting(),
  OTEL_METRIC_EXPORT_INTERVAL: integerSetting(1000, 86_400_000),
  REPORTD_WORKERS: integerSetting(1, 256).optional(),
  REPORTD_JOB_ATTEMPTS: integerSetting(1, 100),
  REPORTD_QUEUE_MAX: integerSetting(1, 1_000_000),
  REPORTD_MAX_INFLIGHT_UPLOADS: integerSetting(1, 1024),
  REPORTD_SERIES_CACHE_MB: integerSetting(0, 1_048_576),
  REPORTD_FAILED_RETENTION: durationSetting(),
  REPORTD_DISK_RESERVE: integerSetting(0, 4096 * MIB),
  REPORTD_SHUTDOWN_TIMEOUT: durationSetting(),
  REPORTD_PROVIDER_MAX_DAYS: integerSetting(1, 100_000),
  REPORTD_STOOQ_URL: z.url({ protocol: /^https?$/ }),
  REPORTD_STOOQ_API_KEY: z.string().trim().max(512).optional(),
  REPORTD_FETCH_ALLOW_HOSTS: z.string().transform((text) =>
    text.split(",").map((host) => host.trim().toLowerCase()).filter((host) => host !== "")
  ).pipe(z.array(z.string().regex(/^[a-z0-9.-]{1,253}$/, "expected host names, comma-separated"))),
  REPORTD_FETCH_ALLOW_PRIVATE: booleanSetting(),
  REPORTD_FETCH_ALLOW_HTTP: booleanSetting(),
  REPORTD_CACHE_TTL_HISTORICAL: durationSetting(),
  REPORTD_CACHE_TTL_RECENT: durationSetting(),
  REPORTD_UPSTREAM_TIMEOUT: durationSetting(),
  REPORTD_API_KEYS: apiKeysSetting(),
  REPORTD_API_KEYS_FILE: z.string().trim().max(4096).optional(),
  REPORTD_PUBLIC_READ: booleanSetting(),
  REPORTD_PUBLIC_METRICS: booleanSetting(),
  REPORTD_TRUST_PROXY: booleanSetting(),
  REPORTD_RATE_READ_PER_S: rateSetting(),
  REPORTD_RATE_READ_BURST: integerSetting(1, 1_000_000),
  REPORTD_RATE_WRITE_PER_S: rateSetting(),
  REPORTD_RATE_WRITE_BURST: integerSetting(1, 1_000_000),
  REPORTD_CORS_ORIGINS: originsSetting(),
  REPORTD_HSTS: booleanSetting(),
  REPORTD_HEADERS_TIMEOUT: durationSetting(),
  REPORTD_IDLE_TIMEOUT: durationSetting().pipe(z.number().min(1000, "expected at least 1s")),
  REPORTD_MAX_CONNECTIONS: integerSetting(1, 10_000_000).optional(),
  REPORTD_BODY_TIMEOUT: durationSetting().pipe(z.number().min(1000, "expected at least 1s")),
  REPORTD_BODY_MIN_RATE: integerSetting(0, 1024 * MIB),
  REPORTD_HANDLER_TIMEOUT: durationSetting().pipe(z.number().min(1000, "expected at least 1s")),
});

/** Thrown when a variable is invalid; the message names it and is fit to print as is. */
export class ConfigError extends Error {
  /** Wraps the one-line message. */
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/**
 * Validates `env` (unset and empty variables take their defaults) into a {@linkcode Config}.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./config.ts";
 * const config = loadConfig({ PORT: "9000" });
 * console.assert(config.port === 9000 && config.maxPoints === 5_000_000);
 * ```
 */
export function loadConfig(env: Partial<Record<string, string>>): Config {
  const input: Record<string, string | undefined> = {};
  for (const [name, spec] of Object.entries(ENVIRONMENT_VARIABLES)) {
    const value = env[name];
    input[name] = value === undefined || value.trim() === "" ? spec.default : value;
  }
  for (
    const optional of [
      "LOG_FORMAT",
      "REPORTD_WORKERS",
      "REPORTD_STOOQ_API_KEY",
      "OTEL_EXPORTER_OTLP_ENDPOINT",
      "REPORTD_API_KEYS_FILE",
      "REPORTD_MAX_CONNECTIONS",
      "REPORTD_DATABASE_URL",
    ]
  ) {
    if (input[optional] === "") input[optional] = undefined;
  }
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue.path[0]);
    const spec = ENVIRONMENT_VARIABLES[name as EnvironmentName];
    // A secret's value must not reach a terminal or a log through an error message.
    const shown = "secret" in spec ? " (value hidden)" : `=${JSON.stringify(input[name])}`;
    throw new ConfigError(`Invalid ${name}${shown}: ${issue.message}`);
  }
  const values = parsed.data;
  return {
    port: values.PORT,
    host: values.HOST,
    databasePath: values.REPORTD_DB,
    databaseUrl: values.REPORTD_DATABASE_URL,
    databasePool: values.REPORTD_DATABASE_POOL,
    jobLeaseMs: values.REPORTD_JOB_LEASE,
    maxBodyBytes: values.REPORTD_MAX_BODY_BYTES,
    maxPoints: values.REPORTD_MAX_POINTS,
    logLevel: values.LOG_LEVEL,
    logFormat: values.LOG_FORMAT,
    logModuleLevels: values.LOG_MODULE_LEVELS,
    telemetry: {
      serviceName: values.OTEL_SERVICE_NAME,
      otlpEndpoint: values.OTEL_EXPORTER_OTLP_ENDPOINT,
      otlpProtocol: values.OTEL_EXPORTER_OTLP_PROTOCOL,
      otlpHeaders: values.OTEL_EXPORTER_OTLP_HEADERS,
      metricExportIntervalMs: values.OTEL_METRIC_EXPORT_INTERVAL,
    },
    workers: values.REPORTD_WORKERS ?? navigator.hardwareConcurrency,
    jobAttempts: values.REPORTD_JOB_ATTEMPTS,
    queueMax: values.REPORTD_QUEUE_MAX,
    maxInflightUploads: values.REPORTD_MAX_INFLIGHT_UPLOADS,
    seriesCacheBytes: values.REPORTD_SERIES_CACHE_MB * 1024 * 1024,
    failedRetentionMs: values.REPORTD_FAILED_RETENTION,
    shutdownTimeoutMs: values.REPORTD_SHUTDOWN_TIMEOUT,
    diskReserveBytes: values.REPORTD_DISK_RESERVE,
    providers: {
      maxDays: values.REPORTD_PROVIDER_MAX_DAYS,
      stooqUrl: values.REPORTD_STOOQ_URL,
      stooqApiKey: values.REPORTD_STOOQ_API_KEY,
      fetchAllowHosts: values.REPORTD_FETCH_ALLOW_HOSTS,
      fetchAllowPrivate: values.REPORTD_FETCH_ALLOW_PRIVATE,
      fetchAllowHttp: values.REPORTD_FETCH_ALLOW_HTTP,
      cacheTtlHistoricalMs: values.REPORTD_CACHE_TTL_HISTORICAL,
      cacheTtlRecentMs: values.REPORTD_CACHE_TTL_RECENT,
      upstreamTimeoutMs: values.REPORTD_UPSTREAM_TIMEOUT,
    },
    security: {
      apiKeys: values.REPORTD_API_KEYS,
      apiKeysFile: values.REPORTD_API_KEYS_FILE,
      publicRead: values.REPORTD_PUBLIC_READ,
      publicMetrics: values.REPORTD_PUBLIC_METRICS,
      trustProxy: values.REPORTD_TRUST_PROXY,
      rateRead: {
        perSecond: values.REPORTD_RATE_READ_PER_S,
        burst: values.REPORTD_RATE_READ_BURST,
      },
      rateWrite: {
        perSecond: values.REPORTD_RATE_WRITE_PER_S,
        burst: values.REPORTD_RATE_WRITE_BURST,
      },
      corsOrigins: values.REPORTD_CORS_ORIGINS,
      hsts: values.REPORTD_HSTS,
      headersTimeoutMs: values.REPORTD_HEADERS_TIMEOUT,
      idleTimeoutMs: values.REPORTD_IDLE_TIMEOUT,
      maxConnections: values.REPORTD_MAX_CONNECTIONS,
      bodyTimeoutMs: values.REPORTD_BODY_TIMEOUT,
      bodyMinBytesPerSecond: values.REPORTD_BODY_MIN_RATE,
      handlerTimeoutMs: values.REPORTD_HANDLER_TIMEOUT,
    },
  };
}

/**
 * Reads exactly the variables in {@linkcode ENVIRONMENT_VARIABLES}, one by one,
 * so the permission set can grant those names and no others.
 */
export function readEnvironment(): Partial<Record<string, string>> {
  const env: Partial<Record<string, string>> = {};
  for (const name of Object.keys(ENVIRONMENT_VARIABLES)) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}
