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
