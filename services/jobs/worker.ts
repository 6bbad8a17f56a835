/**
 * The worker entry: runs the pure series pipeline on one upload at a time.
 *
 * It runs in a Deno Web Worker so a five-million-row parse never blocks the
 * thread that answers HTTP requests. It imports nothing with I/O.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { AppError } from "../errors.ts";
import { processUpload, UploadStream } from "../series/process.ts";
import type { ProcessedUpload } from "../series/types.ts";
import {
  type JobFailure,
  type JobRequest,
  type JobSuccess,
  type StreamMessage,
  transferableBuffer,
} from "./protocol.ts";

// The upload arriving in pieces, between a stream's `start` and `end`.
let stream: UploadStream | undefined;

self.onmessage = async (event: MessageEvent<JobRequest | StreamMessage>) => {
  const message = event.data;
  if ("stream" in message) {
    if (message.stream === "start") {
      stream = new UploadStream({
        format: message.format,
        maxPoints: message.maxPoints,
        parse: message.parse,
        expectedBytes: message.expectedBytes,
      });
    } else if (message.stream === "piece") {
      stream?.push(new Uint8Array(message.bytes));
    } else {
      const ending = stream;
      stream = undefined;
      await answer(message.taskId, () => ending!.finish());
    }
    return;
  }
  await answer(message.taskId, () =>
    processUpload(new Uint8Array(message.body), {
      format: message.format,
      maxPoints: message.maxPoints,
      parse: message.parse,
    }));
};

async function answer(
  taskId: number,
  process: () => Promise<ProcessedUpload>,
): Promise<void> {
  const request = { taskId };
  let processed;
  try {
    processed = await process();
  } catch (error) {
    const failure: JobFailure = error instanceof AppError
      ? {
        taskId: request.taskId,
        ok: false,
        failure: "rejected",
        kind: error.kind,
        message: error.message,
        errors: error.errors,
      }
      : {
        taskId: request.taskId,
        ok: false,
        failure: "crashed",
        message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      };
    self.postMessage(failure);
    return;
  }
  const { series } = processed;
  const timestamps = transferableBuffer(series.timestamps);
  const columns = series.columns.map(transferableBuffer);
  const success: JobSuccess = {
    taskId: request.taskId,
    ok: true,
    timestamps,
    names: series.names,
    columns,
    rows: processed.rows,
    summary: processed.summary,
    name: processed.name,
    dialect: processed.dialect,
  };
  self.postMessage(success, [timestamps, ...columns]);
}
