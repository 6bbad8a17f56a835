/**
 * Upload decisions that need no DOM: the media type and Content-Encoding a
 * file is sent with, the parse options from the "how to read this file"
 * form, and the name a report gets when the person gives none.
 *
 * @module
 */

/** Media types by file extension (after a `.gz`, if any). */
const EXTENSION_TYPES: Record<string, string> = {
  csv: "text/csv",
  tsv: "text/csv",
  tab: "text/csv",
  txt: "text/csv",
  json: "application/json",
  ndjson: "application/x-ndjson",
  jsonl: "application/x-ndjson",
  parquet: "application/vnd.apache.parquet",
  pq: "application/vnd.apache.parquet",
};

/** The options of the "how to read this file" form, as query parameters. */
export const PARSE_OPTION_NAMES: readonly string[] = [
  "delimiter",
  "decimal",
  "thousands",
  "time_column",
  "date_format",
  "timezone",
];

/**
 * The headers to send `file` with: its media type by extension, and
 * `Content-Encoding: gzip` for a `.gz` file (the server decompresses it while
 * it streams, so the browser sends the small file as it is).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { uploadHeaders } from "./upload.ts";
 * assert.deepEqual(uploadHeaders({ name: "prices.csv.gz", type: "application/gzip" }), {
 *   "content-type": "text/csv",
 *   "content-encoding": "gzip",
 * });
 * assert.deepEqual(uploadHeaders({ name: "a.parquet", type: "" }), {
 *   "content-type": "application/vnd.apache.parquet",
 * });
 * ```
 */
export function uploadHeaders(file: { name: string; type: string }): Record<string, string> {
  const gzipped = /\.gz$/i.test(file.name);
  const inner = gzipped ? { name: file.name.slice(0, -3), type: "" } : file;
  const headers: Record<string, string> = { "content-type": uploadMediaType(inner) };
  if (gzipped) headers["content-encoding"] = "gzip";
  return headers;
}

/**
 * The non-empty parse options of the form, in query order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseOptionParams } from "./upload.ts";
 * const values = new Map([["delimiter", ";"], ["timezone", " "], ["date_format", "%d.%m.%Y"]]);
 * assert.deepEqual(parseOptionParams((name) => values.get(name) ?? ""), [
 *   ["delimiter", ";"],
 *   ["date_format", "%d.%m.%Y"],
 * ]);
 * ```
 */
export function parseOptionParams(value: (name: string) => string): [string, string][] {
  return PARSE_OPTION_NAMES.flatMap((name) => {
    const raw = value(name);
    // A space is a real thousands separator; elsewhere blanks mean "detect".
    const given = name === "thousands" ? raw : raw.trim();
    return given === "" ? [] : [[name, given] as [string, string]];
  });
}

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
 * assert.equal(uploadMediaType({ name: "notes.md", type: "text/plain" }), "text/plain");
 * ```
 */
export function uploadMediaType(file: { name: string; type: string }): string {
  const extension = file.name.toLowerCase().split(".").at(-1) ?? "";
  if (Object.hasOwn(EXTENSION_TYPES, extension)) return EXTENSION_TYPES[extension];
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
  const base = fileName.replace(/\.gz$/i, "");
  return base.replace(/\.[^.]*$/, "").slice(0, 200) || fileName.slice(0, 200);
}
