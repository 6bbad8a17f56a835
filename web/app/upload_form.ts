/// <reference lib="dom" />
/**
 * Uploading a CSV or JSON file: chosen with the file picker or dropped on the
 * form, optionally named, sent as the request body with its media type.
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
import { defaultName, uploadMediaType } from "./upload.ts";

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
    const response = await apiFetch(`/v1/reports?${new URLSearchParams({ name })}`, {
      method: "POST",
      headers: { "content-type": uploadMediaType(file) },
      body: file,
    });
    const report = await response.json() as Report;
    form.reset();
    fileChosen();
    deps.onUploaded(report);
  });
}

/** An error found before asking the server, shaped like the server's, so it shows the same way. */
function localError(title: string, field: { path: string; message: string }): ApiError {
  return new ApiError({ type: "about:blank", title, status: 0, errors: [field] });
}
