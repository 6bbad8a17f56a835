/**
 * What the executable must carry, found in the source itself, so the tests can
 * compare it with `tools/compile.ts` and with a compiled binary.
 *
 * @module
 */
import { INCLUDES } from "../../tools/compile.ts";
import { REPO_ROOT } from "./server_process.ts";

/** The folders (and entry module) holding the program's own code. */
const SOURCE_ROOTS = ["main.ts", "routes", "services", "db"];

/** Every `.ts` file under the program's source roots, relative to the repository root. */
export async function sourceFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const root of SOURCE_ROOTS) await walk(root, files);
  return files.sort();
}

/** Every file under `path` (a file or a folder), relative to the repository root. */
export async function filesUnder(path: string): Promise<string[]> {
  const files: string[] = [];
  await walk(path.replace(/\/$/, ""), files, () => true);
  return files.sort();
}

async function walk(
  path: string,
  out: string[],
  keep: (name: string) => boolean = (name) => name.endsWith(".ts"),
): Promise<void> {
  const info = await Deno.stat(`${REPO_ROOT}${path}`);
  if (info.isFile) {
    if (keep(path)) out.push(path);
    return;
  }
  for await (const entry of Deno.readDir(`${REPO_ROOT}${path}`)) {
    await walk(`${path}/${entry.name}`, out, keep);
  }
}

// `new URL("./worker.ts", import.meta.url)`: a module located at run time, as
// Worker entries are, which the static import graph does not contain.
const RUNTIME_MODULE_URL =
  /new URL\(\s*["'`](\.{1,2}\/[^"'`]+\.(?:ts|js|mjs))["'`]\s*,\s*import\.meta\.url\s*\)/g;

/**
 * Modules that the source loads by URL at run time (worker entries), relative
 * to the repository root. `deno compile` leaves these out unless `--include`d.
 */
export async function runtimeModules(): Promise<string[]> {
  const found = new Set<string>();
  for (const file of await sourceFiles()) {
    const text = await Deno.readTextFile(`${REPO_ROOT}${file}`);
    for (const match of text.matchAll(RUNTIME_MODULE_URL)) {
      const url = new URL(match[1], `file:///${file}`);
      found.add(url.pathname.slice(1));
    }
  }
  return [...found].sort();
}

/** True when `path` is one of {@linkcode INCLUDES} or lies in an included folder. */
export function isIncluded(path: string): boolean {
  return INCLUDES.some((include) =>
    include.endsWith("/") ? path.startsWith(include) : path === include
  );
}

const TEXT_IMPORT = /from\s+["'](\.{1,2}\/[^"']+)["']\s+with\s*\{\s*type:\s*["']text["']\s*\}/g;

/**
 * Local files imported as text (migrations, page assets), relative to the
 * repository root: the module graph embeds them, so the binary must hold them.
 */
export async function textAssets(): Promise<string[]> {
  const found = new Set<string>();
  for (const file of await sourceFiles()) {
    const text = await Deno.readTextFile(`${REPO_ROOT}${file}`);
    for (const match of text.matchAll(TEXT_IMPORT)) {
      found.add(new URL(match[1], `file:///${file}`).pathname.slice(1));
    }
  }
  return [...found].sort();
}
