/**
 * Driver choice by measurement: `npm:pg` against `npm:postgres` (postgres.js)
 * under Deno, on the three things reportd asks of its PostgreSQL driver:
 *
 * - point-query latency (a report by primary key, one at a time),
 * - throughput with 32 queries in flight (a busy instance's read path),
 * - a 20 MB `bytea` written and read back (a raw upload, a series column).
 *
 * Run: `deno run -P=test bench/postgres_driver.ts [postgres://...]`
 * (default: the URL in REPORTD_TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres).
 * It creates a scratch database, measures, and drops it. Numbers go to
 * docs/benchmarks.md and docs/decisions/0015-postgres-driver.md.
 *
 * @module
 */
import pg from "pg";
import postgres from "postgres";

const base = Deno.args[0] ?? Deno.env.get("REPORTD_TEST_DATABASE_URL") ??
  "postgres://postgres@127.0.0.1:5432/postgres";
const scratch = `reportd_driver_bench_${crypto.randomUUID().slice(0, 8)}`;
const POINT_QUERIES = 2_000;
const CONCURRENT_QUERIES = 20_000;
const CONCURRENCY = 32;
const BULK_BYTES = 20 * 1024 * 1024;
const BULK_ROUNDS = 3;

interface Driver {
  name: string;
  point(id: number): Promise<unknown>;
  writeBytes(id: number, data: Uint8Array): Promise<void>;
  readBytes(id: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function pgDriver(url: string): Driver {
  const pool = new pg.Pool({ connectionString: url, max: CONCURRENCY });
  return {
    name: "pg 8 (npm:pg)",
    point: (id) => pool.query("SELECT id, name, status FROM items WHERE id = $1", [id]),
    async writeBytes(id, data) {
      await pool.query("INSERT INTO blobs (id, data) VALUES ($1, $2)", [id, data]);
    },
    async readBytes(id) {
      const result = await pool.query("SELECT data FROM blobs WHERE id = $1", [id]);
      return result.rows[0].data;
    },
    close: () => pool.end(),
  };
}

function postgresJsDriver(url: string): Driver {
  const sql = postgres(url, { max: CONCURRENCY, onnotice: () => {} });
  return {
    name: "postgres.js 3 (npm:postgres)",
    point: (id) => sql`SELECT id, name, status FROM items WHERE id = ${id}`,
    async writeBytes(id, data) {
      await sql`INSERT INTO blobs (id, data) VALUES (${id}, ${data})`;
    },
    async readBytes(id) {
      const rows = await sql`SELECT data FROM blobs WHERE id = ${id}`;
      return rows[0].data;
    },
    close: () => sql.end(),
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function measure(driver: Driver, offset: number): Promise<Record<string, string>> {
  for (let i = 0; i < 200; i++) await driver.point(1 + (i % 1000)); // warm up
  const latencies: number[] = [];
  for (let i = 0; i < POINT_QUERIES; i++) {
    const start = performance.now();
    await driver.point(1 + (i % 1000));
    latencies.push(performance.now() - start);
  }
  latencies.sort((a, b) => a - b);

  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < CONCURRENT_QUERIES) await driver.point(1 + (next++ % 1000));
  }));
  const perSecond = CONCURRENT_QUERIES / ((performance.now() - started) / 1000);

  const data = new Uint8Array(BULK_BYTES);
  for (let i = 0; i < data.length; i += 4096) data[i] = i & 0xff;
  const writes: number[] = [];
  const reads: number[] = [];
  for (let round = 0; round < BULK_ROUNDS; round++) {
    let start = performance.now();
    await driver.writeBytes(offset + round, data);
    writes.push(performance.now() - start);
    start = performance.now();
    const back = await driver.readBytes(offset + round);
    reads.push(performance.now() - start);
    if (back.byteLength !== data.byteLength) throw new Error(`${driver.name} lost bytes`);
  }
  return {
    driver: driver.name,
    "point p50 ms": percentile(latencies, 0.5).toFixed(3),
    "point p99 ms": percentile(latencies, 0.99).toFixed(3),
    "32 concurrent q/s": perSecond.toFixed(0),
    "20 MB write ms (min..max)": `${Math.min(...writes).toFixed(0)}..${
      Math.max(...writes).toFixed(0)
    }`,
    "20 MB read ms (min..max)": `${Math.min(...reads).toFixed(0)}..${
      Math.max(...reads).toFixed(0)
    }`,
  };
}

await admin(`CREATE DATABASE ${scratch}`);
try {
  const url = withDatabase(base, scratch);
  const setup = new pg.Client({ connectionString: url });
  await setup.connect();
  await setup.query(
    "CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, status text NOT NULL);" +
      "INSERT INTO items SELECT i, 'report ' || i, 'ready' FROM generate_series(1, 1000) i;" +
      "CREATE TABLE blobs (id integer PRIMARY KEY, data bytea NOT NULL);",
  );
  await setup.end();
  const results = [];
  // Each driver twice, interleaved, so background load hits both alike.
  const drivers = [pgDriver, postgresJsDriver, pgDriver, postgresJsDriver];
  for (const [index, make] of drivers.entries()) {
    const driver = make(url);
    try {
      results.push(await measure(driver, index * 10));
    } finally {
      await driver.close();
    }
  }
  console.table(results);
} finally {
  await admin(`DROP DATABASE ${scratch}`);
}
