/**
 * Whether anyone committed to a SQLite database since a moment, told without
 * a query: the transaction counter in the header of its WAL index.
 *
 * Why: the fast lane asks on every read whether any API key exists (open
 * mode) or what the presented key's record is, and on SQLite that was a
 * query per request, a read transaction with its file locks. A record cannot
 * be kept across requests by a timer alone: `keys revoke` is another process
 * (the CLI), and a revocation must hold from the next request after it
 * returns. (db/sqlite/keys.ts reads this counter at most once a
 * millisecond and makes every change to keys wait out that millisecond
 * before it returns, which keeps the same guarantee.) SQLite's own answer to
 * "did another connection commit?" is `PRAGMA data_version`, which is itself
 * a read transaction (5.5 us a call against 7.1 us for the query, in a loop
 * on the project's machine).
 *
 * In WAL mode every connection to a file shares its WAL index (`<db>-shm`),
 * whose header begins with a counter that every commit increments
 * ("iChange", https://www.sqlite.org/walformat.html). Reading that header is
 * one `pread` (2.6 us in the same loop): when the counter is what it was,
 * nobody committed, whichever process or connection, so an answer read
 * since is still the answer. The header is written twice in a row by the
 * committing connection; a read that finds the two copies different caught
 * a commit half-way and is treated as "cannot tell".
 *
 * This reads a file SQLite documents but does not promise to keep; the
 * layout has been the same since WAL came (3.7.0, 2010). Anything unexpected
 * (no `-shm` file, a short read, copies that differ, the header not
 * initialized) answers undefined, and the caller then queries as before.
 *
 * @module
 */
import { closeSync, openSync, readSync } from "node:fs";

/** The WAL-index header: two copies of 48 bytes. */
const HEADER_BYTES = 48;
/** Offset of the transaction counter (u32, native byte order) in a copy. */
const ICHANGE_OFFSET = 8;
/** Offset of the "initialized" flag in a copy. */
const IS_INIT_OFFSET = 12;

/**
 * Reads the commit counter of the SQLite database at `path` (in WAL mode).
 *
 * @example
 * ```ts ignore
 * const counter = new CommitCounter("data/reportd.db");
 * const before = counter.read(); // a number, or undefined: cannot tell
 * // ... another process commits ...
 * counter.read() !== before; // true
 * ```
 */
export class CommitCounter {
  readonly #path: string;
  readonly #header = new Uint8Array(2 * HEADER_BYTES);
  readonly #view = new DataView(this.#header.buffer);
  #fd: number | undefined;
  #closed = false;

  /** A counter for the database file at `path` (its `-shm` is opened on the first read). */
  constructor(path: string) {
    this.#path = `${path}-shm`;
  }

  /**
   * The counter, or undefined when it cannot be read consistently right now
   * (then nothing may be assumed about commits).
   */
  read(): number | undefined {
    if (this.#closed) return undefined;
    try {
      this.#fd ??= openSync(this.#path, "r");
      // One pread: node:fs's positional read (Deno's seek then read is two calls).
      if (readSync(this.#fd, this.#header, 0, this.#header.length, 0) !== this.#header.length) {
        return undefined;
      }
    } catch {
      return undefined;
    }
    const header = this.#header;
    for (let i = 0; i < HEADER_BYTES; i++) {
      if (header[i] !== header[HEADER_BYTES + i]) return undefined;
    }
    if (header[IS_INIT_OFFSET] !== 1) return undefined;
    // Native byte order, as SQLite writes it; only equality matters here.
    return this.#view.getUint32(ICHANGE_OFFSET, true);
  }

  /** Closes the file; every later read answers undefined. */
  close(): void {
    this.#closed = true;
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
