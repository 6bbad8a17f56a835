/**
 * The page's fetch wrapper (web/app/api.ts) against a real HTTP server on
 * loopback: what it sends, and how every kind of failure becomes a problem.
 */
import assert from "node:assert/strict";
import {
  ApiError,
  apiFetch,
  apiJson,
  storeApiKey,
  storedApiKey,
  UNAUTHORIZED_EVENT,
} from "../../web/app/api.ts";

/** A loopback server that answers with `handler` and remembers the request headers. */
function serve(handler: () => Response) {
  // Headers are copied: a request's own are gone once it has been answered.
  const requests: Headers[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    requests.push(new Headers(request.headers));
    return handler();
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

const PROBLEM = {
  type: "/problems/service-unavailable",
  title: "Service unavailable",
  status: 503,
  detail: "The queue is full",
  errors: [{ path: "query.name", message: "Too long" }],
};

Deno.test("apiFetch: sends JSON accept, and the stored key as a bearer token until forgotten", async () => {
  await using server = serve(() => Response.json({ ok: true }));
  try {
    assert.deepEqual(await apiJson(`${server.url}/v1/reports`), { ok: true });
    assert.equal(server.requests[0].get("accept"), "application/json");
    assert.equal(server.requests[0].get("authorization"), null);

    storeApiKey("wk_secret");
    assert.equal(storedApiKey(), "wk_secret");
    await apiFetch(`${server.url}/v1/reports`, { headers: { accept: "text/csv" } });
    assert.equal(server.requests[1].get("authorization"), "Bearer wk_secret");
    assert.equal(server.requests[1].get("accept"), "text/csv");
  } finally {
    storeApiKey("");
  }
  assert.equal(storedApiKey(), null);
});

Deno.test("apiFetch: a problem response becomes an ApiError with the problem and Retry-After", async () => {
  await using server = serve(() =>
    new Response(JSON.stringify(PROBLEM), {
      status: 503,
      headers: { "content-type": "application/problem+json", "retry-after": "4" },
    })
  );
  const error = await apiFetch(`${server.url}/v1/reports`).catch((caught) => caught);
  assert.ok(error instanceof ApiError);
  assert.deepEqual(error.problem, PROBLEM);
  assert.equal(error.retryAfterSeconds, 4);
  assert.equal(error.message, "Service unavailable: The queue is full");
});

Deno.test("apiFetch: a body that is no problem document still gives a readable problem", async () => {
  await using server = serve(() =>
    new Response("<html>upstream down</html>", { status: 502, statusText: "Bad Gateway" })
  );
  const error = await apiFetch(`${server.url}/`).catch((caught) => caught);
  assert.ok(error instanceof ApiError);
  assert.equal(error.problem.status, 502);
  assert.equal(error.problem.title, "Bad Gateway");
  assert.equal(error.retryAfterSeconds, undefined);
});

Deno.test("apiFetch: 401 announces that a key is needed", async () => {
  await using server = serve(() =>
    Response.json({ type: "/problems/unauthorized", title: "Unauthorized", status: 401 }, {
      status: 401,
    })
  );
  let announced = 0;
  const listener = () => announced++;
  globalThis.addEventListener(UNAUTHORIZED_EVENT, listener);
  try {
    await assert.rejects(apiFetch(`${server.url}/v1/reports`), ApiError);
  } finally {
    globalThis.removeEventListener(UNAUTHORIZED_EVENT, listener);
  }
  assert.equal(announced, 1);
});

Deno.test("apiFetch: 304 is not an error", async () => {
  await using server = serve(() => new Response(null, { status: 304 }));
  assert.equal((await apiFetch(`${server.url}/`)).status, 304);
});

Deno.test("apiFetch: an unreachable server is a network problem; an abort stays an abort", async () => {
  // A port that was just free: nothing listens there any more.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const error = await apiFetch(`http://127.0.0.1:${port}/`).catch((caught) => caught);
  assert.ok(error instanceof ApiError);
  assert.equal(error.problem.title, "Network error");
  assert.equal(error.problem.status, 0);

  await using server = serve(() => Response.json({}));
  const aborted = await apiFetch(`${server.url}/`, { signal: AbortSignal.abort() })
    .catch((caught) => caught);
  assert.ok(aborted instanceof DOMException);
  assert.equal(aborted.name, "AbortError");
});
