import assert from "node:assert/strict";
import { csvAnswer, startMockUpstream } from "../helpers/mock_upstream.ts";
import { pollReport } from "../helpers/poll.ts";
import { startServer } from "../helpers/server_process.ts";

const FIXTURE = await Deno.readTextFile(
  new URL("../fixtures/stooq_avgo_us_d.csv", import.meta.url),
);

Deno.test("e2e: a real process imports from the mock upstream, then answers repeats from its cache", async () => {
  await using upstream = startMockUpstream();
  upstream.script(csvAnswer(FIXTURE));
  await using server = await startServer({
    env: {
      REPORTD_STOOQ_URL: `${upstream.origin}/q/d/l/`,
      REPORTD_FETCH_ALLOW_PRIVATE: "true",
    },
  });
  const body = JSON.stringify({
    source: { provider: "stooq", symbol: "avgo.us", start: "2020-01-10", end: "2020-02-10" },
  });
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${server.baseUrl}/v1/reports`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    assert.equal(res.status, 202);
    ids.push((await res.json()).id);
    await pollReport(server.baseUrl, ids[i]);
  }
  const [first, second] = await Promise.all(
    ids.map(async (id) => await (await fetch(`${server.baseUrl}/v1/reports/${id}`)).json()),
  );
  assert.equal(first.status, "ready");
  assert.equal(first.source.cache, "miss");
  assert.equal(second.source.cache, "hit");
  assert.equal(first.summary.columns.Close.count, 21);
  assert.equal(upstream.requests.length, 1);
  const providers = await (await fetch(`${server.baseUrl}/v1/providers`)).json();
  assert.deepEqual(providers.items.map((item: { name: string }) => item.name), ["stooq"]);
  assert.equal((await server.stop()).code, 0);
});
