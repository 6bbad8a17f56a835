/**
 * The connection guard on real loopback sockets, in-process: slow request
 * heads and silent connections are cut off, everything else passes through
 * unchanged.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type GuardedServer, serveGuarded } from "../../services/security/connection_guard.ts";
import { rawClient, trickle, trickleHttp2Headers } from "../helpers/raw_http.ts";

const HEAD =
  "GET /echo HTTP/1.1\r\nHost: localhost\r\nX-Padding: abcdefghijklmnopqrstuvwxyz\r\n\r\n";

async function withGuard(
  options: { headersTimeoutMs: number; idleTimeoutMs: number; maxConnections?: number },
  run: (server: GuardedServer, seen: Deno.NetAddr[]) => Promise<void>,
): Promise<void> {
  const seen: Deno.NetAddr[] = [];
  const server = serveGuarded(
    { hostname: "127.0.0.1", port: 0, ...options },
    async (request, info) => {
      seen.push(info.remoteAddr);
      const body = await request.text();
      return new Response(`${request.method} ${new URL(request.url).pathname} ${body.length}`);
    },
  );
  try {
    await run(server, seen);
  } finally {
    await server.shutdown();
  }
}

Deno.test("The guard passes requests through and hands the handler the client's address", async () => {
  await withGuard({ headersTimeoutMs: 5000, idleTimeoutMs: 5000 }, async (server, seen) => {
    const response = await fetch(`http://127.0.0.1:${server.addr.port}/echo`, {
      method: "POST",
      body: "x".repeat(100_000),
    });
    assert.equal(await response.text(), "POST /echo 100000");

    await using client = await rawClient(server.addr.port);
    // Two requests on one keep-alive connection, the second pipelined.
    await client.send(HEAD + HEAD.replace("Host", "Connection: close\r\nHost"));
    const text = await client.readToEnd();
    assert.equal(text.match(/HTTP\/1.1 200 OK/g)?.length, 2);
    const local = client.conn.localAddr as Deno.NetAddr;
    assert.ok(
      seen.some((addr) => addr.port === local.port && addr.hostname === "127.0.0.1"),
      `The handler saw ${JSON.stringify(seen)}, not the client's port ${local.port}`,
    );
  });
});

Deno.test("A request head sent a byte at a time is cut off; others are served meanwhile", async () => {
  await withGuard({ headersTimeoutMs: 300, idleTimeoutMs: 5000 }, async (server) => {
    await using slow = await rawClient(server.addr.port);
    const trickling = trickle(slow, HEAD, 40);
    // While the slow client holds its connection, a normal one is served.
    const normal = await fetch(`http://127.0.0.1:${server.addr.port}/echo`);
    assert.equal(await normal.text(), "GET /echo 0");
    const sent = await trickling;
    assert.ok(sent < HEAD.length, `The slow client sent its whole head (${sent} bytes)`);
    assert.equal(await slow.readToEnd(), "", "Cut off without an answer");
  });
});

Deno.test("A connection that sends nothing is closed after the head timeout", async () => {
  await withGuard({ headersTimeoutMs: 200, idleTimeoutMs: 60_000 }, async (server) => {
    await using silent = await rawClient(server.addr.port);
    assert.equal(await silent.readToEnd(), "");
  });
});

Deno.test("An idle keep-alive connection is closed after the idle timeout", async () => {
  await withGuard({ headersTimeoutMs: 60_000, idleTimeoutMs: 200 }, async (server) => {
    await using client = await rawClient(server.addr.port);
    await client.send(HEAD);
    const text = await client.readToEnd();
    assert.match(text, /^HTTP\/1.1 200 OK/, "Answered, then closed once idle");
  });
});

Deno.test("A body may take longer than the head timeout, with Expect: 100-continue too", async () => {
  await withGuard({ headersTimeoutMs: 200, idleTimeoutMs: 5000 }, async (server) => {
    await using client = await rawClient(server.addr.port);
    await client.send(
      "POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 30\r\n" +
        "Expect: 100-continue\r\nConnection: close\r\n\r\n",
    );
    await client.readUntil("100 Continue");
    // Three pieces spread over more than the head timeout: bodies are the
    // application's business, not the guard's.
    for (const piece of ["a".repeat(10), "b".repeat(10), "c".repeat(10)]) {
      await new Promise((resolve) => setTimeout(resolve, 120));
      assert.ok(await client.send(piece));
    }
    assert.match(await client.readToEnd(), /HTTP\/1.1 200 OK[\s\S]*POST \/upload 30$/);
  });
});

Deno.test("Shutdown finishes in-flight requests and closes every connection", async () => {
  const release = Promise.withResolvers<void>();
  const started = Promise.withResolvers<void>();
  const server = serveGuarded(
    { hostname: "127.0.0.1", port: 0, headersTimeoutMs: 5000, idleTimeoutMs: 5000 },
    async () => {
      started.resolve();
      await release.promise;
      return new Response("finished");
    },
  );
  await using idle = await rawClient(server.addr.port);
  const inFlight = fetch(`http://127.0.0.1:${server.addr.port}/`);
  await started.promise;
  const stopping = server.shutdown();
  release.resolve();
  assert.equal(await (await inFlight).text(), "finished");
  await stopping;
  assert.equal(await idle.readToEnd(), "");
  assert.equal(server.connections, 0);
});

Deno.test("With a head timeout of 0 there is no guard, just Deno.serve", async () => {
  const server = serveGuarded(
    { hostname: "127.0.0.1", port: 0, headersTimeoutMs: 0, idleTimeoutMs: 1000 },
    (_request, info) => new Response(String(info.remoteAddr.port)),
  );
  try {
    const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
    assert.match(await response.text(), /^\d+$/);
  } finally {
    await server.shutdown();
  }
});

Deno.test("An HTTP/2 header block that never ends is cut off by the head timeout", async () => {
  await withGuard({ headersTimeoutMs: 300, idleTimeoutMs: 60_000 }, async (server) => {
    await using slow = await rawClient(server.addr.port);
    // A CONTINUATION frame every 100 ms for 3 s: ten times the head timeout.
    const sent = await trickleHttp2Headers(slow, 100, 30);
    assert.ok(sent < 30, "The server kept an unfinished HTTP/2 header block open");
    await slow.readToEnd();
    assert.equal(server.connections, 0);
  });
});

Deno.test("Past the connection cap a new connection is closed at once and counted", async () => {
  await withGuard(
    { headersTimeoutMs: 60_000, idleTimeoutMs: 60_000, maxConnections: 2 },
    async (server) => {
      await using first = await rawClient(server.addr.port);
      await using second = await rawClient(server.addr.port);
      // Both held (one answered and kept alive, one silent): the cap is full.
      await first.send("GET /echo HTTP/1.1\r\nHost: localhost\r\n\r\n");
      await first.readUntil("GET /echo 0");
      await using third = await rawClient(server.addr.port);
      assert.equal(await third.readToEnd(), "", "The third connection was served");
      assert.equal(server.refused, 1);
      assert.equal(server.connections, 2);
      // A slot frees up: the next client is served.
      await second[Symbol.asyncDispose]();
      while (server.connections > 1) await new Promise((resolve) => setTimeout(resolve, 10));
      const response = await fetch(`http://127.0.0.1:${server.addr.port}/echo`);
      assert.equal(await response.text(), "GET /echo 0");
    },
  );
});
