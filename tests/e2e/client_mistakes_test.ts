/**
 * Requests that are the client's fault, against a real `main.ts serve` on raw
 * sockets: a `Host` header that would rewrite the routed path, and bodies that
 * end before they said they would. Each is a 4xx problem naming the cause,
 * and none of them counts as a server error.
 *
 * @module
 */
import assert from "node:assert/strict";
import { pollUntil } from "../helpers/poll.ts";
import { rawClient } from "../helpers/raw_http.ts";
import { startServer } from "../helpers/server_process.ts";

/** Sends `head` (and `body`), half-closes, and returns the status line and the JSON body. */
async function exchange(
  port: number,
  text: string,
): Promise<{ status: number; problem: Record<string, unknown> | undefined; raw: string }> {
  await using client = await rawClient(port);
  await client.send(text);
  await client.conn.closeWrite();
  const raw = await client.readToEnd();
  const status = Number(raw.match(/^HTTP\/1\.1 (\d{3})/m)?.[1]);
  // A 100 Continue comes before the final answer: take the last status line.
  const finalStatus = Number([...raw.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].at(-1)?.[1] ?? status);
  const json = raw.slice(raw.indexOf("\r\n\r\n", raw.lastIndexOf("HTTP/1.1")) + 4);
  let problem: Record<string, unknown> | undefined;
  try {
    problem = JSON.parse(json.includes("{") ? json.slice(json.indexOf("{")) : json);
  } catch {
    problem = undefined;
  }
  return { status: finalStatus, problem, raw };
}

function accessLines(logs: string[]): Record<string, unknown>[] {
  return logs.map((line) => JSON.parse(line)).filter((record) =>
    record.logger === "reportd.http.access"
  );
}

/** Requests counted by `/metrics`, by status class (`4` for 4xx, `5` for 5xx). */
async function countedByClass(baseUrl: string): Promise<Record<string, number>> {
  const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
  const counts: Record<string, number> = {};
  const series = /^http_server_request_duration_count\{([^}]*)\} (\d+)$/gm;
  for (const match of metrics.matchAll(series)) {
    const status = match[1].match(/http_response_status_code="(\d)\d\d"/)?.[1] ?? "?";
    counts[status] = (counts[status] ?? 0) + Number(match[2]);
  }
  return counts;
}

Deno.test("e2e: a Host header cannot change the routed path; a bad one is a 400 problem", async () => {
  await using server = await startServer();
  const forged = await exchange(
    server.port,
    "GET /healthz HTTP/1.1\r\nHost: x/metrics?\r\nConnection: close\r\n\r\n",
  );
  assert.equal(forged.status, 400, forged.raw);
  assert.equal(forged.problem?.type, "/problems/invalid-parameter");
  assert.match(String(forged.problem?.detail), /Host header/);
  assert.equal(forged.problem?.instance, "/healthz", "The problem names the real target");
  assert.doesNotMatch(forged.raw, /# HELP/, "The metrics page was not served");

  for (const host of ["a b", "x#y", "user@x", "x/../metrics", "x:80/metrics"]) {
    const refused = await exchange(
      server.port,
      `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(refused.status, 400, host);
  }
  for (const host of ["localhost", "127.0.0.1:8000", "[::1]:8000", "reports.example.com"]) {
    const fine = await exchange(
      server.port,
      `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(fine.status, 200, host);
  }

  // Access lines are written in batches (up to 10 ms later): wait for all ten.
  const lines = await pollUntil("the ten access lines", () => {
    const written = accessLines(server.logs);
    return written.length >= 10 ? written : undefined;
  });
  assert.ok(
    lines.every((line) => line.route !== "/metrics"),
    "No access line claims /metrics was served",
  );
  assert.ok(lines.some((line) => line.status === 400 && line.route === null));
});

Deno.test("e2e: bodies that end early are 400 problems naming the cause, not 5xx", async () => {
  await using server = await startServer();
  const head = "POST /v1/reports HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/csv\r\n";

  const short = await exchange(
    server.port,
    `${head}Content-Length: 1000\r\n\r\ntimestamp,value\n2020-01-01,1\n`,
  );
  assert.equal(short.status, 400, short.raw);
  assert.equal(short.problem?.type, "/problems/malformed-body");
  assert.match(String(short.problem?.detail), /Content-Length/);
  assert.match(String(short.problem?.detail), /1000/);

  const chunked = await exchange(
    server.port,
    `${head}Transfer-Encoding: chunked\r\n\r\n10\r\ntimestamp,value\n\r\n`,
  );
  assert.equal(chunked.status, 400, chunked.raw);
  assert.equal(chunked.problem?.type, "/problems/malformed-body");
  assert.match(String(chunked.problem?.detail), /chunk/);

  const expecting = await exchange(
    server.port,
    `${head}Content-Length: 500\r\nExpect: 100-continue\r\n\r\n`,
  );
  assert.equal(expecting.status, 400, expecting.raw);
  assert.match(String(expecting.problem?.detail), /100-continue/);

  // JSON bodies are peeked before they stream (import requests): same answer.
  const json = await exchange(
    server.port,
    "POST /v1/reports HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
      'Content-Length: 400\r\n\r\n{"columns":',
  );
  assert.equal(json.status, 400, json.raw);
  assert.equal(json.problem?.type, "/problems/malformed-body");

  const counted = await countedByClass(server.baseUrl);
  assert.ok((counted["4"] ?? 0) >= 4, JSON.stringify(counted));
  assert.equal(counted["5"] ?? 0, 0, "Client mistakes are not counted as server errors");
  const lines = accessLines(server.logs);
  assert.ok(lines.every((line) => Number(line.status) < 500), JSON.stringify(lines));
  // Nothing half-received was kept as a report.
  const list = await (await fetch(`${server.baseUrl}/v1/reports`)).json();
  assert.equal(list.items.length, 0);
});
