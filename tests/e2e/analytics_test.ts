import assert from "node:assert/strict";
import { pollReport } from "../helpers/poll.ts";
import { startServer } from "../helpers/server_process.ts";

async function upload(baseUrl: string, name: string, csv: string): Promise<string> {
  const created = await fetch(`${baseUrl}/v1/reports?name=${name}`, {
    method: "POST",
    body: csv,
    headers: { "content-type": "text/csv" },
  });
  assert.equal(created.status, 202);
  const { id } = await created.json();
  assert.equal((await pollReport(baseUrl, id)).status, "ready");
  return id;
}

Deno.test("e2e: a real process compares two reports rebased to 100 and serves analytics", async () => {
  await using server = await startServer();
  const a = await upload(
    server.baseUrl,
    "AAA",
    "t,close\n2021-01-04,10\n2021-01-05,11\n2021-01-06,12\n2021-01-07,9\n",
  );
  const b = await upload(
    server.baseUrl,
    "BBB",
    "t,close\n2021-01-05T09:00:00Z,50\n2021-01-06T16:00:00Z,40\n2021-01-07,60\n",
  );
  const compared = await fetch(
    `${server.baseUrl}/v1/compare?ids=${a},${b}&every=1d&normalize=first&format=uplot`,
  );
  assert.equal(compared.status, 200);
  assert.deepEqual(await compared.json(), [
    [1609804800, 1609891200, 1609977600],
    [100, 12 / 11 * 100, 9 / 11 * 100],
    [100, 80, 120],
  ]);

  const report = await (await fetch(`${server.baseUrl}/v1/reports/${a}`)).json();
  assert.equal(report.summary.columns.close.return_total, -0.09999999999999998);
  assert.equal(report.summary.periods_per_year, 252);
  assert.equal(report.summary.columns.close.max_drawdown.value, -0.25);

  const weekly = await fetch(`${server.baseUrl}/v1/reports/${a}/series?every=1w&agg=ohlc`);
  assert.deepEqual((await weekly.json()).columns, {
    close_open: [10],
    close_high: [12],
    close_low: [9],
    close_close: [9],
  });

  const tooMany = await fetch(
    `${server.baseUrl}/v1/compare?ids=${Array.from({ length: 11 }, () => a).join(",")}`,
  );
  assert.equal(tooMany.status, 400);
  assert.equal(tooMany.headers.get("content-type"), "application/problem+json");
  assert.equal((await tooMany.json()).errors[0].path, "query.ids");

  const deleted = await fetch(`${server.baseUrl}/v1/reports/${b}`, { method: "DELETE" });
  assert.equal(deleted.status, 204);
  const gone = await fetch(`${server.baseUrl}/v1/compare?ids=${a},${b}`);
  assert.equal(gone.status, 404);
  assert.match((await gone.json()).detail, new RegExp(b));
  assert.equal((await server.stop("SIGTERM")).code, 0);
});
