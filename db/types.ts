/**
 * The engine-neutral contract of db/: the records services see and the
 * {@linkcode Repositories} every engine (db/sqlite/, db/postgres/) implements
 * behind the same async signatures.
 *
 * Records use their own types (structurally identical to the domain's) so
 * that db/ imports nothing from services/. Timestamps are ISO-8601 UTC
 * strings on both engines: they sort as text, compare across engines byte for
 * byte, and a value written by one engine reads back unchanged from the other.
 *
 * @module
 */

/** Lifecycle states of a report. */
export type ReportStatus = "queued" | "processing" | "ready" | "failed";

/** A JSON object stored in a text column. */
export type JsonObject = Record<string, unknown>;

/** A report as stored, without its series. */
export interface ReportRecord {
  id: string;
  name: string;
  status: ReportStatus;
  /** Where the data came from, e.g. `{"kind": "upload", "format": "csv"}`. */
  source: JsonObject;
  /** Row accounting, once processed. */
  rowCounts: JsonObject | null;
  /** Summary statistics, once ready. */
  summary: JsonObject | null;
  /** Problem object, when failed. */
  error: JsonObject | null;
  /** ISO-8601 UTC. */
  createdAt: string;
  /** ISO-8601 UTC. */
  updatedAt: string;
  /** When the upload was committed and queued; ISO-8601 UTC. */
  queuedAt: string | null;
  /** When a worker last started on it. */
  startedAt: string | null;
  /** When it became ready or failed. */
  finishedAt: string | null;
}

/** A series as stored: epoch-millisecond timestamps and one Float64Array per column. */
export interface StoredSeries {
  timestamps: Float64Array;
  names: string[];
  columns: Float64Array[];
}

/** Options for `listReports`. */
export interface ListOptions {
  /** Most rows to return. */
  limit: number;
  /** Return only reports with an id below this one (keyset pagination). */
  beforeId?: string;
  /** Return only reports in this state. */
  status?: ReportStatus;
}

/** What a worker needs to process one job. */
export interface ClaimedJob {
  reportId: string;
  uploadId: string;
  format: JobFormat;
  /** Size of the raw upload. */
  bytes: number;
  /** Attempts including this one, counted across every instance. */
  attempts: number;
  /** Whether a name found in the (JSON) body should replace the default one. */
  nameFromBody: boolean;
  /** W3C trace context of the request that queued it, if any. */
  traceparent: string | null;
  /** For an import job, the provider source to fetch (instead of an upload). */
  importSource: JsonObject | null;
  /** The client's parse options (`?delimiter=` and the others), or null. */
  parseOptions: JsonObject | null;
  /**
   * The fencing token of this claim: completing, failing, requeueing and
   * renewing succeed only while the job still carries it. A new claim (after
   * the lease expired and another instance took the job) gets a new token.
   */
  lease: JobLease;
}

/** Who holds a claimed job, and the token that proves it. */
export interface JobLease {
  /** The instance that claimed it (`locked_by`). */
  holder: string;
  /** Random per claim. */
  token: string;
}

/** How a job is claimed. */
export interface ClaimOptions {
  /** Now, ISO-8601 UTC. */
  now: string;
  /** The instance claiming it (stored as `locked_by`). */
  holder: string;
  /** The lease lasts this long unless renewed, in ms. */
  leaseMs: number;
}

/** How a job's bytes are encoded. */
export type JobFormat = "csv" | "json" | "ndjson" | "parquet";

/** A job to create together with its report. */
export interface NewJob {
  uploadId: string;
  /**
   * The upload's last chunk, stored in the same transaction as the report
   * and job rows (chunks before it were appended already): a small upload
   * then costs one commit. Not stored when an Idempotency-Key replays.
   */
  lastChunk?: { seq: number; data: Uint8Array };
  format: JobFormat;
  bytes: number;
  nameFromBody: boolean;
  traceparent?: string;
  /** For an import job: the provider source; the upload is then empty. */
  importSource?: JsonObject;
  /** The client's parse options, when it gave any. */
  parseOptions?: JsonObject;
}

/** An Idempotency-Key to record with a new report. */
export interface IdempotencyRecord {
  key: string;
  bodySha256: string;
  createdAt: string;
}

/** What `enqueueReport` did. */
export type EnqueueResult =
  | { outcome: "created" }
  | { outcome: "replayed"; report: ReportRecord }
  | { outcome: "key_reused" };

/** The output of a successful job. */
export interface JobResult {
  rowCounts: JsonObject;
  summary: JsonObject;
  series: StoredSeries;
  /** Replaces the report's `source` (an import records whether the cache answered). */
  source?: JsonObject;
  /** Replaces the report's name when the job was created with `nameFromBody`. */
  name?: string;
  finishedAt: string;
}

/** A job's final failure. */
export interface JobFailure {
  error: JsonObject;
  rowCounts?: JsonObject;
  source?: JsonObject;
  finishedAt: string;
}

/** How a job goes back to the queue. */
export interface RequeueOptions {
  now: string;
  lastError?: string;
  /** Uncount the attempt: it was interrupted (shutdown), not failed. */
  refundAttempt?: boolean;
  /** Not claimable before this time (backoff after a storage error); ISO-8601 UTC. */
  notBefore?: string;
}

/** What a fenced job update found. */
export type FencedOutcome = "done" | "lost" | "gone";

/** What `purgeExpired` removed. */
export interface PurgeResult {
  failedUploads: number;
  idempotencyKeys: number;
}

/** What `sweepJobs` did. */
export interface SweepResult {
  /** Jobs whose lease had expired, put back to `queued`. */
  reclaimed: number;
  /** Upload chunks of bodies nobody was receiving any more. */
  orphanChunks: number;
}

/** Options for `sweepJobs`. */
export interface SweepOptions {
  /** Now, ISO-8601 UTC. */
  now: string;
  /** Uploads without a job whose last chunk is older than this are deleted; ISO-8601 UTC. */
  orphanUploadsBefore: string;
  /**
   * Treat every lease as expired and every unqueued upload as orphaned: only
   * for an engine that guarantees this process is the database's only user
   * (SQLite's process lock), at start.
   */
  everything?: boolean;
  /**
   * Jobs the sweeping instance is running right now: their leases are left
   * to its heartbeat (a late beat of a living instance is no reason to take
   * its job away). A job it holds but no longer runs (its completion failed)
   * is swept like anyone's.
   */
  running?: readonly string[];
}

/** An API key as stored. */
export interface ApiKeyRecord {
  /** The public part of the key, shown by `keys list`. */
  id: string;
  /** What the key is for. */
  name: string;
  /** Hex SHA-256 of the whole key. */
  keySha256: string;
  /** Scope names, e.g. `["read", "write"]`. */
  scopes: string[];
  /** ISO-8601 UTC. */
  createdAt: string;
  /** ISO-8601 UTC, or null while the key is valid. */
  revokedAt: string | null;
}

/** One cached upstream answer. */
export interface CachedAnswer {
  body: Uint8Array;
  /** ISO-8601 UTC. */
  fetchedAt: string;
  /** ISO-8601 UTC; after it the answer is stale. */
  expiresAt: string;
}

/** Options for `heartbeatInstance`. */
export interface HeartbeatOptions {
  /** This instance's id (the jobs' `locked_by`). */
  id: string;
  /** Now, ISO-8601 UTC. */
  now: string;
  /** Instances whose last heartbeat is older than this are no longer alive; ISO-8601 UTC. */
  staleBefore: string;
}

/** What `migrateDatabase` did. */
export interface MigrationResult {
  /** Schema version before. */
  from: number;
  /** Schema version after. */
  to: number;
  /** Names of the migrations applied now. */
  applied: string[];
}

/** One numbered schema change. */
export interface Migration {
  /** Matches the file's number; recorded once applied. */
  version: number;
  /** The file name without extension, for logs. */
  name: string;
  /** The statements to run, in one transaction. */
  sql: string;
}

/**
 * Every storage operation reportd performs, as one engine implements it.
 * Services reach these through the functions in db/*_repo.ts, never directly.
 * Each rejects with a `StorageError` when the database fails.
 */
export interface Repositories {
  // Reports and series.
  insertReport(report: ReportRecord, options?: { series?: StoredSeries }): Promise<void>;
  getReport(id: string): Promise<ReportRecord | undefined>;
  listReports(options: ListOptions): Promise<ReportRecord[]>;
  getReportOwner(id: string): Promise<string | null | undefined>;
  deleteReport(id: string): Promise<boolean>;
  getSeries(id: string): Promise<StoredSeries | undefined>;
  countReportsByStatus(): Promise<Record<ReportStatus, number>>;
  // Uploads and jobs.
  appendUploadChunk(uploadId: string, chunk: { seq: number; data: Uint8Array }): Promise<void>;
  deleteUpload(uploadId: string): Promise<void>;
  readUpload(uploadId: string, bytes: number): Promise<Uint8Array>;
  enqueueReport(
    report: ReportRecord,
    options: { job: NewJob; idempotency?: IdempotencyRecord; createdBy?: string },
  ): Promise<EnqueueResult>;
  claimNextJob(options: ClaimOptions): Promise<ClaimedJob | undefined>;
  renewLease(reportId: string, lease: JobLease, until: string): Promise<FencedOutcome>;
  completeJob(reportId: string, lease: JobLease, result: JobResult): Promise<FencedOutcome>;
  failJob(reportId: string, lease: JobLease, failure: JobFailure): Promise<FencedOutcome>;
  requeueJob(reportId: string, lease: JobLease, options: RequeueOptions): Promise<FencedOutcome>;
  sweepJobs(options: SweepOptions): Promise<SweepResult>;
  countQueuedJobs(): Promise<number>;
  queuePosition(reportId: string): Promise<number>;
  purgeExpired(options: { failedBefore: string; keysBefore: string }): Promise<PurgeResult>;
  // API keys.
  insertApiKey(key: ApiKeyRecord): Promise<void>;
  getApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  hasApiKeys(): Promise<boolean>;
  knownApiKeys(): boolean | undefined;
  knownApiKey(id: string): ApiKeyRecord | null | undefined;
  revokeApiKey(id: string, now: string): Promise<boolean>;
  // Live instances.
  heartbeatInstance(options: HeartbeatOptions): Promise<number>;
  removeInstance(id: string): Promise<void>;
  // The upstream cache.
  getCachedAnswer(provider: string, key: string): Promise<CachedAnswer | undefined>;
  putCachedAnswer(provider: string, entry: CachedAnswer & { key: string }): Promise<void>;
}

/** Housekeeping every engine provides besides its repositories. */
export interface EngineOperations {
  /** Applies pending migrations (PostgreSQL: under an advisory lock). */
  migrate(migrations?: readonly Migration[]): Promise<MigrationResult>;
  /** The schema version recorded in the database. */
  schemaVersion(): Promise<number>;
  /** Answers a trivial query, or rejects with a StorageError. */
  ping(): Promise<void>;
  /** The database's size in bytes. */
  sizeBytes(): Promise<number>;
  /** `["ok"]` for a sound database, otherwise one line per problem. */
  checkIntegrity(): Promise<string[]>;
  /**
   * Calls `listener` with each message published on `channel` by any process
   * using the database, and with `undefined` after a reconnection (messages
   * may have been missed). Returns a function that stops listening.
   */
  listen(channel: string, listener: (payload: string | undefined) => void): () => void;
  /** Runs one SQL statement with `?` placeholders: for tests and tools, never services. */
  query(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  /**
   * Gives free pages back to the filesystem (SQLite with incremental
   * auto-vacuum); engines that reuse space by themselves leave it out.
   */
  reclaimSpace?(): Promise<SpaceResult>;
  /** Closes every connection. Safe to call twice. */
  close(): Promise<void>;
}

/** What giving space back did, in bytes of the database. */
export interface SpaceResult {
  /** Size before. */
  before: number;
  /** Size after. */
  after: number;
}

/** The notification channel on which queued jobs are announced to every instance. */
export const JOBS_CHANNEL = "reportd_jobs";

/**
 * The notification channel on which deleted reports are announced (payload:
 * the report id), so every instance drops them from its in-memory caches.
 */
export const REPORTS_CHANNEL = "reportd_reports";

/**
 * The notification channel on which a new API key is announced (payload: its
 * id), so an instance that believed no key exists stops believing it.
 */
export const KEYS_CHANNEL = "reportd_keys";

/**
 * API key records an engine keeps in memory at most (the keys requests
 * present, revoked ones included; db/postgres/keys_watch.ts and
 * db/sqlite/keys.ts). Only keys that exist are kept, so a client presenting
 * made-up ids costs a query each, never memory.
 */
export const KEYS_CACHED_MAX = 10_000;
