/**
 * Reads what `deno compile` embedded in an executable: the permissions, the
 * embedded environment variables and the list of files in its virtual file
 * system.
 *
 * This is how we check a binary without running it: the test in
 * tests/e2e/compile_test.ts compiles with a local base binary (no download)
 * and inspects the result, and the CI workflow inspects the real binary
 * before it starts it. Both then fail on a permission that differs from
 * deno.json, a missing worker module or asset, or a missing commit.
 *
 * The layout read here is Deno's own (a `d3n0l4nd` section holding a
 * length-prefixed JSON metadata object, followed by the file system as a JSON
 * tree); it is internal to Deno and checked against the pinned 2.9.6 only, so
 * {@linkcode inspectBinary} fails loudly rather than guessing when it changes.
 *
 * Usage: `deno run --allow-read tools/inspect_binary.ts dist/reportd` prints
 * the findings as JSON.
 *
 * @module
 */

/** What an executable carries. */
export interface BinaryManifest {
  /** Deno's permission options, such as `allow_read: ["./data"]` and `prompt: false`. */
  permissions: Record<string, unknown>;
  /** Variables from `--env-file`, set at start unless already in the environment. */
  envVars: Record<string, string>;
  /** Every embedded file outside node_modules, as a path relative to the project root. */
  files: string[];
  /** Embedded npm packages, such as `hono`. */
  npmPackages: string[];
}

const MARKER = new TextEncoder().encode("d3n0l4ndd3n0l4nd");
const NODE_MODULES_DIR = ".deno_compile_node_modules";

type VfsEntry =
  | { Dir: { n: string; e: VfsEntry[] } }
  | { File: { n: string } }
  | { Symlink: { n: string } };

/**
 * Parses the embedded metadata and file list of a `deno compile` executable.
 *
 * @example Not a compiled binary
 * ```ts
 * import assert from "node:assert/strict";
 * import { inspectBinary } from "./inspect_binary.ts";
 * assert.throws(() => inspectBinary(new Uint8Array(16)), /Not a deno compile executable/);
 * ```
 */
export function inspectBinary(bytes: Uint8Array): BinaryManifest {
  const marker = lastIndexOf(bytes, MARKER);
  if (marker === -1) throw new Error("Not a deno compile executable: no d3n0l4nd section");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthAt = marker + MARKER.length;
  const length = Number(view.getBigUint64(lengthAt, true));
  const metadataAt = lengthAt + 8;
  const metadata = JSON.parse(
    new TextDecoder().decode(bytes.subarray(metadataAt, metadataAt + length)),
  );
  if (typeof metadata.permissions !== "object" || metadata.permissions === null) {
    throw new Error("Unknown deno compile metadata layout: no permissions object");
  }

  const vfsStart = indexOf(bytes, new TextEncoder().encode('[{"Dir":'), metadataAt + length);
  if (vfsStart === -1) throw new Error("Unknown deno compile layout: no file system tree");
  const vfs = JSON.parse(jsonPrefix(bytes, vfsStart)) as VfsEntry[];

  const files: string[] = [];
  const npmPackages: string[] = [];
  for (const entry of vfs) {
    if ("Dir" in entry && entry.Dir.n === NODE_MODULES_DIR) {
      npmPackages.push(...packageNames(entry.Dir.e));
    } else {
      collectFiles(entry, "", files);
    }
  }
  return {
    permissions: metadata.permissions,
    envVars: metadata.env_vars_from_env_file ?? {},
    files: files.sort(),
    npmPackages: npmPackages.sort(),
  };
}

function collectFiles(entry: VfsEntry, prefix: string, out: string[]): void {
  if ("Dir" in entry) {
    for (const child of entry.Dir.e) collectFiles(child, `${prefix}${entry.Dir.n}/`, out);
  } else if ("File" in entry) {
    out.push(`${prefix}${entry.File.n}`);
  }
}

// .deno_compile_node_modules/<registry host>/<name or @scope>/<name>/<version>/...
function packageNames(registries: VfsEntry[]): string[] {
  const names: string[] = [];
  for (const registry of registries) {
    if (!("Dir" in registry)) continue;
    for (const entry of registry.Dir.e) {
      if (!("Dir" in entry)) continue;
      if (entry.Dir.n.startsWith("@")) {
        for (const scoped of entry.Dir.e) {
          if ("Dir" in scoped) names.push(`${entry.Dir.n}/${scoped.Dir.n}`);
        }
      } else {
        names.push(entry.Dir.n);
      }
    }
  }
  return names;
}

// The text of the JSON array or object that starts at `start`: brackets are
// counted outside strings until the first one closes.
function jsonPrefix(bytes: Uint8Array, start: number): string {
  let depth = 0;
  let inString = false;
  for (let i = start; i < bytes.length; i++) {
    const byte = bytes[i];
    if (inString) {
      if (byte === 0x5c) i++; // backslash: skip the escaped character
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) {
      inString = true;
    } else if (byte === 0x5b || byte === 0x7b) {
      depth++;
    } else if (byte === 0x5d || byte === 0x7d) {
      depth--;
      if (depth === 0) return new TextDecoder().decode(bytes.subarray(start, i + 1));
    }
  }
  throw new Error("Unknown deno compile layout: the file system tree does not end");
}

function indexOf(bytes: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i <= bytes.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (bytes[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

function lastIndexOf(bytes: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = bytes.length - needle.length; i >= 0; i--) {
    for (let j = 0; j < needle.length; j++) {
      if (bytes[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

if (import.meta.main) {
  const manifest = inspectBinary(await Deno.readFile(Deno.args[0]));
  console.log(JSON.stringify(manifest, null, 2));
}
