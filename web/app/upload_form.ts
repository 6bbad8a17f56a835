/// <reference lib="dom" />
/**
 * Uploading a CSV, JSON, NDJSON or Parquet file (gzipped too): chosen with
 * the file picker or dropped on the form, optionally named, sent as the
 * request body with its media type and the "how to read this file" options.
 * When the server cannot read the file for a reason those options fix (an
 * ambiguous date, a missing zone, the wrong separator), the options open
 * with the field to change marked and what was detected above them.
 *
 * The file is the body itself (`fetch` streams a `File`), not a multipart
 * form: that is what `POST /v1/reports` takes, and the server streams it into
 * storage without holding it in memory.
 *
 * @module
 */
import { ApiError, apiFetch } from "./api.ts";
import { byId } from "./dom.ts";
import { onSubmit } from "./forms.ts";
import type { Report } from "./types.ts";
import { defaultName, PARSE_OPTION_NAMES, parseOptionParams, uploadHeaders } from "./upload.ts";

/** What the form needs from the page. */
export interface UploadFormDeps {
  /** Called with the report the server accepted. */
  onUploaded(report: Report): void;
}

/** Wires the upload form in index.html. */
export function setUpUploadForm(deps: UploadFormDeps): void {
  const form = byId("upload-form", HTMLFormElement);
  const fileInput = byId("upload-file", HTMLInputElement);
  const nameInput = byId("upload-name", HTMLInputElement);
  const dropZone = byId("drop-zone", HTMLElement);
  const chosen = byId("upload-chosen", HTMLElement);
  const alertBox = byId("upload-error", HTMLElement);
  const submit = byId("upload-submit", HTMLButtonElement);
  const options = byId("upload-options", HTMLDetailsElement);
  const detected = byId("upload-detected", HTMLElement);

  function fileChosen(): void {
    const file = fileInput.files?.[0];
    chosen.textContent = file === undefined ? "No file chosen" : `Chosen: ${file.name}`;
    nameInput.placeholder = file === undefined ? "" : defaultName(file.name);
  }
  fileInput.addEventListener("change", fileChosen);

  // Drag and drop: the zone highlights while a file is over it, and a dropped
  // file becomes the input's file, as if picked.
  dropZone.addEventListener("dragover", (event) => {
    if (!event.dataTransfer?.types.includes("Files")) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    dropZone.classList.add("dragging");
  });
  dropZone.addEventListener("dragleave", () => dropZone.classList.remove("dragging"));
  dropZone.addEventListener("drop", (event) => {
    event.preventDefault();
    dropZone.classList.remove("dragging");
    const files = event.dataTransfer?.files;
    if (files === undefined || files.length === 0) return;
    fileInput.files = files;
    fileChosen();
    submit.focus();
  });
  // A file dropped anywhere else would make the browser leave the page to
  // show it; refuse it there instead.
  for (const type of ["dragover", "drop"]) {
    document.addEventListener(type, (event) => {
      if (!dropZone.contains(event.target as Node)) event.preventDefault();
    });
  }

  onSubmit(form, { alertBox, submit }, async () => {
    const file = fileInput.files?.[0];
    if (file === undefined) {
      throw localError("No file chosen", { path: "file", message: "Choose a CSV or JSON file" });
    }
    const name = nameInput.value.trim() || defaultName(file.name);
    const query = new URLSearchParams({ name });
    const params = parseOptionParams((option) => {
      const control = form.elements.namedItem(option);
      return control instanceof HTMLInputElement || control instanceof HTMLSelectElement
        ? control.value
        : "";
    });
    for (const [option, value] of params) query.set(option, value);
    detected.hidden = true;
    let response: Response;
    try {
      response = await apiFetch(`/v1/reports?${query}`, {
        method: "POST",
        headers: uploadHeaders(file),
        body: file,
      });
    } catch (error) {
      if (error instanceof ApiError) revealOptions(error);
      throw error;
    }
    const report = await response.json() as Report;
    form.reset();
    fileChosen();
    deps.onUploaded(report);
  });

  /** Opens the options when the problem names one of them, showing what was detected. */
  function revealOptions(error: ApiError): void {
    const errors = error.problem.errors ?? [];
    const named = errors.some((field) =>
      PARSE_OPTION_NAMES.some((option) => field.path === `query.${option}`)
    );
    const dialect = errors.find((field) => field.path === "dialect");
    if (dialect !== undefined) {
      detected.textContent = dialect.message;
      detected.hidden = false;
    }
    if (named || dialect !== undefined) options.open = true;
  }
}

/** An error found before asking the server, shaped like the server's, so it shows the same way. */
function localError(title: string, field: { path: string; message: string }): ApiError {
  return new ApiError({ type: "about:blank", title, status: 0, errors: [field] });
}
