/**
 * A real OTLP/HTTP receiver on a loopback port: it records every request a
 * collector would get, so tests can check what reportd exports without a
 * collector installed.
 *
 * @module
 */

/** One request the receiver got. */
export interface ReceivedExport {
  /** `/v1/traces` or `/v1/metrics`. */
  path: string;
  /** The Content-Type header. */
  contentType: string;
  /** All request headers. */
  headers: Headers;
  /** The raw body. */
  body: Uint8Array;
}

/** A span as OTLP/JSON encodes it (only the fields tests look at). */
export interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
  links?: { traceId: string; spanId: string }[];
  status?: { code?: number };
}

/** The running receiver; disposing it stops the server. */
export interface OtlpReceiver extends AsyncDisposable {
  /** Base URL to configure as the OTLP endpoint. */
  readonly endpoint: string;
  /** Every request so far. */
  readonly received: ReceivedExport[];
  /** Spans from every JSON-encoded trace export so far. */
  spans(): JsonSpan[];
  /** Names of the metrics in every JSON-encoded metrics export so far. */
  metricNames(): Set<string>;
  /** Resolves once `condition` holds, re-checked on each arriving request. */
  until(condition: () => boolean, timeoutMs?: number): Promise<void>;
}

/** Options for {@linkcode startOtlpReceiver}. */
export interface OtlpReceiverOptions {
  /** Status to answer with (default 200); 503 simulates a struggling collector. */
  status?: () => number;
}

/**
 * Starts the receiver on 127.0.0.1 and a free port.
 *
 * @example
 * ```ts ignore
 * await using receiver = startOtlpReceiver();
 * // ... configure reportd with receiver.endpoint, make requests, flush ...
 * await receiver.until(() => receiver.spans().length > 0);
 * ```
 */
export function startOtlpReceiver(options: OtlpReceiverOptions = {}): OtlpReceiver {
  const received: ReceivedExport[] = [];
  const waiters = new Set<() => void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    received.push({
      path: new URL(request.url).pathname,
      contentType: request.headers.get("content-type") ?? "",
      headers: request.headers,
      body: new Uint8Array(await request.arrayBuffer()),
    });
    for (const waiter of waiters) waiter();
    const status = options.status?.() ?? 200;
    return new Response(status === 200 ? "{}" : null, {
      status,
      headers: { "content-type": "application/json" },
    });
  });

  function jsonBodies(path: string): Record<string, unknown>[] {
    return received
      .filter((item) => item.path === path && item.contentType.startsWith("application/json"))
      .map((item) => JSON.parse(new TextDecoder().decode(item.body)));
  }

  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    received,
    spans(): JsonSpan[] {
      // deno-lint-ignore no-explicit-any
      return jsonBodies("/v1/traces").flatMap((body: any) =>
        // deno-lint-ignore no-explicit-any
        body.resourceSpans.flatMap((resource: any) =>
          // deno-lint-ignore no-explicit-any
          resource.scopeSpans.flatMap((scope: any) => scope.spans)
        )
      );
    },
    metricNames(): Set<string> {
      // deno-lint-ignore no-explicit-any
      const names = jsonBodies("/v1/metrics").flatMap((body: any) =>
        // deno-lint-ignore no-explicit-any
        body.resourceMetrics.flatMap((resource: any) =>
          // deno-lint-ignore no-explicit-any
          resource.scopeMetrics.flatMap((scope: any) => scope.metrics.map((m: any) => m.name))
        )
      );
      return new Set(names);
    },
    until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
      if (condition()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`The OTLP receiver did not get what was expected in ${timeoutMs} ms`));
        }, timeoutMs);
        function check(): void {
          if (!condition()) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        }
        waiters.add(check);
      });
    },
    async [Symbol.asyncDispose](): Promise<void> {
      await server.shutdown();
    },
  };
}

/** The value of attribute `key` on `span`, unwrapped from OTLP/JSON's typed value. */
export function spanAttribute(span: JsonSpan, key: string): unknown {
  const value = span.attributes.find((attribute) => attribute.key === key)?.value;
  if (value === undefined) return undefined;
  const inner = Object.values(value)[0];
  // OTLP/JSON encodes 64-bit integers as strings.
  return "intValue" in value ? Number(inner) : inner;
}
