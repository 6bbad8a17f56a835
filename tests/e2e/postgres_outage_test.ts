import assert from "node:assert/strict";
import { generateCsv } from "../helpers/generate.ts";
import { pollReport } from "../helpers/poll.ts";
import {
  adminQuery,
  postgresSkipReason,
  startPrivateCluster,
  withDatabaseName,
} from "../helpers/postgres.ts";
import { startServer } from "../helpers/server_process.ts";

// Needs a cluster of its own to stop and start: a shared server cannot be.
Deno.test({
  name:
    "e2e: while PostgreSQL is down the API answers 503 with Retry-After, and it heals by itself",
  ignore: postgresSkipReason() !== undefined,
  async fn() {
    const cluster = await startPrivateCluster();
    assert.ok(cluster, "initdb and pg_ctl are needed for this test");
    try {
      await adminQuery("CREATE DATABASE reportd_outage", cluster.url);
      const server = await startServer({
        env: {
          REPORTD_DATABASE_URL: withDatabaseName(cluster.url, "reportd_outage"),
          REPORTD_JOB_LEASE: "3s",
          REPORTD_WORKERS: "1",
          REPORTD_HANDLER_TIMEOUT: "10s",
        },
      });
      try {
        const upload = async (csv: string) =>
          await fetch(`${server.baseUrl}/v1/reports`, {
            method: "POST",
            body: csv,
            headers: { "content-type": "text/csv" },
          });
        const before = await upload(generateCsv(1_000));
        assert.equal(before.status, 202);
        const ready = await pollReport(server.baseUrl, (await before.json()).id);
        assert.equal(ready.status, "ready");

        // Accepted just before the outage: processed after it, not lost.
        const accepted = await upload(generateCsv(300_000));
        assert.equal(accepted.status, 202);
        const { id } = await accepted.json();
        await cluster.stop();

        const started = Date.now();
        for (
          const [method, path] of [["GET", "/readyz"], ["GET", "/v1/reports"], [
            "GET",
            `/v1/reports/${id}`,
          ], ["POST", "/v1/reports"]]
        ) {
          const response = await fetch(`${server.baseUrl}${path}`, {
            method,
            body: method === "POST" ? "t,v\n2020-01-01,1\n" : undefined,
            headers: method === "POST" ? { "content-type": "text/csv" } : {},
          });
          assert.equal(response.status, 503, `${method} ${path}`);
          assert.ok(
            Number(response.headers.get("retry-after")) >= 1,
            `${method} ${path} Retry-After`,
          );
          assert.equal(response.headers.get("content-type"), "application/problem+json");
          await response.body?.cancel();
        }
        assert.ok(Date.now() - started < 10_000, "No request hung");
        const health = await fetch(`${server.baseUrl}/healthz`);
        assert.equal(health.status, 200, "Liveness does not depend on the database");
        await health.body?.cancel();

        await cluster.start();
        const healedBy = Date.now() + 15_000;
        let readiness = 0;
        while (Date.now() < healedBy) {
          const response = await fetch(`${server.baseUrl}/readyz`);
          readiness = response.status;
          await response.body?.cancel();
          if (readiness === 200) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.equal(readiness, 200, "Ready again within 15 s, without a restart");
        const after = await pollReport(server.baseUrl, id, { timeoutMs: 60_000, intervalMs: 100 });
        assert.equal(after.status, "ready", "The upload accepted before the outage was processed");
        assert.equal(after.summary.points, 300_000);
        const fresh = await upload(generateCsv(1_000));
        assert.equal(fresh.status, 202);
        const logs = server.logs.join("\n");
        assert.doesNotMatch(logs, /"status":500/);
        const status = await server.stop("SIGTERM");
        if (status.code !== 0) console.error(status, server.logs.slice(-12).join("\n"));
        assert.equal(status.code, 0);
      } finally {
        await server[Symbol.asyncDispose]();
      }
    } finally {
      await cluster.destroy();
    }
  },
});
