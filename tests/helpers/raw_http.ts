/**
 * Raw TCP clients for tests that must misbehave below what `fetch` allows:
 * a request head sent a byte at a time, a body that trickles, garbage bytes.
 *
 * @module
 */

/** A raw connection with a few conveniences. */
export interface RawClient extends AsyncDisposable {
  /** The socket. */
  conn: Deno.TcpConn;
  /** Writes text; false when the server has closed the connection meanwhile. */
  send(text: string | Uint8Array): Promise<boolean>;
  /**
   * Reads until the server closes the connection (or `limit` bytes arrive)
   * and returns everything it sent.
   */
  readToEnd(limit?: number): Promise<string>;
  /** Reads until `marker` appears and returns what was read so far. */
  readUntil(marker: string): Promise<string>;
}

/** Opens a raw connection to `port` on 127.0.0.1. */
export async function rawClient(port: number): Promise<RawClient> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const decoder = new TextDecoder();
  let received = "";
  let closed = false;

  async function readMore(): Promise<boolean> {
    const buffer = new Uint8Array(16 * 1024);
    try {
      const n = await conn.read(buffer);
      if (n === null) return false;
      received += decoder.decode(buffer.subarray(0, n), { stream: true });
      return true;
    } catch {
      // Reset by the server: for these tests, the same as a close.
      return false;
    }
  }

  return {
    conn,
    async send(text) {
      try {
        const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
        let written = 0;
        while (written < bytes.length) written += await conn.write(bytes.subarray(written));
        return true;
      } catch {
        return false;
      }
    },
    async readToEnd(limit = Infinity) {
      while (received.length < limit && await readMore());
      return received;
    },
    async readUntil(marker) {
      while (!received.includes(marker)) {
        if (!await readMore()) break;
      }
      return received;
    },
    [Symbol.asyncDispose]() {
      if (!closed) {
        closed = true;
        try {
          conn.close();
        } catch {
          // Already closed.
        }
      }
      return Promise.resolve();
    },
  };
}

/**
 * Sends `text` a byte at a time, `delayMs` apart, until it is all sent or the
 * server closes the connection. Returns how many bytes went out.
 */
export async function trickle(client: RawClient, text: string, delayMs: number): Promise<number> {
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i++) {
    if (!await client.send(bytes.subarray(i, i + 1))) return i;
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
  return bytes.length;
}

/** The HTTP/2 connection preface a client with prior knowledge sends first (RFC 9113, 3.4). */
export const HTTP2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/**
 * One HTTP/2 frame (RFC 9113, 4.1): a 9-byte header (24-bit length, type,
 * flags, 31-bit stream id) and the payload.
 *
 * @example A SETTINGS frame with no settings
 * ```ts
 * import assert from "node:assert/strict";
 * import { http2Frame } from "./raw_http.ts";
 * assert.deepEqual([...http2Frame(4, 0, 0, new Uint8Array())], [0, 0, 0, 4, 0, 0, 0, 0, 0]);
 * ```
 */
export function http2Frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Uint8Array,
): Uint8Array {
  const frame = new Uint8Array(9 + payload.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, payload.length << 8);
  frame[3] = type;
  frame[4] = flags;
  view.setUint32(5, streamId & 0x7fffffff);
  frame.set(payload, 9);
  return frame;
}

/**
 * Opens an HTTP/2 (prior knowledge) request whose header block never ends:
 * preface, SETTINGS, a HEADERS frame without END_HEADERS, then a
 * CONTINUATION frame (again without END_HEADERS) every `delayMs`, `count`
 * times or until the server closes. Returns how many CONTINUATION frames
 * went out.
 */
export async function trickleHttp2Headers(
  client: RawClient,
  delayMs: number,
  count: number,
): Promise<number> {
  const SETTINGS = 4, HEADERS = 1, CONTINUATION = 9;
  // HPACK: ":method GET" (static index 2), then literal headers "x-a: b"
  // without indexing, one per CONTINUATION frame.
  const literal = new Uint8Array([0x00, 0x03, 0x78, 0x2d, 0x61, 0x01, 0x62]);
  await client.send(HTTP2_PREFACE);
  await client.send(http2Frame(SETTINGS, 0, 0, new Uint8Array()));
  if (!await client.send(http2Frame(HEADERS, 0, 1, new Uint8Array([0x82])))) return 0;
  for (let i = 0; i < count; i++) {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (!await client.send(http2Frame(CONTINUATION, 0, 1, literal))) return i;
  }
  return count;
}
