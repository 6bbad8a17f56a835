/**
 * A fixed-size pool of Deno Web Workers (module workers) that run jobs.
 *
 * A worker that throws an uncaught error, stops answering within the task
 * timeout, or is terminated is discarded and replaced by a fresh one on the
 * next task, so one bad input cannot poison later jobs. The error event is
 * always handled (`preventDefault`), because an unhandled worker error would
 * otherwise be rethrown on the main thread and take the server down.
 *
 * @module
 */
import type { ParseOptions } from "../series/dialect.ts";
import type { UploadFormat } from "../series/types.ts";
import type { JobFailure, JobRequest, JobResponse, StreamMessage } from "./protocol.ts";

/** Options for {@linkcode WorkerPool}. */
export interface WorkerPoolOptions {
  /** Workers at most (they start lazily). */
  size: number;
  /** The worker module; tests substitute failing ones. */
  workerUrl?: URL;
  /** A task running longer than this is abandoned and its worker replaced. */
  taskTimeoutMs?: number;
}

/** One job for a worker. */
export interface PoolTask {
  /**
   * The raw upload, or how to load it once a worker is free (so a task
   * waiting its turn holds no body: see {@linkcode WorkerPool.run}). It is
   * transferred, so the caller must not use it afterwards.
   */
  body: ArrayBuffer | (() => Promise<ArrayBuffer>);
  format: UploadFormat;
  maxPoints: number;
  /** What the client said about the file. */
  parse?: ParseOptions;
}

const DEFAULT_WORKER_URL = new URL("./worker.ts", import.meta.url);

/**
 * A worker that has processed an upload this large is replaced by a fresh
 * one. V8 keeps the heap a big parse grew to (and the external memory of its
 * garbage) long after the task: with two workers each holding on to a 20 MB
 * upload's peak, 32 concurrent 20 MB uploads took the process to 458 MB.
 * Terminating the isolate returns all of it at once; a new worker starts in
 * about 50 ms, little next to the second or so such an upload takes to
 * process. (bench/big_uploads.ts, docs/benchmarks.md.)
 */
export const RECYCLE_AFTER_BYTES = 8 * 1024 * 1024;

/** Runs tasks on up to `size` workers; excess tasks wait their turn in FIFO order. */
export class WorkerPool {
  /** Most workers that run at once. */
  readonly size: number;
  readonly #workerUrl: URL;
  readonly #taskTimeoutMs: number;
  readonly #idle: Worker[] = [];
  readonly #waiting: ((worker: Worker) => void)[] = [];
  readonly #active = new Map<Worker, ActiveTask>();
  #live = 0;
  #nextTaskId = 1;
  #terminated = false;

  /** Creates an empty pool; workers are spawned on demand. */
  constructor(options: WorkerPoolOptions) {
    this.size = options.size;
    this.#workerUrl = options.workerUrl ?? DEFAULT_WORKER_URL;
    this.#taskTimeoutMs = options.taskTimeoutMs ?? 5 * 60_000;
  }

  /** Workers currently running a task. */
  get busy(): number {
    return this.#active.size;
  }

  /**
   * Runs one task. Resolves for every outcome of the worker: a crash, a
   * timeout or termination comes back as a `crashed` failure rather than a
   * rejection, so callers handle every outcome in one place. Only a body
   * loader's own error rejects (the worker goes back to the pool unused).
   *
   * A task given a loader instead of a body waits for a worker without
   * holding its upload, so callers may queue more tasks than there are
   * workers at no cost in memory: the next task is posted the moment a
   * worker answers, without waiting for the event loop to come round to the
   * caller (services/jobs/queue.ts pipelines small jobs this way).
   */
  async run(task: PoolTask): Promise<JobResponse> {
    if (this.#terminated) return crashed(0, "The worker pool is stopped");
    const worker = await this.#acquire();
    if (this.#terminated) {
      worker.terminate();
      return crashed(0, "The worker pool is stopped");
    }
    let body: ArrayBuffer;
    try {
      body = typeof task.body === "function" ? await task.body() : task.body;
    } catch (error) {
      this.#release(worker);
      throw error;
    }
    if (this.#terminated) {
      this.#release(worker);
      return crashed(0, "The worker pool is stopped");
    }
    const taskId = this.#nextTaskId++;
    // Read before the body is transferred (its length is 0 afterwards).
    const recycle = body.byteLength >= RECYCLE_AFTER_BYTES;
    const done = this.#track(worker, taskId, () => recycle);
    const request: JobRequest = { taskId, ...task, body };
    worker.postMessage(request, [body]);
    return await done;
  }

  /**
   * Starts one worker now, ahead of any task, when none is running: loading
   * a worker's modules takes 60 to 100 ms on the 2-core machine, which the
   * first upload after a start otherwise waits for (the 1,000,000-row CSV's
   * first piece did: docs/benchmarks.md, issue 15).
   */
  warm(): void {
    if (this.#terminated || this.#live > 0) return;
    this.#release(this.#spawn());
  }

  /**
   * Starts processing an upload while it arrives, on a worker that is idle
   * now (or may be started now); undefined when every worker is taken or
   * tasks are waiting, since a stream must not hold a worker that queued
   * jobs need. The pieces are copied into the worker as they are written.
   */
  openStream(task: Omit<PoolTask, "body"> & { expectedBytes?: number }): PoolStream | undefined {
    if (this.#terminated || this.#waiting.length > 0) return undefined;
    let worker = this.#idle.pop();
    if (worker === undefined) {
      if (this.#live >= this.size) return undefined;
      worker = this.#spawn();
    }
    const taskId = this.#nextTaskId++;
    let bytes = 0;
    const streamWorker = worker;
    const done = this.#track(streamWorker, taskId, () => bytes >= RECYCLE_AFTER_BYTES);
    // Open until settled: settling takes the task off the worker at once.
    const open = () => this.#active.get(streamWorker)?.taskId === taskId;
    const start: StreamMessage = { taskId, stream: "start", ...task };
    worker.postMessage(start);
    return {
      write(piece) {
        if (!open()) return;
        bytes += piece.byteLength;
        const copy = piece.slice();
        const message: StreamMessage = { taskId, stream: "piece", bytes: copy.buffer };
        streamWorker.postMessage(message, [copy.buffer]);
      },
      end() {
        if (open()) streamWorker.postMessage({ taskId, stream: "end" } satisfies StreamMessage);
        return done;
      },
      abort: () => {
        if (open()) {
          this.#active.get(streamWorker)?.settle(crashed(taskId, "The stream was abandoned"), true);
        }
      },
    };
  }

  /**
   * Marks `worker` busy with task `taskId` and resolves with how it ended:
   * its answer, a crash, or a timeout after the task timeout. The worker
   * then goes back to the pool, or is replaced when it broke or `recycle()`
   * says it handled a body large enough to have grown its heap. One place
   * for {@linkcode WorkerPool.run} and {@linkcode WorkerPool.openStream}.
   */
  #track(worker: Worker, taskId: number, recycle: () => boolean): Promise<JobResponse> {
    return new Promise<JobResponse>((resolve) => {
      const timer = setTimeout(() => {
        settle(crashed(taskId, `The worker did not finish within ${this.#taskTimeoutMs} ms`), true);
      }, this.#taskTimeoutMs);
      const settle = (response: JobResponse, broken: boolean) => {
        clearTimeout(timer);
        this.#active.delete(worker);
        if (broken || recycle()) this.#discard(worker);
        else this.#release(worker);
        resolve(response);
      };
      this.#active.set(worker, { taskId, settle });
    });
  }

  /**
   * Terminates every worker. Running tasks resolve as `crashed`; later calls
   * to {@linkcode run} do too.
   */
  terminate(): void {
    this.#terminated = true;
    for (const task of [...this.#active.values()]) {
      task.settle(crashed(task.taskId, "The worker pool was stopped"), true);
    }
    for (const worker of this.#idle.splice(0)) worker.terminate();
  }

  #acquire(): Promise<Worker> {
    const idle = this.#idle.pop();
    if (idle !== undefined) return Promise.resolve(idle);
    if (this.#live < this.size) return Promise.resolve(this.#spawn());
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #release(worker: Worker): void {
    if (this.#terminated) {
      worker.terminate();
      return;
    }
    const next = this.#waiting.shift();
    if (next !== undefined) next(worker);
    else this.#idle.push(worker);
  }

  #discard(worker: Worker): void {
    worker.terminate();
    this.#live--;
    const next = this.#waiting.shift();
    if (next !== undefined && !this.#terminated) next(this.#spawn());
  }

  #spawn(): Worker {
    this.#live++;
    const worker = new Worker(this.#workerUrl, { type: "module", name: "reportd-job" });
    // Listeners live as long as the worker: an error may arrive at any time
    // (even while loading), and an unhandled one would crash this process.
    worker.addEventListener("error", (event) => {
      event.preventDefault();
      const task = this.#active.get(worker);
      if (task !== undefined) {
        task.settle(crashed(task.taskId, `The worker failed: ${event.message}`), true);
      } else {
        this.#discardIdle(worker);
      }
    });
    worker.addEventListener("messageerror", () => {
      const task = this.#active.get(worker);
      task?.settle(crashed(task.taskId, "The worker's answer could not be read"), true);
    });
    worker.addEventListener("message", (event: MessageEvent<JobResponse>) => {
      const task = this.#active.get(worker);
      if (task !== undefined && event.data.taskId === task.taskId) task.settle(event.data, false);
    });
    return worker;
  }

  #discardIdle(worker: Worker): void {
    const index = this.#idle.indexOf(worker);
    if (index !== -1) {
      this.#idle.splice(index, 1);
      worker.terminate();
      this.#live--;
    }
  }
}

/** An upload being processed while it arrives ({@linkcode WorkerPool.openStream}). */
export interface PoolStream {
  /** Sends the next piece of the body (copied: the caller may reuse its buffer). */
  write(piece: Uint8Array): void;
  /** Says the body is complete; resolves with the worker's answer, as {@linkcode WorkerPool.run} does. */
  end(): Promise<JobResponse>;
  /** Gives up: the worker is replaced and `end` resolves as `crashed`. */
  abort(): void;
}

interface ActiveTask {
  taskId: number;
  /** Ends the task with `response`; `broken` discards the worker. */
  settle: (response: JobResponse, broken: boolean) => void;
}

function crashed(taskId: number, message: string): JobFailure {
  return { taskId, ok: false, failure: "crashed", message };
}
