/**
 * Upload decisions that need no DOM: the media type a file is sent as, and
 * the name a report gets when the person gives none.
 *
 * @module
 */

/**
 * The media type to send for `file`: by extension first (browsers disagree
 * about `.csv`; some say `application/vnd.ms-excel`), then what the browser
 * says. Anything else is sent as it is and the server answers 415 with a
 * message that says what it accepts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { uploadMediaType } from "./upload.ts";
 * const excel = { name: "prices.CSV", type: "application/vnd.ms-excel" };
 * assert.equal(uploadMediaType(excel), "text/csv");
 * assert.equal(uploadMediaType({ name: "series.json", type: "" }), "application/json");
 * assert.equal(uploadMediaType({ name: "notes.txt", type: "text/plain" }), "text/plain");
 * ```
 */
export function uploadMediaType(file: { name: string; type: string }): string {
  const extension = file.name.toLowerCase().split(".").at(-1);
  if (extension === "csv") return "text/csv";
  if (extension === "json") return "application/json";
  return file.type || "application/octet-stream";
}

/**
 * The default report name for a file: its name without the extension.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultName } from "./upload.ts";
 * assert.equal(defaultName("AVGO daily.csv"), "AVGO daily");
 * ```
 */
export function defaultName(fileName: string): string {
  return fileName.replace(/\.[^.]*$/, "").slice(0, 200) || fileName.slice(0, 200);
}
