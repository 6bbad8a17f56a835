/**
 * Stopping as operators do it: Ctrl-C in the terminal running `deno task
 * start` signals the whole process group, so the task runner and the server
 * both receive it, and the runner forwards its copy to the server too. One
 * Ctrl-C must still be one graceful drain, and requests in flight, an upload
 * whose body is still arriving included, must finish.
 *
 * @module
 */
import assert from "node:assert/strict";
import { rawClient } from "../helpers/raw_http.ts";
import { startServer } from "../helpers/server_process.ts";

const ROWS = Array.from(
  { length: 2000 },
  (_, i) => `${new Date(Date.UTC(2020, 0, 1) + i * 60_000).toISOString()},${i % 97}.5\n`,
).join("");
const CSV = `timestamp,value\n${ROWS}`;

/** Waits (checking every 20 ms, at most 20 s) until `condition` holds. */
async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function messages(logs: string[]): string[] {
  return logs.map((line) => {
    try {
      return String(JSON.parse(line).message);
    } catch {
      return line;
    }
  });
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`e2e: one group ${signal} under deno task start drains; a half-sent upload finishes`, async () => {
    await using server = await startServer({
      viaTask: true,
      env: { REPORTD_SHUTDOWN_TIMEOUT: "20s" },
    });
    // An upload whose body is half sent when the signal comes.
    await using client = await rawClient(server.port);
    const body = new TextEncoder().encode(CSV);
    const half = Math.floor(body.byteLength / 2);
    await client.send(
      "POST /v1/reports HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/csv\r\n" +
        `Content-Length: ${body.byteLength}\r\nExpect: 100-continue\r\n\r\n`,
    );
    // The 100 Continue comes once the handler reads the body: it is in flight.
    await client.readUntil("100 Continue\r\n\r\n");
    await client.send(body.subarray(0, half));

    const exited = server.stop(signal);
    await waitFor(
      () => messages(server.logs).some((message) => message.startsWith("Received")),
      "the server to take the signal",
    );
    assert.ok(await client.send(body.subarray(half)), "The connection is still open");
    const answer = await client.readUntil("\r\n\r\nHTTP/1.1 202 ");
    assert.match(answer, /\r\n\r\nHTTP\/1\.1 202 /, answer);

    const status = await exited;
    const said = messages(server.logs);
    assert.equal(status.code, 0, said.join("\n"));
    assert.ok(!said.some((message) => /at once/.test(message)), said.join("\n"));
    assert.equal(said.filter((message) => message.startsWith("Received")).length, 1);
    assert.equal(said.at(-1), "Stopped cleanly");
  });
}

Deno.test("e2e: an upload that stalls is abandoned at REPORTD_SHUTDOWN_TIMEOUT, exit 0", async () => {
  await using server = await startServer({ env: { REPORTD_SHUTDOWN_TIMEOUT: "1s" } });
  await using client = await rawClient(server.port);
  await client.send(
    "POST /v1/reports HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/csv\r\n" +
      "Content-Length: 100000\r\nExpect: 100-continue\r\n\r\n",
  );
  await client.readUntil("100 Continue\r\n\r\n");
  await client.send("timestamp,value\n");
  const started = performance.now();
  const status = await server.stop("SIGTERM");
  const seconds = (performance.now() - started) / 1000;
  assert.equal(status.code, 0);
  // 1 s of waiting plus the time to stop; far below the 20 s a hang would take.
  assert.ok(seconds < 10, `Stopped after ${seconds} s`);
  const said = messages(server.logs);
  assert.ok(said.some((message) => /still running at the shutdown timeout/.test(message)));
  assert.equal(said.at(-1), "Stopped cleanly");
});
