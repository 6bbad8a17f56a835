/**
 * A connection guard in front of `Deno.serve`: request-head and idle
 * timeouts, which Deno's HTTP server does not have.
 *
 * `Deno.serve` (hyper underneath) waits for a request head for as long as the
 * client likes: a client that sends a header line every few seconds, or opens
 * a connection and sends nothing, holds a socket and its buffers forever. A
 * few thousand of those (a slow-loris attack) exhaust file descriptors and
 * every other client is refused. `Deno.serve` offers no option against that,
 * and the handler only runs once the head is complete, so middleware cannot
 * see it either.
 *
 * So the public socket is ours: each accepted connection is spliced, byte for
 * byte, to the real server listening on an ephemeral loopback port, and the
 * guard watches the client's bytes for the end of each request head
 * (`\r\n\r\n`). A head must be complete `headersTimeoutMs` after it started
 * (for a new connection: after it was accepted), and a connection with no
 * bytes in either direction for `idleTimeoutMs` is closed. Neither holds a
 * worker: the guard is a few promises per connection on the main thread, and
 * nothing reaches the job pool before a whole upload is stored.
 *
 * The guard does not parse HTTP beyond that. A request's head ends at the
 * first blank line after the server last answered; the server answering
 * (other than an interim `100 Continue`) makes the next client bytes a new
 * head. HTTP/2 with prior knowledge switches the connection to a plain splice
 * with the idle timeout only. Bodies are the application's business: the
 * upload path has its own deadline (services/uploads.ts).
 *
 * The real server sees every connection come from 127.0.0.1; the guard keeps
 * a map from its loopback port to the client's address and hands the handler
 * the client's, so logs and rate limits see the real peer.
 *
 * @module
 */
import { getLogger } from "./telemetry/logger.ts";

/** Options for {@linkcode serveGuarded}. */
export interface GuardedServeOptions {
  /** Interface to listen on. */
  hostname: string;
  /** Port (0 picks a free one). */
  port: number;
  /** Longest time to receive a request head, in ms; 0 serves without a guard. */
  headersTimeoutMs: number;
  /** A connection silent both ways this long is closed, in ms. */
  idleTimeoutMs: number;
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
}

const log = getLogger(["reportd", "http", "guard"]);

const BUFFER_BYTES = 32 * 1024;
const HEAD_END = [13, 10, 13, 10];
// The start of HTTP/2's connection preface ("PRI * HTTP/2.0..."); no HTTP/1
// method is called PRI.
const HTTP2_PREFIX = new TextEncoder().encode("PRI ");
// "HTTP/1.1 1": an interim response (100 Continue); "101" would be an
// upgrade, which reportd never answers.
const INTERIM_RESPONSE = new TextEncoder().encode("HTTP/1.1 1");

/**
 * Serves `handler` like `Deno.serve`, behind a connection guard when
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
    };
  }
  return new ConnectionGuard(options, handler);
}

interface Connection {
  client: Deno.TcpConn;
  upstream?: Deno.TcpConn;
  /** When the current head started (accept, or its first byte); undefined between heads. */
  headStarted: number | undefined;
  /** Bytes of `\r\n\r\n` matched so far, across reads. */
  matched: number;
  phase: "head" | "awaiting-response" | "splice";
  /** No client byte seen yet (the HTTP/2 preface can only come first). */
  fresh: boolean;
  lastActivity: number;
  closed: boolean;
}

class ConnectionGuard implements GuardedServer {
  readonly #options: GuardedServeOptions;
  readonly #listener: Deno.TcpListener;
  readonly #inner: Deno.HttpServer<Deno.NetAddr>;
  readonly #clients = new Map<number, Deno.NetAddr>();
  readonly #open = new Set<Connection>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #sweeper: ReturnType<typeof setInterval>;
  #stopping = false;

  constructor(options: GuardedServeOptions, handler: Deno.ServeHandler<Deno.NetAddr>) {
    this.#options = options;
    this.#inner = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: () => {},
    }, (request, info) =>
      handler(request, {
        remoteAddr: this.#clients.get(info.remoteAddr.port) ?? info.remoteAddr,
        completed: info.completed,
      }));
    this.#listener = Deno.listen({ hostname: options.hostname, port: options.port });
    // One sweep for all connections instead of a timer per connection that
    // every chunk would have to reset. A quarter of the shorter timeout keeps
    // the cut-off within 25% of the configured time.
    const period = Math.max(50, Math.min(options.headersTimeoutMs, options.idleTimeoutMs) / 4);
    this.#sweeper = setInterval(() => this.#sweep(), period);
    Deno.unrefTimer(Number(this.#sweeper));
    options.onListen?.(this.#listener.addr);
    this.#track(this.#accept());
  }

  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  get connections(): number {
    return this.#open.size;
  }

  async shutdown(): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = true;
      this.#listener.close();
    }
    // The real server finishes in-flight requests and closes its side of every
    // connection; each splice then ends and closes the client's side.
    await this.#inner.shutdown();
    for (const connection of this.#open) {
      if (connection.upstream === undefined) this.#close(connection, "shutdown");
    }
    await Promise.allSettled([...this.#tasks]);
    clearInterval(this.#sweeper);
  }

  async #accept(): Promise<void> {
    while (!this.#stopping) {
      let client: Deno.TcpConn;
      try {
        client = await this.#listener.accept();
      } catch (error) {
        if (this.#stopping) return;
        // A peer that reset its connection before it was accepted (a load
        // balancer's health check does this all the time) fails that one
        // accept, not the listener: giving up here left the port open and
        // unanswered, and HAProxy timed out every request (504) until restart.
        if (
          error instanceof Deno.errors.NotConnected ||
          error instanceof Deno.errors.ConnectionReset ||
          error instanceof Deno.errors.ConnectionAborted
        ) continue;
        log.error("The listener failed: {error}", { error: String(error) });
        return;
      }
      this.#track(this.#serve(client));
    }
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }

  async #serve(client: Deno.TcpConn): Promise<void> {
    const connection: Connection = {
      client,
      headStarted: performance.now(),
      matched: 0,
      phase: "head",
      fresh: true,
      lastActivity: performance.now(),
      closed: false,
    };
    this.#open.add(connection);
    let port: number | undefined;
    try {
      const upstream = await Deno.connect({ hostname: "127.0.0.1", port: this.#inner.addr.port });
      connection.upstream = upstream;
      // Swept while connecting: #close in finally closes the new socket too.
      if (connection.closed) return;
      port = upstream.localAddr.port;
      this.#clients.set(port, client.remoteAddr);
      client.setNoDelay(true);
      upstream.setNoDelay(true);
      await Promise.all([
        this.#pump(connection, client, upstream, "client"),
        this.#pump(connection, upstream, client, "server"),
      ]);
    } catch (error) {
      log.debug("Connection from {address} failed: {error}", {
        address: client.remoteAddr.hostname,
        error: String(error),
      });
    } finally {
      this.#close(connection, "done");
      if (port !== undefined && this.#clients.get(port) === client.remoteAddr) {
        this.#clients.delete(port);
      }
      this.#open.delete(connection);
    }
  }

  // Copies one direction until EOF; the client's bytes are watched for the
  // end of each request head, the server's for the start of an answer.
  async #pump(
    connection: Connection,
    from: Deno.TcpConn,
    to: Deno.TcpConn,
    side: "client" | "server",
  ): Promise<void> {
    const buffer = new Uint8Array(BUFFER_BYTES);
    try {
      while (!connection.closed) {
        const read = await from.read(buffer);
        if (read === null) break;
        const chunk = buffer.subarray(0, read);
        connection.lastActivity = performance.now();
        if (side === "client") this.#watchClient(connection, chunk);
        else this.#watchServer(connection, chunk);
        await writeAll(to, chunk);
      }
      // Half-close: a client done sending still gets its answer.
      if (!connection.closed) await to.closeWrite().catch(() => {});
    } catch {
      this.#close(connection, "error");
    }
    if (side === "server") this.#close(connection, "done");
  }

  #watchClient(connection: Connection, chunk: Uint8Array): void {
    if (connection.phase === "splice") return;
    if (connection.phase === "awaiting-response") {
      // Body bytes, or the next pipelined request: the server's answer
      // decides (#watchServer).
      return;
    }
    connection.headStarted ??= performance.now();
    if (connection.fresh) {
      connection.fresh = false;
      if (startsWith(chunk, HTTP2_PREFIX)) {
        // HTTP/2 with prior knowledge: frames, not heads; only idleness counts.
        connection.phase = "splice";
        connection.headStarted = undefined;
        return;
      }
    }
    for (const byte of chunk) {
      connection.matched = byte === HEAD_END[connection.matched]
        ? connection.matched + 1
        : byte === 13
        ? 1
        : 0;
      if (connection.matched === 4) {
        connection.phase = "awaiting-response";
        connection.headStarted = undefined;
        connection.matched = 0;
        return;
      }
    }
  }

  #watchServer(connection: Connection, chunk: Uint8Array): void {
    if (connection.phase !== "awaiting-response") return;
    if (startsWith(chunk, INTERIM_RESPONSE)) return;
    connection.phase = "head";
    connection.matched = 0;
  }

  #sweep(): void {
    const now = performance.now();
    for (const connection of this.#open) {
      if (
        connection.headStarted !== undefined &&
        now - connection.headStarted > this.#options.headersTimeoutMs
      ) {
        this.#close(connection, "headers timeout");
      } else if (now - connection.lastActivity > this.#options.idleTimeoutMs) {
        this.#close(connection, "idle timeout");
      }
    }
  }

  // Closing twice is harmless (and needed: the upstream socket may appear
  // after the connection was swept), but only the first reason is logged.
  #close(connection: Connection, reason: string): void {
    const first = !connection.closed;
    connection.closed = true;
    if (first && reason.endsWith("timeout")) {
      log.debug("Closed a connection from {address}: {reason}", {
        address: connection.client.remoteAddr.hostname,
        reason,
      });
    }
    for (const conn of [connection.client, connection.upstream]) {
      try {
        conn?.close();
      } catch {
        // Already closed by the other side or the other pump.
      }
    }
  }
}

async function writeAll(conn: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}
