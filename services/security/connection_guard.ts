/**
 * A connection guard for `Deno.serve`: request-head and idle timeouts, which
 * Deno's HTTP server does not have, a cap on open connections, and an accept
 * loop that survives running out of file descriptors.
 *
 * `Deno.serve` (hyper underneath) waits for a request head for as long as the
 * client likes: a client that sends a header line every few seconds, or opens
 * a connection and sends nothing, holds a socket and its buffers forever. A
 * few thousand of those (a slow-loris attack) exhaust file descriptors, and
 * `Deno.serve`'s accept loop then dies with `Too many open files`.
 *
 * So the guard owns the listening socket and the accept loop, and hands each
 * accepted connection to hyper on its own (`serveHttpOnConnection`, the
 * per-connection twin of the listener entry point `Deno.serve` is built on;
 * decision 0020 says why it is used and what guards against it changing). The guard
 * never touches a byte: it learns that a request head is complete when the
 * handler is called (hyper calls it exactly then, for HTTP/1 and HTTP/2
 * alike), and that an exchange is over when the response has been sent
 * (`info.completed`). From that it keeps one deadline per connection:
 *
 * - accepted, no request yet: a complete head within `headersTimeoutMs`
 *   (and within `idleTimeoutMs`, when that is shorter);
 * - a request in flight: no deadline here; the handler has its own
 *   (`REPORTD_HANDLER_TIMEOUT`, and the upload's body deadline);
 * - nothing in flight after an answer: the next complete head within
 *   `idleTimeoutMs` (the keep-alive idle time).
 *
 * A connection past its deadline is closed at once (hyper's connection is
 * cancelled, not drained). One sweep a quarter of the shorter timeout apart
 * checks every connection, so a request costs two assignments and one
 * `then`, not a timer.
 *
 * One descriptor per connection: the client's socket, which hyper reads
 * directly. A connection beyond `maxConnections` is closed as soon as it is
 * accepted and counted (`refused`), and an accept that fails for lack of
 * descriptors (`EMFILE`, `ENFILE`) waits and retries, doubling the wait up to
 * a second, instead of ending the loop.
 *
 * @module
 */
import { getLogger } from "../telemetry/logger.ts";

/** Options for {@linkcode serveGuarded}. */
export interface GuardedServeOptions {
  /** Interface to listen on. */
  hostname: string;
  /** Port (0 picks a free one). */
  port: number;
  /** Longest time to receive a request head, in ms; 0 serves with plain `Deno.serve`. */
  headersTimeoutMs: number;
  /** A connection with nothing in flight this long is closed, in ms. */
  idleTimeoutMs: number;
  /**
   * Connections open at once; more are closed as soon as they are accepted
   * (default 1,024; `main.ts` derives it with {@linkcode defaultMaxConnections}).
   */
  maxConnections?: number;
  /** Called once listening, with the public address. */
  onListen?: (addr: Deno.NetAddr) => void;
}

/** What {@linkcode serveGuarded} returns: the part of `Deno.HttpServer` reportd uses. */
export interface GuardedServer {
  /** The public address. */
  readonly addr: Deno.NetAddr;
  /** Stops accepting, lets in-flight requests finish, then closes every connection. */
  shutdown(): Promise<void>;
  /** Connections open right now (for tests and metrics). */
  readonly connections: number;
  /** Connections closed at once because `maxConnections` were open, since the start. */
  readonly refused: number;
}

const log = getLogger(["reportd", "http", "guard"]);

/**
 * Descriptors kept free for everything that is not a client connection: the
 * database and its WAL, worker threads, log output, outgoing fetches to
 * providers and the collector.
 */
export const RESERVED_DESCRIPTORS = 128;

/**
 * The most descriptors {@linkcode freeDescriptors} counts, so the default cap
 * is at most 1,024 connections: counting costs 10 to 100 us per descriptor at
 * start (measured on the 2-core development machine), and a service that
 * expects more clients at once sets `REPORTD_MAX_CONNECTIONS` (and
 * `ulimit -n`) to match.
 */
export const MAX_COUNTED_DESCRIPTORS = 1024 + RESERVED_DESCRIPTORS;

/**
 * The default connection cap, from the descriptors this process can still
 * open: all but {@linkcode RESERVED_DESCRIPTORS} of them, and at least half.
 * Past that the server would fail to open its own files and sockets (a
 * provider fetch, the collector) before it failed to accept, which is the
 * wrong way round: a refused connection costs a client a retry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultMaxConnections } from "./connection_guard.ts";
 * assert.equal(defaultMaxConnections(1152), 1024);
 * assert.equal(defaultMaxConnections(200), 100);
 * ```
 */
export function defaultMaxConnections(free: number): number {
  return Math.max(Math.floor(free / 2), free - RESERVED_DESCRIPTORS);
}

/**
 * How many more descriptors this process can open, up to `limit`: it opens
 * the directory `dir` again and again until the open-file limit (`ulimit -n`)
 * refuses, then closes them all. Deno has no `getrlimit`, and reading
 * `/proc/self/limits` needs `--allow-all`; this needs read access to `dir`
 * only. (Never count with the database file itself: closing any descriptor
 * of a file drops the process's POSIX locks on it, SQLite's included.)
 * Returns `limit` when `dir` cannot be opened. Call it once, at start,
 * before the server accepts anything.
 */
export function freeDescriptors(dir: string, limit: number = MAX_COUNTED_DESCRIPTORS): number {
  const files: Deno.FsFile[] = [];
  try {
    while (files.length < limit) files.push(Deno.openSync(dir));
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== "EMFILE" && code !== "ENFILE") return limit;
  } finally {
    for (const file of files) file.close();
  }
  return files.length;
}

/**
 * Serves `handler` like `Deno.serve`, behind the connection guard when
 * `headersTimeoutMs` is above 0.
 *
 * @example
 * ```ts ignore
 * const server = serveGuarded(
 *   { hostname: "127.0.0.1", port: 0, headersTimeoutMs: 10_000, idleTimeoutMs: 60_000 },
 *   () => new Response("ok"),
 * );
 * await server.shutdown();
 * ```
 */
export function serveGuarded(
  options: GuardedServeOptions,
  handler: Deno.ServeHandler<Deno.NetAddr>,
): GuardedServer {
  if (options.headersTimeoutMs <= 0) {
    const server = Deno.serve({
      hostname: options.hostname,
      port: options.port,
      // Without a callback Deno prints its own "Listening on" line.
      onListen: options.onListen ?? (() => {}),
    }, handler);
    return {
      addr: server.addr,
      shutdown: () => server.shutdown(),
      connections: 0,
      refused: 0,
    };
  }
  return new ConnectionGuard(options, handler);
}

/** The per-connection server `serveHttpOnConnection` returns. */
interface ConnectionServer {
  finished: Promise<void>;
  shutdown(): Promise<void>;
}

type ServeOnConnection = (
  connection: Deno.TcpConn,
  signal: AbortSignal,
  handler: Deno.ServeHandler<Deno.NetAddr>,
  onError: (error: unknown) => Response,
  onListen: () => void,
) => ConnectionServer;

/**
 * Deno's per-connection HTTP entry point, or an error saying what to do
 * without it. It is internal (`Deno[Deno.internal]`), so it is looked up
 * once and checked, and the guard's tests fail on a Deno that changed it.
 */
function serveOnConnection(): ServeOnConnection {
  const deno = Deno as unknown as Record<symbol, Record<string, unknown> | undefined>;
  const internal = deno[(Deno as unknown as { internal: symbol }).internal];
  const serve = internal?.serveHttpOnConnection;
  if (typeof serve !== "function") {
    throw new Error(
      `Deno ${Deno.version.deno} has no per-connection HTTP server, which the connection ` +
        "guard needs; set REPORTD_HEADERS_TIMEOUT=0 to serve without head timeouts (behind a " +
        "proxy that has them), or run the Deno version in the Dockerfile",
    );
  }
  return serve as ServeOnConnection;
}

interface Connection {
  readonly controller: AbortController;
  server?: ConnectionServer;
  /** Requests whose response has not been sent yet (HTTP/2 may have several). */
  inFlight: number;
  /** When the connection is closed unless a request head completes (Infinity: in flight). */
  deadline: number;
  /** A request was answered (the deadline is the idle one, not the first head's). */
  answered: boolean;
}

// Longest wait between accepts while descriptors are exhausted.
const MAX_ACCEPT_BACKOFF_MS = 1000;

class ConnectionGuard implements GuardedServer {
  readonly #options: GuardedServeOptions;
  readonly #handler: Deno.ServeHandler<Deno.NetAddr>;
  readonly #serveOn: ServeOnConnection;
  readonly #listener: Deno.TcpListener;
  readonly #maxConnections: number;
  readonly #open = new Set<Connection>();
  readonly #sweeper: ReturnType<typeof setInterval>;
  readonly #accepting: Promise<void>;
  #refused = 0;
  #stopping = false;

  constructor(options: GuardedServeOptions, handler: Deno.ServeHandler<Deno.NetAddr>) {
    this.#options = options;
    this.#handler = handler;
    this.#serveOn = serveOnConnection();
    this.#maxConnections = options.maxConnections ?? MAX_COUNTED_DESCRIPTORS - RESERVED_DESCRIPTORS;
    this.#listener = Deno.listen({ hostname: options.hostname, port: options.port });
    // One sweep for all connections instead of a timer per connection that
    // every request would have to reset. A quarter of the shorter timeout
    // keeps the cut-off within 25% of the configured time.
    const period = Math.max(50, Math.min(options.headersTimeoutMs, options.idleTimeoutMs) / 4);
    this.#sweeper = setInterval(() => this.#sweep(), period);
    Deno.unrefTimer(Number(this.#sweeper));
    options.onListen?.(this.#listener.addr);
    this.#accepting = this.#accept();
  }

  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  get connections(): number {
    return this.#open.size;
  }

  get refused(): number {
    return this.#refused;
  }

  async shutdown(): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = true;
      this.#listener.close();
    }
    await this.#accepting;
    // Each connection's server finishes its in-flight requests, then closes;
    // an idle one closes at once. The sweep keeps running meanwhile, so a
    // client that never completes its head cannot hold the shutdown.
    await Promise.allSettled([...this.#open].map((connection) => this.#drain(connection)));
    clearInterval(this.#sweeper);
  }

  async #drain(connection: Connection): Promise<void> {
    await connection.server?.shutdown().catch(() => {});
    await connection.server?.finished.catch(() => {});
  }

  async #accept(): Promise<void> {
    let backoffMs = 0;
    while (!this.#stopping) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
        backoffMs = 0;
      } catch (error) {
        if (this.#stopping) return;
        // A peer that reset its connection before it was accepted (a load
        // balancer's health check does this all the time) fails that one
        // accept, not the listener: take the next one at once.
        if (
          error instanceof Deno.errors.NotConnected ||
          error instanceof Deno.errors.ConnectionReset ||
          error instanceof Deno.errors.ConnectionAborted
        ) continue;
        backoffMs = Math.min(MAX_ACCEPT_BACKOFF_MS, Math.max(10, backoffMs * 2));
        // Out of descriptors (the kernel keeps the connection queued until an
        // accept succeeds): back off, never give up the listener.
        if (backoffMs === 10 || backoffMs === MAX_ACCEPT_BACKOFF_MS) {
          log.warn("Accepting a connection failed ({error}); retrying in {ms} ms", {
            error: (error as { code?: string }).code ?? String(error),
            ms: backoffMs,
          });
        }
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        continue;
      }
      if (this.#open.size >= this.#maxConnections) {
        this.#refused++;
        closeQuietly(conn);
        continue;
      }
      this.#serve(conn);
    }
  }

  #serve(conn: Deno.TcpConn): void {
    const { headersTimeoutMs, idleTimeoutMs } = this.#options;
    const connection: Connection = {
      controller: new AbortController(),
      inFlight: 0,
      deadline: performance.now() + Math.min(headersTimeoutMs, idleTimeoutMs),
      answered: false,
    };
    const onSent = () => {
      connection.answered = true;
      if (--connection.inFlight === 0) connection.deadline = performance.now() + idleTimeoutMs;
    };
    const handler = this.#handler;
    this.#open.add(connection);
    try {
      conn.setNoDelay(true);
      connection.server = this.#serveOn(
        conn,
        connection.controller.signal,
        (request, info) => {
          connection.inFlight++;
          connection.deadline = Infinity;
          info.completed.then(onSent, onSent);
          return handler(request, info);
        },
        onHandlerError,
        () => {},
      );
    } catch (error) {
      // The socket was reset between accept and here.
      log.debug("Cannot serve a connection: {error}", { error: String(error) });
      this.#open.delete(connection);
      closeQuietly(conn);
      return;
    }
    const closed = () => {
      this.#open.delete(connection);
    };
    // A client that resets mid-response rejects `finished`; that is the
    // client's business, not an error of ours.
    connection.server.finished.then(closed, closed);
  }

  #sweep(): void {
    const now = performance.now();
    for (const connection of this.#open) {
      if (now > connection.deadline) {
        connection.deadline = Infinity;
        log.debug("Closed a connection: {reason}", {
          reason: connection.answered ? "idle" : "no request head in time",
        });
        connection.controller.abort();
      }
    }
  }
}

function onHandlerError(error: unknown): Response {
  log.error("A handler failed outside the app's error handling: {error}", {
    error: String(error),
  });
  return new Response("Internal Server Error", { status: 500 });
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Reset by the client already.
  }
}
