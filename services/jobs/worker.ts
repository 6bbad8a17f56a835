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
import { processUpload } from "../series/process.ts";
import {
  type JobFailure,
  type JobRequest,
  type JobSuccess,
  transferableBuffer,
} from "./protocol.ts";

self.onmessage = async (event: MessageEvent<JobRequest>) => {
  const request = event.data;
  let processed;
  try {
    processed = await processUpload(new Uint8Array(request.body), {
      format: request.format,
      maxPoints: request.maxPoints,
      parse: request.parse,
    });
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
};
