/**
 * A real HTTP server on a loopback port standing in for a market-data
 * provider. Each test scripts its answers in order; the server counts what it
 * was asked. Nothing here reaches the internet.
 *
 * @module
 */

/** One scripted answer. */
export type MockAnswer = (request: Request) => Response | Promise<Response>;

/** A running mock upstream. */
export interface MockUpstream extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** Every request received, in order. */
  requests: URL[];
  /** Queues answers, used one per request; when none is left, answers 500. */
  script(...answers: MockAnswer[]): void;
}

/** Starts a mock upstream on a free loopback port. */
export function startMockUpstream(): MockUpstream {
  const answers: MockAnswer[] = [];
  const requests: URL[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    requests.push(new URL(request.url));
    const answer = answers.shift();
    return answer === undefined
      ? new Response("Unscripted request", { status: 500 })
      : answer(request);
  });
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    requests,
    script(...more) {
      answers.push(...more);
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** Answers a CSV body with `text/csv`. */
export function csvAnswer(body: string, init: ResponseInit = {}): MockAnswer {
  return () =>
    new Response(body, { ...init, headers: { "content-type": "text/csv", ...init.headers } });
}

/** Answers `status` with optional headers. */
export function statusAnswer(status: number, headers: Record<string, string> = {}): MockAnswer {
  return () => new Response(`Status ${status}`, { status, headers });
}

/** Answers only after `signal` fires (or never): longer than any timeout. */
export function hangAnswer(signal: AbortSignal): MockAnswer {
  return () =>
    new Promise<Response>((resolve) => {
      signal.addEventListener("abort", () => resolve(new Response("late")), { once: true });
    });
}

/**
 * A TCP listener that accepts connections and closes them at once, without a
 * byte of HTTP: the client sees a reset or an empty reply.
 */
export function startResettingServer():
  & { origin: string; accepted: () => number }
  & AsyncDisposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let accepted = 0;
  const loop = (async () => {
    for await (const connection of listener) {
      accepted++;
      connection.close();
    }
  })();
  return {
    origin: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    accepted: () => accepted,
    async [Symbol.asyncDispose]() {
      listener.close();
      await loop.catch(() => {});
    },
  };
}
