/**
 * Hostile-input fuzzing of the whole HTTP API, in-process: at least 10,000
 * generated requests per run across every route, with random methods,
 * headers, content types, query strings and bodies (tests/helpers/hostile.ts).
 *
 * Every response must be below 500, every 4xx a valid problem document of a
 * known type; memory must stay bounded; the database must pass
 * `PRAGMA integrity_check` afterwards. fast-check prints the seed and the
 * shrunk request of any failure; each one found became a named regression
 * test in tests/api/fuzz_regressions_test.ts.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { checkIntegrity } from "../../db/mod.ts";
import { PROBLEM_TYPES, type ProblemSlug } from "../../routes/middleware/problem.ts";
import { ApiKeys, parseKeyEntries } from "../../services/security/api_keys.ts";
import { headerValue, hostileBody, hostileString, NASTY_STRINGS } from "../helpers/hostile.ts";
import { SAMPLE_CSV, testApp, type TestWorld } from "../helpers/test_app.ts";

const ADMIN = "f".repeat(40);
const READER = "r".repeat(40);
const WRITER = "w".repeat(40);

/** Requests sent one by one. */
const SEQUENTIAL_RUNS = 8_000;
/** Batches of concurrent requests, to mix uploads, reads and deletes in flight. */
const CONCURRENT_RUNS = 600;
const BATCH = 4;

interface FuzzRequest {
  method: string;
  path: string;
  query: [string, string][];
  headers: [string, string][];
  body?: string | Uint8Array;
}

// Filled as the fuzz runs: ids of real reports, so reads and deletes hit rows.
const knownIds: string[] = [];

// Paths may hold a "{known:N}" placeholder, replaced when the request is sent
// by the N-th known id (modulo), so counterexamples stay readable data.
const KNOWN = /\{known:(\d+)\}/g;

function pathArbitrary(): fc.Arbitrary<string> {
  const id = fc.oneof(
    fc.nat().map((index) => `{known:${index}}`),
    fc.uuid(),
    hostileString({ maxLength: 80 }).map((text) => encodeURIComponent(text)),
  );
  const fixed = fc.constantFrom(
    "/",
    "/healthz",
    "/readyz",
    "/openapi.json",
    "/docs",
    "/docs/assets/swagger-ui.css",
    "/docs/assets/..%2F..%2Fdeno.json",
    "/docs/assets/constructor",
    "/docs/assets/__proto__",
    "/assets/toString",
    "/problems/constructor",
    "/assets/app.js",
    "/problems/not-found",
    "/problems/__proto__",
    "/metrics",
    "/v1",
    "/v1/",
    "/v1/reports",
    "/v1/reports/",
    "/v1/providers",
    "//v1//reports",
    "/v1/reports/%",
    "/v1/reports/%E0%A4%A",
    "/V1/REPORTS",
    "/v2/reports",
  );
  return fc.oneof(
    { weight: 3, arbitrary: fixed },
    { weight: 4, arbitrary: id.map((value) => `/v1/reports/${value}`) },
    { weight: 4, arbitrary: id.map((value) => `/v1/reports/${value}/series`) },
    {
      weight: 1,
      arbitrary: fc.array(hostileString({ maxLength: 30 }), { maxLength: 6 }).map((segments) =>
        `/${segments.map(encodeURIComponent).join("/")}`
      ),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 900, max: 1500 }).map((n) => `/v1/${"a".repeat(n)}`),
    },
  );
}

const queryArbitrary = fc.array(
  fc.tuple(
    fc.oneof(
      fc.constantFrom(
        ..."name limit cursor status format from to points every agg transform ids normalize"
          .split(" "),
      ),
      hostileString({ maxLength: 20 }),
    ),
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc.constantFrom(
          ..."1 3 20 100 101 0 -1 1000000 csv json uplot ready failed queued".split(" "),
        ),
      },
      {
        weight: 3,
        arbitrary: fc.constantFrom(
          ..."2020-01-01 2020-01-02T00:00:00Z 2019-12-31 1577836800 1577836800000".split(" "),
        ),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom("djE6MDE5MGY1YjgtM2M0ZS03YTFiLThmMDAtNWMyZDllNmIxYTIw", "v1:"),
      },
      {
        // The analytics parameters' values, and known ids for /v1/compare.
        weight: 3,
        arbitrary: fc.oneof(
          fc.constantFrom(
            ..."1m 1h 4h 1w 1mo ohlc sum count mean first none diff zscore drawdown cumsum"
              .split(" "),
            ..."rolling_mean:3 rolling_std:2 rolling_max:10000 ewm_mean:0.5 ewm_mean:1".split(" "),
          ),
          fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `{known:${a}},{known:${b}}`),
        ),
      },
      { weight: 4, arbitrary: hostileString({ maxLength: 120 }) },
      { weight: 1, arbitrary: fc.integer({ min: 1000, max: 3000 }).map((n) => "q".repeat(n)) },
    ),
  ),
  { maxLength: 4 },
);

const headersArbitrary = fc.record({
  contentType: fc.option(
    fc.oneof(
      fc.constantFrom(
        "text/csv",
        "application/json",
        "text/csv; charset=utf-8",
        "application/json; charset=UTF-8",
        "text/csv; charset=latin1",
        "application/json; charset=utf-8; charset=utf-8",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "text/plain",
        "application/problem+json",
        "*/*",
      ),
      headerValue(),
    ),
    { freq: 5 },
  ),
  authorization: fc.option(
    fc.oneof(
      { weight: 8, arbitrary: fc.constant(`Bearer ${ADMIN}`) },
      { weight: 2, arbitrary: fc.constantFrom(`Bearer ${READER}`, `Bearer ${WRITER}`) },
      { weight: 2, arbitrary: headerValue().map((value) => `Bearer ${value}`) },
      { weight: 1, arbitrary: headerValue() },
    ),
    { freq: 8 },
  ),
  extra: fc.array(
    fc.tuple(
      fc.constantFrom(
        "accept",
        "idempotency-key",
        "if-none-match",
        "x-request-id",
        "origin",
        "x-forwarded-for",
        "content-length",
        "traceparent",
        "range",
        "cookie",
      ),
      fc.oneof(
        headerValue(),
        fc.constantFrom("text/csv", "*", "-1", "99999999999", "abc", "0", '"etag"', "*/*"),
      ),
    ),
    { maxLength: 4 },
  ),
});

const anyMethod = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("GET", "POST", "DELETE") },
  { weight: 2, arbitrary: fc.constantFrom("HEAD", "PUT", "PATCH", "OPTIONS") },
  { weight: 1, arbitrary: fc.constantFrom("PROPFIND", "get", "Post", "X-FUZZ", "M-SEARCH") },
);
const anyBody = fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, {
  weight: 3,
  arbitrary: hostileBody(),
});
const validUploadType = fc.constantFrom(
  "text/csv",
  "application/json",
  "text/csv; charset=utf-8",
  "application/json; charset=UTF-8",
);

// A mix that reaches deep: uploads that pass the content-type check (so the
// streaming, the head checks and the workers see hostile bodies), reads of
// real reports with hostile queries, deletes, and pure chaos on any route.
const requestArbitrary: fc.Arbitrary<FuzzRequest> = fc.oneof(
  {
    weight: 35,
    arbitrary: fc.record({
      method: fc.constant("POST"),
      path: fc.constant("/v1/reports"),
      query: queryArbitrary,
      headers: headersArbitrary.chain((headers) =>
        fc.oneof(
          {
            weight: 4,
            arbitrary: validUploadType.map((type) => ({ ...headers, contentType: type })),
          },
          { weight: 1, arbitrary: fc.constant(headers) },
        )
      ),
      body: hostileBody(),
    }),
  },
  {
    weight: 35,
    arbitrary: fc.record({
      method: fc.constantFrom("GET", "GET", "GET", "HEAD"),
      path: fc.oneof(
        fc.nat().map((index) => `/v1/reports/{known:${index}}/series`),
        fc.nat().map((index) => `/v1/reports/{known:${index}}`),
        fc.constant("/v1/reports"),
        fc.constant("/v1/compare"),
      ),
      query: queryArbitrary,
      headers: headersArbitrary,
      body: fc.constant(undefined),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      method: fc.constant("DELETE"),
      path: fc.nat().map((index) => `/v1/reports/{known:${index}}`),
      query: fc.constant<[string, string][]>([]),
      headers: headersArbitrary,
      body: anyBody,
    }),
  },
  {
    weight: 25,
    arbitrary: fc.record({
      method: anyMethod,
      path: pathArbitrary(),
      query: queryArbitrary,
      headers: headersArbitrary,
      body: anyBody,
    }),
  },
).map((spec): FuzzRequest => {
  const headers: [string, string][] = [...spec.headers.extra];
  if (spec.headers.contentType !== null) headers.push(["content-type", spec.headers.contentType]);
  if (spec.headers.authorization !== null) {
    headers.push(["authorization", spec.headers.authorization]);
  }
  const upper = spec.method.toUpperCase();
  return {
    method: spec.method,
    path: spec.path,
    query: spec.query,
    headers,
    // fetch refuses a body on GET and HEAD.
    body: upper === "GET" || upper === "HEAD" ? undefined : spec.body,
  };
});

let sent = 0;

async function send(world: TestWorld, request: FuzzRequest): Promise<void> {
  const known = (text: string) =>
    text.replace(
      KNOWN,
      (_, index) => knownIds.length === 0 ? "none" : knownIds[Number(index) % knownIds.length],
    );
  const path = known(request.path);
  const search = new URLSearchParams(
    request.query.map(([name, value]) => [name, known(value)]),
  ).toString();
  const headers = new Headers();
  for (const [name, value] of request.headers) headers.append(name, value);
  const response = await world.app.request(
    `${path}${search === "" ? "" : `?${search}`}`,
    { method: request.method, headers, body: request.body as BodyInit | undefined },
    { remoteAddr: { hostname: "192.0.2.10", port: 50000 } },
  );
  sent++;
  const where = `${request.method} ${path.slice(0, 120)}`;
  const text = await response.text();
  assert.ok(response.status < 500, `${where} answered ${response.status}: ${text}`);
  if (response.status === 202 && request.method.toUpperCase() === "POST") {
    const id = JSON.parse(text).id;
    if (knownIds.length < 200) knownIds.push(id);
  }
  if (response.status < 400) {
    if (response.headers.get("content-type")?.startsWith("application/json") && text !== "") {
      JSON.parse(text);
    }
    return;
  }
  assert.equal(response.headers.get("content-type"), "application/problem+json", where);
  if (request.method.toUpperCase() === "HEAD") return;
  // Input is echoed (instance, details), so only what input cannot contain counts.
  assert.doesNotMatch(text, /\bat .*\.ts:\d+|file:\/\/\//, `${where} leaked internals`);
  const problem = JSON.parse(text);
  const slug = String(problem.type).replace(/^\/problems\//, "");
  assert.ok(Object.hasOwn(PROBLEM_TYPES, slug), `${where}: unknown problem type ${problem.type}`);
  assert.equal(problem.status, response.status, where);
  assert.equal(PROBLEM_TYPES[slug as ProblemSlug].status, response.status, where);
  assert.equal(typeof problem.title, "string");
  assert.equal(typeof problem.instance, "string");
  assert.ok(problem.detail === undefined || typeof problem.detail === "string");
}

// deno-lint-ignore no-explicit-any
async function* failedReports(world: TestWorld): AsyncGenerator<any> {
  let cursor = "";
  do {
    const page = await (await world.app.request(
      `/v1/reports?status=failed&limit=100${cursor === "" ? "" : `&cursor=${cursor}`}`,
      { headers: { authorization: `Bearer ${ADMIN}` } },
    )).json();
    yield* page.items;
    cursor = page.next_cursor ?? "";
  } while (cursor !== "");
}

function heapMiB(): number {
  return Deno.memoryUsage().heapUsed / 1024 / 1024;
}

Deno.test({
  name: `Fuzz: ${SEQUENTIAL_RUNS + CONCURRENT_RUNS * BATCH} hostile requests, never a 5xx`,
  async fn() {
    await using world = await testApp({
      maxInflightUploads: 64,
      queueMax: 1_000_000,
      security: (db) => ({
        keys: new ApiKeys({
          db,
          configured: parseKeyEntries(
            `admin:${ADMIN}:admin,reader:${READER}:read,writer:${WRITER}:write`,
            { separator: "," },
          ),
          required: true,
        }),
        trustProxy: true,
        rateLimits: {
          read: { perSecond: 1_000_000, burst: 1_000_000 },
          write: { perSecond: 1_000_000, burst: 1_000_000 },
        },
        corsOrigins: ["https://app.example.com"],
        hsts: true,
        handlerTimeoutMs: 60_000,
        body: { timeoutMs: 60_000, minBytesPerSecond: 16_384 },
      }),
    });
    // A few ready reports, so reads, series queries and deletes find rows.
    for (const name of ["one", "two", "three"]) {
      const res = await world.app.request(`/v1/reports?name=${name}`, {
        method: "POST",
        headers: { "content-type": "text/csv", authorization: `Bearer ${ADMIN}` },
        body: SAMPLE_CSV,
      });
      knownIds.push((await res.json()).id);
    }
    const heapBefore = heapMiB();
    let heapPeak = heapBefore;

    await fc.assert(
      fc.asyncProperty(requestArbitrary, async (request) => {
        await send(world, request);
        if (sent % 500 === 0) heapPeak = Math.max(heapPeak, heapMiB());
      }),
      { numRuns: SEQUENTIAL_RUNS },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(requestArbitrary, { minLength: BATCH, maxLength: BATCH }),
        (batch) =>
          Promise.all(batch.map((request) => send(world, request))).then(() => {
            heapPeak = Math.max(heapPeak, heapMiB());
          }),
      ),
      { numRuns: CONCURRENT_RUNS },
    );

    assert.ok(sent >= 10_000, `Only ${sent} requests were sent`);
    // Bounded: the caches, buckets and upload buffers all have caps, so a long
    // hostile run must not grow the heap without limit. The bound is generous
    // (parsing a 300 KB JSON body or 10,000 columns briefly needs tens of MB).
    assert.ok(
      heapPeak - heapBefore < 400,
      `The heap grew by ${Math.round(heapPeak - heapBefore)} MiB during the fuzz run`,
    );
    await world.queue.drain(30_000);
    assert.deepEqual(await checkIntegrity(world.db), ["ok"]);
    // A worker that crashed on every attempt is a crash too, even though the
    // HTTP answer was a 202: hostile bodies must fail as input problems.
    for await (const report of failedReports(world)) {
      assert.notEqual(report.error?.type, "/problems/processing-failed", JSON.stringify(report));
    }
    const health = await world.app.request("/readyz");
    assert.equal(health.status, 200, "The service still answers after the run");
    await health.body?.cancel();
  },
});

Deno.test("Fuzz generators cover the hostile cases the issue lists", () => {
  // The generators are only as good as what they make: sample them and check
  // that each kind of input shows up, so a refactor cannot quietly drop one.
  const bodies = fc.sample(hostileBody(), { numRuns: 3000, seed: 7 }).map((body) =>
    typeof body === "string" ? body : new TextDecoder().decode(body)
  );
  const seen = (pattern: RegExp) => bodies.some((body) => pattern.test(body));
  assert.ok(seen(/1e309/), "1e309");
  assert.ok(seen(/(^|[\[,:])-0[,\]\n]/), "-0");
  assert.ok(seen(/NaN/), "NaN strings");
  assert.ok(seen(/^\uFEFF/), "BOM");
  assert.ok(seen(/\r[^\n]/), "CR-only lines");
  assert.ok(seen(/^\[{1000}/), "deep nesting");
  assert.ok(bodies.some((body) => body.length > 100_000), "huge bodies");
  assert.ok(bodies.some((body) => body.split("\n")[0].split(",").length > 5000), "many columns");
  assert.ok(NASTY_STRINGS.some((text) => /DROP TABLE/.test(text)), "SQL injection strings");
});
