import assert from "node:assert/strict";
import { querySql } from "../../db/mod.ts";
import { assertProblem } from "../helpers/assert_problem.ts";
import {
  csvAnswer,
  hangAnswer,
  type MockUpstream,
  startMockUpstream,
  startResettingServer,
  statusAnswer,
} from "../helpers/mock_upstream.ts";
import { createSettledReport, postReport, testApp, type TestWorld } from "../helpers/test_app.ts";

const FIXTURE = await Deno.readTextFile(
  new URL("../fixtures/stooq_avgo_us_d.csv", import.meta.url),
);
const AVGO = {
  provider: "stooq",
  symbol: "avgo.us",
  start: "2020-01-10",
  end: "2020-02-10",
  interval: "d",
};

function importReport(world: TestWorld, source: object, name?: string) {
  return createSettledReport(world, JSON.stringify({ name, source }), {
    contentType: "application/json",
  });
}

async function stooqWorld(upstream: MockUpstream, extra: Record<string, unknown> = {}) {
  return await testApp({ providers: { stooqUrl: `${upstream.origin}/q/d/l/`, ...extra } });
}

Deno.test("A Stooq import becomes a report of open, high, low, close and volume", async () => {
  await using upstream = startMockUpstream();
  await using world = await stooqWorld(upstream);
  upstream.script(csvAnswer(FIXTURE));
  const report = await importReport(world, AVGO);
  assert.equal(report.status, "ready", JSON.stringify(report.error));
  assert.equal(report.name, "avgo.us (d) 2020-01-10..2020-02-10");
  const { dialect, ...source } = report.source;
  assert.deepEqual(source, { kind: "provider", ...AVGO, cache: "miss" });
  // A provider's CSV is read like an upload, and says how.
  assert.equal(dialect.time_column, "Date");
  assert.deepEqual(Object.keys(report.summary.columns), ["Open", "High", "Low", "Close", "Volume"]);
  assert.equal(report.summary.points, 21);
  assert.equal(report.summary.start, "2020-01-10T00:00:00.000Z");
  const [request] = upstream.requests;
  assert.equal(request.pathname, "/q/d/l/");
  assert.deepEqual(Object.fromEntries(request.searchParams), {
    s: "avgo.us",
    d1: "20200110",
    d2: "20200210",
    i: "d",
  });
});

Deno.test("A repeated import within the TTL is served from the cache without an upstream hit", async () => {
  await using upstream = startMockUpstream();
  await using world = await stooqWorld(upstream);
  upstream.script(csvAnswer(FIXTURE));
  const first = await importReport(world, AVGO);
  const second = await importReport(world, { ...AVGO, symbol: "AVGO.US" });
  assert.equal(first.source.cache, "miss");
  assert.equal(second.status, "ready");
  assert.equal(second.source.cache, "hit");
  assert.deepEqual(second.summary, first.summary);
  assert.equal(upstream.requests.length, 1);
});

Deno.test("The API key is appended to Stooq requests when configured", async () => {
  await using upstream = startMockUpstream();
  await using world = await stooqWorld(upstream, { stooqApiKey: "k-123" });
  upstream.script(csvAnswer(FIXTURE));
  await importReport(world, AVGO);
  assert.equal(upstream.requests[0].searchParams.get("apikey"), "k-123");
});

Deno.test("Invalid import requests answer 422 naming the field", async (t) => {
  await using upstream = startMockUpstream();
  await using world = await stooqWorld(upstream, { maxDays: 31 });
  const today = new Date().toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const cases: [string, object, string][] = [
    ["bad symbol", { ...AVGO, symbol: "avgo us!" }, "source.symbol"],
    ["not a date", { ...AVGO, start: "10/01/2020" }, "source.start"],
    ["start after end", { ...AVGO, start: "2020-02-11" }, "source.start"],
    ["range too long", { ...AVGO, start: "2019-01-01" }, "source.end"],
    ["end in the future", { ...AVGO, start: today, end: tomorrow }, "source.end"],
    ["bad interval", { ...AVGO, interval: "h" }, "source.interval"],
    ["unknown provider", { ...AVGO, provider: "yahoo" }, "source.provider"],
    [
      "disabled url provider",
      { provider: "url", url: "https://example.org/a.csv" },
      "source.provider",
    ],
  ];
  for (const [name, source, path] of cases) {
    await t.step(name, async () => {
      const res = await postReport(world, JSON.stringify({ source }), {
        contentType: "application/json",
      });
      const problem = await assertProblem(res, 422);
      assert.ok(
        problem.errors?.some((error) => error.path === path),
        JSON.stringify(problem.errors),
      );
    });
  }
  assert.equal(upstream.requests.length, 0, "Invalid requests never reach the upstream");
});

Deno.test("Upstream faults give failed reports with clear reasons", async (t) => {
  await using upstream = startMockUpstream();
  await using world = await stooqWorld(upstream, { upstreamTimeoutMs: 200 });
  const stop = new AbortController();
  const cases: [string, () => void, RegExp, number][] = [
    [
      "No data",
      () => upstream.script(csvAnswer("No data")),
      /Stooq has no data for s0 from 2020-01-10 to 2020-02-10/,
      1,
    ],
    ["404", () => upstream.script(statusAnswer(404)), /404/, 1],
    [
      "slower than the timeout",
      () => upstream.script(...Array(3).fill(hangAnswer(stop.signal))),
      /did not answer within 200 ms.*after 3 attempts/,
      3,
    ],
    [
      "garbage bytes",
      () =>
        upstream.script(() =>
          new Response(new Uint8Array([0xff, 0x00, 0xfe, 0x10, 0x0a]), {
            headers: { "content-type": "text/csv" },
          })
        ),
      /UTF-8|header|column/i,
      1,
    ],
    [
      "not CSV",
      () =>
        upstream.script(() =>
          new Response("{}", { headers: { "content-type": "application/json" } })
        ),
      /not CSV/,
      1,
    ],
  ];
  let symbol = 0;
  for (const [name, script, reason, hits] of cases) {
    await t.step(name, async () => {
      script();
      const before = upstream.requests.length;
      // A new symbol each time, so no case is answered from another's cache.
      const report = await importReport(world, { ...AVGO, symbol: `s${symbol++}` });
      assert.equal(report.status, "failed");
      assert.match(report.error.detail, reason);
      assert.equal(upstream.requests.length - before, hits);
    });
  }
  stop.abort();
});

Deno.test("500 then 200: the retry succeeds", async () => {
  await using upstream = startMockUpstream();
  await using world = await stooqWorld(upstream);
  upstream.script(statusAnswer(500), csvAnswer(FIXTURE));
  const report = await importReport(world, AVGO);
  assert.equal(report.status, "ready");
  assert.equal(upstream.requests.length, 2);
});

Deno.test("429 with Retry-After: the retry waits as long as the upstream asked", async () => {
  await using upstream = startMockUpstream();
  await using world = await stooqWorld(upstream);
  upstream.script(statusAnswer(429, { "retry-after": "1" }), csvAnswer(FIXTURE));
  const started = performance.now();
  const report = await importReport(world, AVGO);
  assert.equal(report.status, "ready");
  assert.equal(upstream.requests.length, 2);
  assert.ok(performance.now() - started >= 950, "The second attempt came after Retry-After");
});

Deno.test("A reset connection is retried, then the report fails as unavailable", async () => {
  await using resetting = startResettingServer();
  await using world = await testApp({ providers: { stooqUrl: `${resetting.origin}/q/d/l/` } });
  const report = await importReport(world, AVGO);
  assert.equal(report.status, "failed");
  assert.equal(report.error.type, "/problems/service-unavailable");
  assert.match(report.error.detail, /could not be reached.*after 3 attempts/);
  assert.equal(resetting.accepted(), 3);
});

Deno.test("A response larger than the cap fails the import", async () => {
  await using upstream = startMockUpstream();
  await using world = await testApp({
    maxBodyBytes: 4096,
    providers: { stooqUrl: `${upstream.origin}/q/d/l/` },
  });
  upstream.script(csvAnswer(FIXTURE + "2020-02-11,1,1,1,1,1\r\n".repeat(400)));
  const report = await importReport(world, AVGO);
  assert.equal(report.status, "failed");
  assert.match(report.error.detail, /exceeds 4096 bytes/);
});

Deno.test("The circuit opens after 5 failed imports and then rejects without calling", async () => {
  await using upstream = startMockUpstream();
  await using world = await stooqWorld(upstream);
  for (let i = 0; i < 5; i++) {
    upstream.script(statusAnswer(503), statusAnswer(503), statusAnswer(503));
    const report = await importReport(world, { ...AVGO, symbol: `fail${i}` });
    assert.equal(report.status, "failed");
  }
  assert.equal(upstream.requests.length, 15);
  const providers = await (await world.app.request("/v1/providers")).json();
  const stooq = providers.items.find((item: { name: string }) => item.name === "stooq");
  assert.equal(stooq.circuit, "open");
  assert.equal(stooq.reachable, false);
  assert.ok(stooq.retry_after_s > 0 && stooq.retry_after_s <= 30);

  const rejected = await importReport(world, { ...AVGO, symbol: "next" });
  assert.equal(rejected.status, "failed");
  assert.match(rejected.error.detail, /unavailable after repeated failures; retry in \d+ s/);
  assert.equal(upstream.requests.length, 15, "An open circuit does not call the upstream");
});

Deno.test("When the upstream fails, an expired cache entry is served as stale", async () => {
  await using upstream = startMockUpstream();
  await using world = await stooqWorld(upstream);
  upstream.script(csvAnswer(FIXTURE));
  const fresh = await importReport(world, AVGO);
  await querySql(world.db, "UPDATE upstream_cache SET expires_at = '2000-01-01T00:00:00.000Z'");
  upstream.script(statusAnswer(500), statusAnswer(500), statusAnswer(500));
  const stale = await importReport(world, AVGO);
  assert.equal(stale.status, "ready");
  assert.equal(stale.source.cache, "stale");
  assert.deepEqual(stale.summary, fresh.summary);
  assert.equal(upstream.requests.length, 4);
});

Deno.test("A range that includes today is cached only for the short TTL", async () => {
  await using upstream = startMockUpstream();
  await using world = await stooqWorld(upstream);
  const today = new Date().toISOString().slice(0, 10);
  upstream.script(csvAnswer(`Date,Close\r\n${today},1\r\n`));
  await importReport(world, { ...AVGO, start: today, end: today });
  const [entry] = await querySql(world.db, "SELECT fetched_at, expires_at FROM upstream_cache") as {
    fetched_at: string;
    expires_at: string;
  }[];
  assert.equal(Date.parse(entry.expires_at) - Date.parse(entry.fetched_at), 15 * 60_000);
});

Deno.test("GET /v1/providers lists the enabled providers and their parameters", async () => {
  await using upstream = startMockUpstream();
  await using world = await stooqWorld(upstream, { fetchAllowHosts: ["data.example.org"] });
  const res = await world.app.request("/v1/providers");
  assert.equal(res.status, 200);
  const { items } = await res.json();
  assert.deepEqual(items.map((item: { name: string }) => item.name), ["stooq", "url"]);
  assert.equal(items[0].circuit, "closed");
  assert.equal(items[0].reachable, true);
  assert.match(items[1].parameters.url, /data\.example\.org/);
});

Deno.test("url provider: allow-listed host imports; others, http and credentials are refused", async () => {
  await using upstream = startMockUpstream();
  const port = new URL(upstream.origin).port;
  await using world = await testApp({ providers: { fetchAllowHosts: ["127.0.0.1"] } });
  upstream.script(csvAnswer("t,value\n2020-01-01,1\n2020-01-02,2\n"));
  const report = await importReport(world, {
    provider: "url",
    url: `${upstream.origin}/x/data.csv`,
  });
  assert.equal(report.status, "ready", JSON.stringify(report.error));
  assert.equal(report.name, "data.csv");
  for (
    const url of [
      `http://localhost:${port}/data.csv`,
      `http://user:secret@127.0.0.1:${port}/data.csv`,
    ]
  ) {
    const res = await postReport(world, JSON.stringify({ source: { provider: "url", url } }), {
      contentType: "application/json",
    });
    await assertProblem(res, 422);
  }
});

Deno.test("url provider: a redirect to a host outside the allowlist is not followed", async () => {
  await using upstream = startMockUpstream();
  await using world = await testApp({ providers: { fetchAllowHosts: ["127.0.0.1"] } });
  upstream.script(() =>
    new Response(null, { status: 302, headers: { location: "http://169.254.169.254/latest/" } })
  );
  const report = await importReport(world, { provider: "url", url: `${upstream.origin}/a.csv` });
  assert.equal(report.status, "failed");
  assert.match(report.error.detail, /redirect to 169\.254\.169\.254 is not allowed/);
  assert.equal(upstream.requests.length, 1);
});

Deno.test("url provider: an allowed host that resolves to a private address is refused", async () => {
  await using upstream = startMockUpstream();
  await using world = await testApp({
    providers: { fetchAllowHosts: ["localhost"], fetchAllowPrivate: false },
  });
  const port = new URL(upstream.origin).port;
  const report = await importReport(world, {
    provider: "url",
    url: `http://localhost:${port}/a.csv`,
  });
  assert.equal(report.status, "failed");
  assert.match(report.error.detail, /localhost resolves to a non-public address/);
  assert.equal(upstream.requests.length, 0, "The private address was never contacted");
});
