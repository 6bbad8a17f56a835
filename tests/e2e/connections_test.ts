/**
 * Connection abuse against a real `main.ts serve` with a low open-file limit:
 * thousands of idle connections, more than the process has descriptors, and
 * an HTTP/2 request whose header block never ends. The server must stay up,
 * serve a fresh client once the idle ones are cut off, and recover fully.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type RawClient, rawClient, trickleHttp2Headers } from "../helpers/raw_http.ts";
import { type ServerProcess, startServer } from "../helpers/server_process.ts";

/** Opens `count` connections that send nothing, a batch at a time. */
async function openIdle(port: number, count: number): Promise<RawClient[]> {
  const clients: RawClient[] = [];
  for (let opened = 0; opened < count; opened += 100) {
    const batch = Math.min(100, count - opened);
    clients.push(...await Promise.all(Array.from({ length: batch }, () => rawClient(port))));
  }
  return clients;
}

/** Waits until the server has closed every one of `clients`, then releases them. */
async function closedByServer(clients: RawClient[]): Promise<void> {
  const answers = await Promise.all(clients.map((client) => client.readToEnd()));
  for (const client of clients) await client[Symbol.asyncDispose]();
  assert.ok(answers.every((text) => text === ""), "An idle connection got an answer");
}

async function assertServes(server: ServerProcess): Promise<void> {
  const health = await fetch(`${server.baseUrl}/healthz`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
}

async function metric(server: ServerProcess, name: string): Promise<number> {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
  const value = text.match(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, "m"))?.[1];
  assert.ok(value !== undefined, `${name} is not in /metrics`);
  return Number(value);
}

const ENV = {
  REPORTD_HEADERS_TIMEOUT: "2s",
  REPORTD_IDLE_TIMEOUT: "30s",
  REPORTD_PUBLIC_METRICS: "true",
};

Deno.test("e2e: 3,000 idle connections against 256 descriptors: refused past the cap, then served", async () => {
  await using server = await startServer({ openFileLimit: 256, env: ENV });
  // About 230 descriptors are free at start: half of them is the default cap.
  const cap = Number(server.logs.join("\n").match(/"max":(\d+)/)?.[1]);
  assert.ok(cap >= 100 && cap <= 128, `The default cap for 256 descriptors is ${cap}`);
  for (const wave of [1, 2]) {
    const idle = await openIdle(server.port, 1500);
    // Refused ones are closed at once, held ones after the 2 s head timeout.
    await closedByServer(idle);
    await assertServes(server);
    assert.ok(
      await metric(server, "reportd_connections_refused_total") >= wave * (1500 - cap),
      "Connections past the cap were not counted",
    );
  }
  assert.equal(await metric(server, "reportd_connections_open"), 1, "Only /metrics' own");
  const status = await server.stop();
  assert.equal(status.code, 0, "It stopped cleanly");
});

Deno.test("e2e: running out of descriptors on accept waits and retries instead of exiting", async () => {
  // A cap above the limit: accept itself fails with EMFILE.
  await using server = await startServer({
    openFileLimit: 160,
    env: { ...ENV, REPORTD_MAX_CONNECTIONS: "10000" },
  });
  const idle = await openIdle(server.port, 400);
  await closedByServer(idle);
  await assertServes(server);
  assert.ok(
    server.logs.some((line) =>
      line.includes("Accepting a connection failed") && line.includes('"error":"EMFILE"')
    ),
    "The accept loop never ran out of descriptors",
  );
  const status = await server.stop();
  assert.equal(status.code, 0, "It stopped cleanly");
});

Deno.test("e2e: an HTTP/2 header block trickled a frame at a time is cut off by the head timeout", async () => {
  await using server = await startServer({ env: { ...ENV, REPORTD_HEADERS_TIMEOUT: "1s" } });
  const clients = await Promise.all(Array.from({ length: 20 }, () => rawClient(server.port)));
  try {
    // A CONTINUATION frame every 400 ms: 8 s of header block against a 1 s limit.
    const sent = await Promise.all(clients.map((client) => trickleHttp2Headers(client, 400, 20)));
    assert.ok(sent.every((frames) => frames < 20), `Frames sent: ${sent.join(", ")}`);
  } finally {
    for (const client of clients) await client[Symbol.asyncDispose]();
  }
  await assertServes(server);
});
