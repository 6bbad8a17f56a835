/**
 * SQL injection attempts in every parameter, in report names and in column
 * names are stored and returned literally, and change nothing else.
 *
 * Every query in db/ binds its values as parameters; these tests hold that to
 * account from the outside, through the API, with fast-check choosing the
 * payloads.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { checkIntegrity } from "../../db/mod.ts";
import { NASTY_STRINGS } from "../helpers/hostile.ts";
import { settled, testApp, type TestWorld } from "../helpers/test_app.ts";

const INJECTION = fc.oneof(
  fc.constantFrom(...NASTY_STRINGS.filter((text) => text.trim() !== "" && !text.includes("\0"))),
  fc.tuple(fc.constantFrom("'", '"', "`", ";", "--", "/*", "%", "_"), fc.string({ maxLength: 20 }))
    .map(([quote, rest]) => `${quote}${rest}`.replaceAll("\0", "").trim() || "x"),
);

async function ready(world: TestWorld, res: Response): Promise<string> {
  assert.equal(res.status, 202, await res.clone().text());
  const { id } = await res.json();
  const done = settled(world.queue, id);
  const now = await (await world.app.request(`/v1/reports/${id}`)).json();
  if (now.status !== "ready" && now.status !== "failed") await done;
  return id;
}

Deno.test("Injection in report names comes back literally (query and JSON body)", async () => {
  await using world = await testApp();
  await fc.assert(
    fc.asyncProperty(INJECTION.map((name) => name.slice(0, 200)), async (name) => {
      const viaQuery = await world.app.request(
        `/v1/reports?name=${encodeURIComponent(name)}`,
        { method: "POST", headers: { "content-type": "text/csv" }, body: "t,v\n1578614400,1\n" },
      );
      const queryId = await ready(world, viaQuery);
      const viaBody = await world.app.request("/v1/reports", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name, timestamps: [1578614400], columns: { v: [1] } }),
      });
      const bodyId = await ready(world, viaBody);
      for (const id of [queryId, bodyId]) {
        const report = await (await world.app.request(`/v1/reports/${id}`)).json();
        assert.equal(report.name, name);
      }
    }),
    { numRuns: 40 },
  );
  assert.deepEqual(await checkIntegrity(world.db), ["ok"]);
});

Deno.test("Injection in column names comes back literally in stats and series", async () => {
  await using world = await testApp();
  await fc.assert(
    fc.asyncProperty(
      INJECTION.filter((column) => !/["\n\r,]/.test(column) && column.trim() === column),
      fc.boolean(),
      async (column, asCsv) => {
        // CSV header or JSON points: both keep any name as data. (The columnar
        // JSON form refuses "__proto__"; see fuzz_regressions_test.ts.)
        const res = await world.app.request("/v1/reports", {
          method: "POST",
          headers: { "content-type": asCsv ? "text/csv" : "application/json" },
          body: asCsv ? `timestamp,${column}\n1578614400,1\n1578700800,2\n` : JSON.stringify({
            points: [{ t: 1578614400, [column]: 1 }, { t: 1578700800, [column]: 2 }],
          }),
        });
        const id = await ready(world, res);
        const report = await (await world.app.request(`/v1/reports/${id}`)).json();
        assert.equal(report.status, "ready", JSON.stringify(report.error));
        assert.deepEqual(Object.keys(report.summary.columns), [column]);
        const series = await (await world.app.request(`/v1/reports/${id}/series`)).json();
        assert.deepEqual(Object.keys(series.columns), [column]);
        assert.deepEqual(series.columns[column], [1, 2]);
        const csv = await (await world.app.request(`/v1/reports/${id}/series?format=csv`)).text();
        assert.equal(csv.split("\n")[0], `timestamp,${column}`);
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("Injection in every query and path parameter is refused or treated as data", async () => {
  await using world = await testApp();
  const good = await world.app.request("/v1/reports?name=keep-me", {
    method: "POST",
    headers: { "content-type": "text/csv" },
    body: "t,v\n1578614400,1\n1578700800,2\n",
  });
  const id = await ready(world, good);
  await fc.assert(
    fc.asyncProperty(
      INJECTION,
      fc.constantFrom("limit", "cursor", "status", "format", "from", "to", "points"),
      async (payload, parameter) => {
        const encoded = encodeURIComponent(payload);
        const responses = [
          await world.app.request(`/v1/reports?${parameter}=${encoded}`),
          await world.app.request(`/v1/reports/${id}/series?${parameter}=${encoded}`),
          await world.app.request(`/v1/reports/${encoded}`),
          await world.app.request(`/v1/reports/${encoded}/series`),
          await world.app.request(`/v1/reports/${encoded}`, { method: "DELETE" }),
        ];
        for (const res of responses) {
          assert.ok(res.status < 500, `${res.status} for ${parameter}=${payload}`);
          await res.body?.cancel();
        }
      },
    ),
    { numRuns: 60 },
  );
  // Nothing was dropped, deleted or altered.
  const report = await (await world.app.request(`/v1/reports/${id}`)).json();
  assert.equal(report.name, "keep-me");
  const list = await (await world.app.request("/v1/reports")).json();
  assert.equal(list.items.length, 1);
  assert.deepEqual(await checkIntegrity(world.db), ["ok"]);
});
