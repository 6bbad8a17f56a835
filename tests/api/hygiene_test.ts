import assert from "node:assert/strict";
import { OpenAPIHono } from "@hono/zod-openapi";
import { handleError } from "../../routes/middleware/problem.ts";
import { type AppEnv, requestId } from "../../routes/middleware/request_id.ts";
import { handlerTimeout } from "../../routes/middleware/timeout.ts";
import { assertProblem } from "../helpers/assert_problem.ts";
import { postReport, SAMPLE_CSV, testApp } from "../helpers/test_app.ts";

Deno.test("CORS is off by default", async () => {
  await using world = await testApp();
  const res = await world.app.request("/v1/reports", {
    headers: { origin: "https://app.example.com" },
  });
  assert.equal(res.headers.get("access-control-allow-origin"), null);
  await res.body?.cancel();
});

Deno.test("CORS allows exactly the listed origins, preflights included", async () => {
  await using world = await testApp({
    security: () => ({ corsOrigins: ["https://app.example.com"] }),
  });
  const preflight = await world.app.request("/v1/reports", {
    method: "OPTIONS",
    headers: {
      origin: "https://app.example.com",
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization, content-type",
    },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-origin"), "https://app.example.com");
  assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /Authorization/);
  assert.match(preflight.headers.get("access-control-allow-methods") ?? "", /POST/);

  const allowed = await world.app.request("/v1/reports", {
    headers: { origin: "https://app.example.com" },
  });
  assert.equal(allowed.headers.get("access-control-allow-origin"), "https://app.example.com");
  assert.match(allowed.headers.get("access-control-expose-headers") ?? "", /RateLimit-Remaining/);
  assert.match(allowed.headers.get("vary") ?? "", /Origin/);
  await allowed.body?.cancel();

  for (const origin of ["https://evil.example", "https://app.example.com.evil.example", "null"]) {
    const refused = await world.app.request("/v1/reports", { headers: { origin } });
    assert.equal(refused.headers.get("access-control-allow-origin"), null, origin);
    await refused.body?.cancel();
  }
});

Deno.test("HSTS is sent only when asked for", async () => {
  {
    await using world = await testApp();
    const res = await world.app.request("/healthz");
    assert.equal(res.headers.get("strict-transport-security"), null);
    await res.body?.cancel();
  }
  {
    await using world = await testApp({ security: () => ({ hsts: true }) });
    const res = await world.app.request("/v2/nothing");
    assert.equal(
      res.headers.get("strict-transport-security"),
      "max-age=31536000; includeSubDomains",
    );
    await res.body?.cancel();
  }
});

Deno.test("Over-long paths and query strings are refused with 414", async () => {
  await using world = await testApp();
  const longPath = await world.app.request(`/v1/reports/${"a".repeat(2000)}`);
  const problem = await assertProblem(longPath, 414);
  assert.ok((problem.instance ?? "").length <= 1100, "The path is not echoed in full");
  await assertProblem(await world.app.request(`/v1/reports?name=${"x".repeat(3000)}`), 414);
  const fine = await world.app.request(`/v1/reports?cursor=${"x".repeat(100)}`);
  assert.equal(fine.status, 400, "A normal length reaches validation");
  await fine.body?.cancel();
});

Deno.test("Upload content types are checked strictly", async () => {
  await using world = await testApp();
  const accepted = [
    "text/csv",
    "text/csv; charset=utf-8",
    'text/csv; charset="UTF-8"; header=present',
    "application/json;charset=utf-8",
  ];
  for (const contentType of accepted) {
    const body = contentType.startsWith("text/csv")
      ? SAMPLE_CSV
      : '{"timestamps": [1], "columns": {"v": [1]}}';
    const res = await postReport(world, body, { contentType });
    assert.equal(res.status, 202, contentType);
    await res.body?.cancel();
  }
  const refused = [
    "text/csv; charset=latin1",
    "text/csv; charset=utf-8; charset=latin1",
    "text/csv; charset",
    "text/csv; boundary=x",
    "application/json; header=present",
    "text/csv, application/json",
    "text/plain",
    "",
  ];
  for (const contentType of refused) {
    await assertProblem(await postReport(world, SAMPLE_CSV, { contentType }), 415);
  }
});

Deno.test("A request body that arrives too slowly is cut off with 408", async () => {
  await using world = await testApp({
    security: () => ({ body: { timeoutMs: 200, minBytesPerSecond: 1_000_000 } }),
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const trickle = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode("timestamp,value\n"));
    },
    // A byte now and then, never enough to move the deadline.
    pull(controller) {
      return new Promise((resolve) => {
        timer = setTimeout(() => {
          controller.enqueue(new TextEncoder().encode("2"));
          resolve();
        }, 50);
      });
    },
    cancel() {
      clearTimeout(timer);
    },
  });
  const res = await postReport(world, trickle);
  assert.match((await assertProblem(res, 408)).detail ?? "", /did not arrive in time/);
  const after = await postReport(world, SAMPLE_CSV);
  assert.equal(after.status, 202, "The upload slot was freed");
  await after.body?.cancel();
});

Deno.test("A handler that runs too long is answered 503 with Retry-After; uploads are exempt", async () => {
  const app = new OpenAPIHono<AppEnv>();
  app.use(requestId());
  app.use(handlerTimeout(50));
  app.onError(handleError);
  const slow = Promise.withResolvers<void>();
  app.get("/slow", async (c) => {
    await slow.promise;
    return c.text("late");
  });
  app.post("/v1/reports", async (c) => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return c.text("stored", 202);
  });
  const res = await app.request("/slow");
  assert.equal(res.headers.get("retry-after"), "5");
  assert.match((await assertProblem(res, 503)).detail ?? "", /took longer than 0.1 s/);
  slow.resolve();
  const upload = await app.request("/v1/reports", { method: "POST" });
  assert.equal(upload.status, 202);
  await upload.body?.cancel();
});
