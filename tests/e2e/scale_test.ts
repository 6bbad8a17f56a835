/**
 * Several `main.ts serve` processes on one PostgreSQL database, some behind a
 * real HAProxy: what issue 11 promises when reportd scales out. Nothing
 * accepted is lost, nothing is finished twice, a paused instance cannot
 * overwrite another's work, and deletes, idempotency and revocations hold
 * across instances.
 *
 * Which instance did what is read from each process's JSON log lines
 * ("Job finished for report ..."), the same lines an operator would grep.
 */
import assert from "node:assert/strict";
import pg from "pg";
import { generateCsv } from "../helpers/generate.ts";
import { haproxySkipReason, startHaproxy } from "../helpers/haproxy.ts";
import { pollReport, pollUntil, type ReportBody } from "../helpers/poll.ts";
import {
  adminQuery,
  postgresSkipReason,
  startPrivateCluster,
  testDatabase,
  withDatabaseName,
} from "../helpers/postgres.ts";
import { logRecords, runCli, type ServerProcess, startServer } from "../helpers/server_process.ts";

const SKIP = postgresSkipReason() ?? haproxySkipReason();

/** Env for an instance on `url`: short leases so takeovers happen within the test. */
function instanceEnv(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REPORTD_DATABASE_URL: url,
    REPORTD_JOB_LEASE: "2s",
    REPORTD_WORKERS: "1",
    REPORTD_MAX_POINTS: "2000000",
    REPORTD_MAX_BODY_BYTES: String(64 * 1024 * 1024),
    ...extra,
  };
}

/** Report ids this instance logged `template` for (a message template, e.g. "Job finished"). */
function reportsLogged(server: ServerProcess, prefix: string): string[] {
  return logRecords(server)
    .filter((record) => String(record.message).startsWith(prefix))
    .map((record) => String(record.report_id));
}

async function upload(
  baseUrl: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return await fetch(`${baseUrl}/v1/reports`, {
    method: "POST",
    body,
    headers: { "content-type": "text/csv", ...headers },
  });
}

async function accepted(baseUrl: string, body: string): Promise<string> {
  const res = await upload(baseUrl, body);
  const text = await res.text();
  assert.equal(res.status, 202, text);
  return JSON.parse(text).id;
}

async function json(url: string, headers: Record<string, string> = {}): Promise<ReportBody> {
  return await (await fetch(url, { headers })).json();
}

async function statusOf(url: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(url, { headers });
  await res.body?.cancel();
  return res.status;
}

function comparable(report: ReportBody): unknown {
  return { rows: report.rows, summary: report.summary };
}

async function startInstances(
  count: number,
  env: Record<string, string>,
): Promise<ServerProcess[] & AsyncDisposable> {
  const started = await Promise.allSettled(
    Array.from({ length: count }, () => startServer({ env })),
  );
  const servers = started.flatMap((result) => result.status === "fulfilled" ? [result.value] : []);
  const disposeAll = async () => {
    await Promise.all(servers.map((server) => server[Symbol.asyncDispose]()));
  };
  const failed = started.find((result) => result.status === "rejected");
  if (failed !== undefined) {
    await disposeAll();
    throw (failed as PromiseRejectedResult).reason;
  }
  return Object.assign(servers, { [Symbol.asyncDispose]: disposeAll });
}

Deno.test({
  name: "e2e scale: three instances on one PostgreSQL behind HAProxy",
  ignore: SKIP !== undefined,
  async fn(t) {
    await using database = await testDatabase();
    // All three at once on an empty database. A 5 s lease: on a loaded
    // machine a 2 s one expired under running jobs whose heartbeats were late,
    // and three such takeovers fail a job (REPORTD_JOB_ATTEMPTS).
    await using servers = await startInstances(
      3,
      instanceEnv(database.url, { REPORTD_JOB_LEASE: "5s" }),
    );

    await t.step("three instances started at once migrate once and all serve", async () => {
      const migrated = servers.filter((server) =>
        logRecords(server).some((record) =>
          String(record.message).startsWith("Database {database}") && record.applied?.length > 0
        )
      );
      assert.equal(migrated.length, 1, "exactly one instance applied the migrations");
      for (const server of servers) assert.equal(await statusOf(`${server.baseUrl}/readyz`), 200);
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const { rows } = await client.query(
          "SELECT count(*)::int AS runs, count(DISTINCT version)::int AS versions " +
            "FROM schema_migrations",
        );
        assert.equal(rows[0].runs, rows[0].versions);
        // Each job queue has a pool of its own (main.ts openJobsDatabase), so
        // its statements never wait behind requests'; its start-up sweep has
        // used it by the time the instance serves.
        const pools = await pollUntil("each instance's job pool connected", async () => {
          const { rows } = await client.query(
            "SELECT application_name AS name, count(DISTINCT client_port)::int AS connections " +
              "FROM pg_stat_activity WHERE datname = current_database() " +
              "AND application_name LIKE 'reportd%' GROUP BY 1",
          );
          const byName = Object.fromEntries(rows.map((row) => [row.name, row.connections]));
          return byName["reportd-jobs"] >= servers.length ? byName : undefined;
        }, { intervalMs: 20 });
        // REPORTD_WORKERS=1 here: at most the workers plus two each.
        assert.ok(pools["reportd-jobs"] <= servers.length * 3, `pools: ${JSON.stringify(pools)}`);
      } finally {
        await client.end();
      }
    });

    await t.step(
      "30 uploads over HAProxy, kill -9 of an instance holding a job: every 202 becomes " +
        "ready, identical to one instance, none finished twice, none listed twice",
      async () => {
        await using balancer = await startHaproxy(servers.map((server) => server.port));
        // Three different bodies, ten times each; big enough that jobs are
        // still running when the uploads are done.
        const bodies = [200_000, 150_000, 100_000].map((rows) => generateCsv(rows));
        const ids: string[] = [];
        const bodyOf = new Map<string, number>();
        for (let round = 0; round < 10; round++) {
          const batch = await Promise.all(bodies.map((body) => accepted(balancer.baseUrl, body)))
            .catch((error) => {
              const tails = servers.map((server) => server.logs.slice(-8).join("\n"));
              throw new Error(`${error.message}\n${tails.join("\n---\n")}`);
            });
          batch.forEach((id, index) => bodyOf.set(id, index));
          ids.push(...batch);
        }
        assert.equal(ids.length, 30);
        const spread = servers.map((server) =>
          logRecords(server).filter((record) => record.status === 202).length
        );
        // Round robin: each instance took some of the uploads.
        assert.ok(spread.every((count) => count > 0), `uploads per instance: ${spread}`);

        // The victim: the instance holding the most recently claimed job (the
        // database says who holds what: `locked_by` is pid-<pid>-<random>).
        const client = new pg.Client({ connectionString: database.url });
        await client.connect();
        let held: string[];
        let victim: ServerProcess;
        try {
          // Paused first, so it cannot finish what the database says it holds
          // between the look and the kill; resumed if it turns out to hold nothing.
          const found = await pollUntil("an instance holding a job", async () => {
            const { rows } = await client.query(
              "SELECT locked_by FROM jobs WHERE locked_by IS NOT NULL AND lease_expires_at > $1 " +
                "ORDER BY lease_expires_at DESC LIMIT 1",
              [new Date().toISOString()],
            );
            const pid = Number(/^pid-(\d+)-/.exec(rows[0]?.locked_by ?? "")?.[1]);
            const server = servers.find((candidate) => candidate.pid === pid);
            if (server === undefined) return undefined;
            Deno.kill(server.pid, "SIGSTOP");
            const still = await client.query(
              "SELECT report_id FROM jobs WHERE locked_by LIKE $1",
              [`pid-${server.pid}-%`],
            );
            if (still.rows.length > 0) {
              return {
                server,
                held: still.rows.map((row) => row.report_id),
              };
            }
            Deno.kill(server.pid, "SIGCONT");
            return undefined;
          }, { intervalMs: 5 });
          victim = found.server;
          held = found.held;
          await victim.stop("SIGKILL");
        } finally {
          await client.end();
        }
        assert.ok(held.length > 0, "the killed instance held a job when it died");

        const reports = await Promise.all(
          ids.map((id) => pollReport(balancer.baseUrl, id, { timeoutMs: 90_000, intervalMs: 200 })),
        );
        for (const report of reports) assert.equal(report.status, "ready", JSON.stringify(report));
        // The job the victim held was taken over by a living instance.
        const survivors = servers.filter((server) => server !== victim);
        for (const id of held) {
          assert.ok(
            survivors.some((server) => reportsLogged(server, "Job finished").includes(id)),
            `report ${id}, held by the killed instance, was finished by another`,
          );
        }
        // Finished once: at most one "Job finished" line per report over all
        // instances (the killed one may have died between committing a job and
        // logging it), and exactly one among the survivors' for the held ones.
        const finishedLines = servers.flatMap((server) => reportsLogged(server, "Job finished"));
        for (const id of ids) {
          assert.ok(finishedLines.filter((line) => line === id).length <= 1, id);
        }
        // Listed once.
        const listed = await json(`${balancer.baseUrl}/v1/reports?limit=100`);
        const listedIds = listed.items.map((item: ReportBody) => item.id);
        assert.equal(new Set(listedIds).size, listedIds.length);
        assert.deepEqual([...listedIds].sort(), [...ids].sort());

        // Identical to a single instance (SQLite, alone) processing the same bodies.
        await using single = await startServer({ env: { REPORTD_MAX_POINTS: "2000000" } });
        const references = await Promise.all(
          bodies.map(async (body) =>
            await pollReport(single.baseUrl, await accepted(single.baseUrl, body), {
              timeoutMs: 60_000,
            })
          ),
        );
        const referenceSeries = await Promise.all(
          references.map((reference) =>
            json(`${single.baseUrl}/v1/reports/${reference.id}/series?points=300`)
          ),
        );
        for (const report of reports) {
          const index = bodyOf.get(report.id)!;
          assert.deepEqual(comparable(report), comparable(references[index]));
          assert.deepEqual(
            await json(`${balancer.baseUrl}/v1/reports/${report.id}/series?points=300`),
            referenceSeries[index],
          );
        }
      },
    );
  },
});

Deno.test({
  name: "e2e scale: an instance paused past its lease has its late completion (or requeue) refused",
  ignore: SKIP !== undefined,
  async fn() {
    await using database = await testDatabase();
    const env = instanceEnv(database.url);
    await using paused = await startServer({ env });
    const id = await accepted(paused.baseUrl, generateCsv(1_000_000));
    await pollUntil(
      "the first instance to start the job",
      () => reportsLogged(paused, "Job started").includes(id) || undefined,
      { intervalMs: 2 },
    );
    Deno.kill(paused.pid, "SIGSTOP");
    let resumed = false;
    try {
      // Another instance takes the job over once the 2 s lease has run out.
      await using other = await startServer({ env });
      await pollUntil(
        "the other instance to finish the job",
        () => reportsLogged(other, "Job finished").includes(id) || undefined,
        { timeoutMs: 60_000, intervalMs: 50 },
      );
      Deno.kill(paused.pid, "SIGCONT");
      resumed = true;
      await pollUntil(
        "the resumed instance to have its late result or requeue refused",
        () =>
          logRecords(paused).some((record) =>
            /^(Refused to|Dropped the)/.test(record.message) && record.report_id === id
          ) || undefined,
        { timeoutMs: 60_000, intervalMs: 50 },
      ).catch((error) => {
        throw new Error(`${error.message}; its log:\n${paused.logs.slice(-15).join("\n")}`);
      });
      assert.ok(!reportsLogged(paused, "Job finished").includes(id));
      const report = await pollReport(other.baseUrl, id);
      assert.equal(report.status, "ready");
      assert.equal(report.rows.accepted, 1_000_000);
      // Both instances serve the one result.
      assert.deepEqual(await json(`${paused.baseUrl}/v1/reports/${id}`), report);
    } finally {
      if (!resumed) Deno.kill(paused.pid, "SIGCONT");
    }
  },
});

Deno.test({
  name: "e2e scale: an instance started while another receives a large upload leaves it alone",
  ignore: SKIP !== undefined,
  async fn() {
    await using database = await testDatabase();
    const env = instanceEnv(database.url);
    await using receiving = await startServer({ env });
    const body = new TextEncoder().encode(generateCsv(400_000));
    const half = Math.floor(body.length / 2);
    const rest = Promise.withResolvers<void>();
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        controller.enqueue(body.subarray(0, half));
        await rest.promise;
        controller.enqueue(body.subarray(half));
        controller.close();
      },
    }, { highWaterMark: 0 });
    const response = fetch(`${receiving.baseUrl}/v1/reports`, {
      method: "POST",
      body: stream,
      headers: { "content-type": "text/csv" },
    });
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      // The first half is in the database, in chunks of an upload with no job yet.
      await pollUntil("the first chunks to be stored", async () => {
        const { rows } = await client.query("SELECT count(*)::int AS n FROM upload_chunks");
        return rows[0].n > 0 || undefined;
      }, { timeoutMs: 30_000 });
      await using starting = await startServer({ env });
      await pollUntil(
        "the new instance's queue to start (after its sweep)",
        () =>
          logRecords(starting).some((record) =>
            String(record.message).startsWith("Job queue started")
          ) || undefined,
      );
      const { rows } = await client.query("SELECT count(*)::int AS n FROM upload_chunks");
      assert.ok(rows[0].n > 0, "the sweep at start left the chunks in place");
      rest.resolve();
      const res = await response;
      const answer = await res.json();
      assert.equal(res.status, 202, JSON.stringify(answer));
      const report = await pollReport(starting.baseUrl, answer.id, { timeoutMs: 60_000 });
      assert.equal(report.status, "ready");
      assert.equal(report.rows.accepted, 400_000);
    } finally {
      rest.resolve();
      await client.end();
    }
  },
});

Deno.test({
  name: "e2e scale: delete, Idempotency-Key and key revocation hold across instances",
  ignore: SKIP !== undefined,
  async fn(t) {
    await using database = await testDatabase();
    const env = instanceEnv(database.url);
    const created = await runCli(["keys", "create", "--scopes", "read,write", "--name", "ci"], {
      env,
    });
    assert.equal(created.code, 0, created.stderr);
    const key = created.stdout.trim().split("\n").at(-1)!.trim();
    assert.match(key, /^rk_/);
    const auth = { authorization: `Bearer ${key}` };
    await using servers = await startInstances(2, env);
    const [a, b] = servers;
    const csv = generateCsv(1_000);

    await t.step("a delete on one instance is a 404 on the other within 2 s", async () => {
      const res = await upload(a.baseUrl, csv, auth);
      assert.equal(res.status, 202);
      const { id } = await res.json();
      await pollUntil("the report to be ready on b", async () => {
        const report = await json(`${b.baseUrl}/v1/reports/${id}`, auth);
        return report.status === "ready" || undefined;
      });
      // Now b has it in its cache of finished reports.
      assert.equal(await statusOf(`${b.baseUrl}/v1/reports/${id}`, auth), 200);
      const deleted = await fetch(`${a.baseUrl}/v1/reports/${id}`, {
        method: "DELETE",
        headers: auth,
      });
      assert.equal(deleted.status, 204);
      await deleted.body?.cancel();
      const since = Date.now();
      await pollUntil("b to answer 404", async () => {
        const status = await statusOf(`${b.baseUrl}/v1/reports/${id}`, auth);
        return status === 404 || undefined;
      }, { timeoutMs: 2_000, intervalMs: 10 });
      assert.ok(Date.now() - since < 2_000);
    });

    await t.step("one Idempotency-Key on two instances at once makes one report", async () => {
      const headers = { ...auth, "idempotency-key": crypto.randomUUID() };
      const answers = await Promise.all(
        [a, b].map(async (server) => {
          const res = await upload(server.baseUrl, csv, headers);
          return { status: res.status, body: await res.json() };
        }),
      );
      for (const answer of answers) {
        assert.ok([200, 202].includes(answer.status), JSON.stringify(answer));
      }
      assert.equal(answers[0].body.id, answers[1].body.id);
      const listed = await json(`${b.baseUrl}/v1/reports?limit=100`, auth);
      assert.equal(
        listed.items.filter((item: ReportBody) => item.id === answers[0].body.id).length,
        1,
      );
      assert.equal(listed.items.length, 1, "only this report exists (the other was deleted)");
    });

    await t.step("a key revoked on one side is refused by every instance within 5 s", async () => {
      const keyId = key.split("_")[1];
      const revoked = await runCli(["keys", "revoke", keyId], { env });
      assert.equal(revoked.code, 0, revoked.stderr);
      const since = Date.now();
      for (const server of servers) {
        await pollUntil(`${server.baseUrl} to refuse the key`, async () => {
          const status = await statusOf(`${server.baseUrl}/v1/reports`, auth);
          return status === 401 || undefined;
        }, { timeoutMs: 5_000, intervalMs: 10 });
      }
      assert.ok(Date.now() - since < 5_000);
    });
  },
});

Deno.test({
  name:
    "e2e scale: a client spraying requests over three instances is held near the configured rate",
  ignore: SKIP !== undefined,
  async fn() {
    await using database = await testDatabase();
    const perSecond = 10;
    const burst = 10;
    await using servers = await startInstances(
      3,
      instanceEnv(database.url, {
        REPORTD_RATE_READ_PER_S: String(perSecond),
        REPORTD_RATE_READ_BURST: String(burst),
      }),
    );
    // Each learns from the heartbeats that there are three (within one 5 s beat).
    for (const server of servers) {
      await pollUntil(
        `${server.baseUrl} to count three live instances`,
        () =>
          logRecords(server).some((record) =>
            String(record.message).startsWith("Live instances") && record.live === 3
          ) || undefined,
        { timeoutMs: 20_000, intervalMs: 50 },
      );
    }
    await using balancer = await startHaproxy(servers.map((server) => server.port));
    // Four concurrent clients from one address for 3 s, as fast as they can.
    const started = Date.now();
    const durationMs = 3_000;
    const counts = { allowed: 0, refused: 0, other: 0 };
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (Date.now() - started < durationMs) {
        const status = await statusOf(`${balancer.baseUrl}/v1/reports?limit=1`);
        if (status === 200) counts.allowed++;
        else if (status === 429) counts.refused++;
        else counts.other++;
      }
    }));
    const seconds = (Date.now() - started) / 1000;
    const configured = burst + perSecond * seconds;
    assert.equal(counts.other, 0, JSON.stringify(counts));
    assert.ok(counts.refused > 0, `the limit was reached: ${JSON.stringify(counts)}`);
    // The bound the issue sets: within 1.5x of one instance's allowance (three
    // unshared instances would allow 3x).
    assert.ok(
      counts.allowed <= 1.5 * configured,
      `${counts.allowed} allowed in ${seconds} s; configured ${configured}`,
    );
    // And not starved: at least half of it got through.
    assert.ok(counts.allowed >= 0.5 * configured, `${counts.allowed} of ${configured}`);
  },
});

Deno.test({
  name: "e2e scale: PostgreSQL stopped under load behind three instances: only 503s with " +
    "Retry-After, no crash, healed within 15 s, nothing accepted lost",
  ignore: SKIP !== undefined,
  async fn() {
    // A cluster of its own, to stop and start (tests/e2e/postgres_outage_test.ts
    // does the same with one instance and no load).
    const cluster = await startPrivateCluster();
    assert.ok(cluster, "initdb and pg_ctl are needed for this test");
    try {
      await adminQuery("CREATE DATABASE reportd_scale_outage", cluster.url);
      const url = withDatabaseName(cluster.url, "reportd_scale_outage");
      await using servers = await startInstances(
        3,
        instanceEnv(url, { REPORTD_JOB_LEASE: "3s", REPORTD_HANDLER_TIMEOUT: "10s" }),
      );
      const csv = generateCsv(2_000);
      const answers: { status: number; retryAfter: string | null; id?: string }[] = [];
      let running = true;
      let turn = 0;
      // Three clients, each uploading and reading in turn over all instances.
      const load = Promise.all(Array.from({ length: 3 }, async () => {
        while (running) {
          const server = servers[turn++ % servers.length];
          const write = turn % 2 === 0;
          const res = await fetch(
            `${server.baseUrl}/v1/reports${write ? "" : "?limit=5"}`,
            write ? { method: "POST", body: csv, headers: { "content-type": "text/csv" } } : {},
          ).catch(() => undefined);
          if (res === undefined) {
            answers.push({ status: 0, retryAfter: null });
            continue;
          }
          const body = await res.json().catch(() => ({}));
          answers.push({
            status: res.status,
            retryAfter: res.headers.get("retry-after"),
            id: res.status === 202 ? body.id : undefined,
          });
        }
      }));
      try {
        await pollUntil(
          "uploads accepted before the outage",
          () => answers.filter((answer) => answer.status === 202).length >= 3 || undefined,
        );
        await cluster.stop();
        const stoppedAt = answers.length;
        await pollUntil(
          "503s during the outage",
          () =>
            answers.slice(stoppedAt).filter((answer) => answer.status === 503).length >= 6 ||
            undefined,
        );
        await cluster.start();
        const startedAt = Date.now();
        for (const server of servers) {
          await pollUntil(
            `${server.baseUrl} ready again`,
            async () => await statusOf(`${server.baseUrl}/readyz`) === 200 || undefined,
            {
              timeoutMs: 15_000,
              intervalMs: 100,
            },
          );
        }
        assert.ok(Date.now() - startedAt < 15_000, "healed within 15 s");
        const healedAt = answers.length;
        await pollUntil(
          "uploads accepted after the outage",
          () =>
            answers.slice(healedAt).filter((answer) => answer.status === 202).length >= 3 ||
            undefined,
        );
      } finally {
        running = false;
        await load;
      }
      const statuses = new Set(answers.map((answer) => answer.status));
      assert.deepEqual(
        [...statuses].filter((status) => ![200, 202, 503].includes(status)),
        [],
        `only 200, 202 and 503: ${[...statuses]}`,
      );
      for (const answer of answers.filter((answer) => answer.status === 503)) {
        assert.ok(Number(answer.retryAfter) >= 1, "every 503 carries Retry-After");
      }
      // No instance crashed, and every accepted upload is processed.
      for (const server of servers) assert.equal(await statusOf(`${server.baseUrl}/healthz`), 200);
      const accepted = answers.flatMap((answer) => answer.id === undefined ? [] : [answer.id]);
      for (const id of accepted) {
        const report = await pollReport(servers[0].baseUrl, id, {
          timeoutMs: 60_000,
          intervalMs: 100,
        });
        assert.equal(report.status, "ready", id);
      }
      for (const server of servers) {
        assert.ok(
          !server.logs.some((line) => /"status":500/.test(line)),
          "no 500 logged:\n" +
            server.logs.filter((l) => /"status":500|"level":"ERROR"/.test(l)).slice(0, 6).join(
              "\n",
            ),
        );
      }
    } finally {
      await cluster.destroy();
    }
  },
});
