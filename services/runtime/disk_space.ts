/**
 * A full disk must not take the service down: a reserve file, and a state
 * that says the disk is full.
 *
 * On a full disk SQLite cannot even delete (a delete appends to the WAL),
 * checkpoint or recover jobs at start, so freeing space through the API was
 * impossible and the restart failed (issue 12). reportd therefore keeps a
 * reserve file of `REPORTD_DISK_RESERVE` bytes beside the database, the way
 * databases and mail servers keep a few blocks back:
 *
 * - The first "disk is full" error releases the reserve and marks the disk
 *   full: uploads are refused at once with `507` and `Retry-After`,
 *   `/readyz` answers `503` saying why, while reads, deletes, jobs already
 *   stored, shutdown and restart work in the space the reserve gave back.
 * - After a delete (and every `retryMs`), space is given back to the
 *   filesystem (db/space.ts) and the reserve is written again; when it fits,
 *   the disk is no longer full and uploads are accepted again.
 * - At start the reserve is released first (a restart on a full disk needs
 *   room for its own writes) and written again once the service is up.
 *
 * @module
 */
import { isStorageFull } from "../../db/errors.ts";
import { type Database, StorageError } from "../../db/mod.ts";
import { reclaimSpace } from "../../db/space.ts";
import { AppError } from "../errors.ts";
import { getLogger } from "../telemetry/logger.ts";

const log = getLogger(["reportd", "disk"]);

/** Seconds a client is told to wait after a `507`. */
export const FULL_RETRY_AFTER_SECONDS = 60;

/**
 * How many bulk bytes SQLite may write between checkpoints when
 * `reserveBytes` are kept back: a quarter of the reserve, at least 256 KiB;
 * undefined without a reserve. The connection never checkpoints less often
 * than its usual 4 MiB (db/sqlite/connection.ts), so a large reserve changes
 * nothing.
 *
 * Why: when the disk fills, the WAL still holds what was written since the
 * last checkpoint, and a delete can neither append to the WAL nor let a
 * checkpoint copy those pages into the main file without room for them.
 * Only the released reserve gives that room, so the backlog (this much, plus
 * the chunk being written while the timed checkpoint waits) must fit in it.
 * With a 4 MiB reserve and the usual 4 MiB, a delete on a full disk failed
 * with 507 in about one run in six of tests/e2e/disk_full_test.ts (a 6.5 MB
 * WAL, no byte free). With the default 16 MiB reserve nothing changes.
 *
 * @example
 * ```ts
 * import { checkpointBytesFor } from "./disk_space.ts";
 * console.assert(checkpointBytesFor(4 << 20) === 1 << 20);
 * console.assert(checkpointBytesFor(0) === undefined);
 * ```
 */
export function checkpointBytesFor(reserveBytes: number): number | undefined {
  if (reserveBytes === 0) return undefined;
  return Math.max(256 * 1024, Math.floor(reserveBytes / 4));
}

/** Options for {@linkcode DiskSpace}. */
export interface DiskSpaceOptions {
  /** The reserve file's path (beside the database). */
  reservePath: string;
  /** Its size in bytes; 0 keeps no reserve (the state still works). */
  reserveBytes: number;
  /** How often to try writing the reserve again while full, in ms (default 30 s). */
  retryMs?: number;
}

/**
 * The disk's state and the reserve file.
 *
 * @example
 * ```ts ignore
 * const space = new DiskSpace({ reservePath: "data/reportd.db-reserve", reserveBytes: 16 << 20 });
 * await space.release();        // before start-up writes
 * // ... open the database, recover jobs ...
 * await space.restore(db);      // full() is a reason string when the reserve does not fit
 * ```
 */
export class DiskSpace {
  readonly #options: DiskSpaceOptions;
  #full: string | undefined;
  #db: Database | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #restoring: Promise<void> | undefined;

  /** Keeps `reserveBytes` in `reservePath`. */
  constructor(options: DiskSpaceOptions) {
    this.#options = options;
  }

  /** Why the disk counts as full, or undefined while it does not. */
  full(): string | undefined {
    return this.#full;
  }

  /** Deletes the reserve file, giving its space to whatever must write now. */
  async release(): Promise<void> {
    await Deno.remove(this.#options.reservePath).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }

  /**
   * Notes a storage error: when it says the disk is full, releases the
   * reserve and marks the disk full, and returns the `507` to answer with;
   * otherwise returns undefined.
   */
  async noteError(error: unknown): Promise<AppError | undefined> {
    if (!isStorageFull(error)) return undefined;
    if (this.#full === undefined) {
      this.#full = "The disk holding the database is full";
      log.error(
        "{reason}: uploads are refused (507) until space is freed; the reserve of {bytes} " +
          "bytes is released so reads, deletes and shutdown keep working",
        { reason: this.#full, bytes: this.#options.reserveBytes },
      );
      await this.release().catch(() => {});
      this.#scheduleRetry();
    }
    return this.insufficient();
  }

  /** The `507` problem for an upload refused because the disk is full. */
  insufficient(): AppError {
    return new AppError(
      "insufficient_storage",
      "The server's disk is full; the upload was not stored. Retry later (an operator is " +
        "told to free space: delete reports, then the space goes back to the filesystem)",
      { retryAfterSeconds: FULL_RETRY_AFTER_SECONDS },
    );
  }

  /**
   * Gives free pages back to the filesystem and writes the reserve again;
   * the disk stops counting as full when it fits. Called after a delete and
   * on a timer while full; concurrent calls share one attempt.
   */
  restore(db: Database): Promise<void> {
    this.#db = db;
    this.#restoring ??= this.#restore(db).finally(() => {
      this.#restoring = undefined;
    });
    return this.#restoring;
  }

  /**
   * After a delete: while the disk is full, {@linkcode restore}; otherwise
   * only give the freed pages back to the filesystem. Never throws: the
   * delete itself has succeeded.
   */
  async afterDelete(db: Database): Promise<void> {
    try {
      if (this.#full !== undefined) await this.restore(db);
      else await reclaimSpace(db);
    } catch (error) {
      log.warn("Cannot give space back after a delete: {error}", { error: String(error) });
    }
  }

  /** Stops the retry timer (at shutdown). */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #restore(db: Database): Promise<void> {
    try {
      const { before, after } = await reclaimSpace(db);
      if (after < before) {
        log.info("Gave {bytes} bytes back to the filesystem", { bytes: before - after });
      }
    } catch (error) {
      // Not fatal: the reserve below tells whether there is room.
      if (!(error instanceof StorageError)) throw error;
    }
    if (await this.#writeReserve()) {
      if (this.#full !== undefined) log.info("The disk has room again: uploads are accepted");
      this.#full = undefined;
      this.stop();
    } else if (this.#full === undefined) {
      this.#full = "The disk holding the database has less free space than the reserve " +
        `(REPORTD_DISK_RESERVE=${this.#options.reserveBytes} bytes)`;
      log.error("{reason}: uploads are refused (507) until space is freed", {
        reason: this.#full,
      });
      this.#scheduleRetry();
    }
  }

  /** Writes the reserve (real blocks, not a sparse file); false when it does not fit. */
  async #writeReserve(): Promise<boolean> {
    const { reservePath, reserveBytes } = this.#options;
    if (reserveBytes === 0) return true;
    try {
      using file = await Deno.open(reservePath, { write: true, create: true, truncate: true });
      const block = new Uint8Array(Math.min(reserveBytes, 1 << 20));
      for (let written = 0; written < reserveBytes;) {
        written += await file.write(
          block.subarray(0, Math.min(block.length, reserveBytes - written)),
        );
      }
      await file.sync();
      return true;
    } catch (error) {
      await this.release().catch(() => {});
      if (isStorageFull(error)) return false;
      throw error;
    }
  }

  #scheduleRetry(): void {
    if (this.#timer !== undefined) return;
    const timer = setInterval(() => {
      if (this.#db !== undefined) {
        this.restore(this.#db).catch((error) => {
          log.warn("Cannot check the disk's space: {error}", { error: String(error) });
        });
      }
    }, this.#options.retryMs ?? 30_000);
    // The retry must not keep a stopping process alive.
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }
}
