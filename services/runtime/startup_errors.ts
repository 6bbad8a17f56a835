/**
 * Operator mistakes at start-up, as one line that says what to do.
 *
 * A service that answers a wrong setting with a stack trace (`NotCapable:
 * Requires write access to "/srv/reports.db", run again with the
 * --allow-write flag`) sends its operator the wrong way: reportd runs under
 * the permission set in deno.json, not with flags, and an `AddrInUse` trace
 * does not say which port. `main.ts` prints these lines on stderr and exits 1.
 *
 * @module
 */
import { StorageError } from "../../db/errors.ts";

/** Where the database is and where the server listens, to name them in messages. */
export interface StartupContext {
  /** `REPORTD_DB`. */
  databasePath: string;
  /** `HOST`. */
  host: string;
  /** `PORT`. */
  port: number;
  /** The folders the permission set may read and write (deno.json `permissions.default`). */
  granted: { read: readonly string[]; write: readonly string[] };
}

/**
 * Says why the database at `path` cannot be used under the permission set,
 * or undefined when it can. Checked before opening, because the runtime's
 * own error suggests a command-line flag that `deno task start` and the
 * compiled binary do not take.
 *
 * @example
 * ```ts ignore
 * databasePathProblem("/srv/reports.db", { read: ["./data"], write: ["./data"] });
 * // => "REPORTD_DB=/srv/reports.db is outside the folders reportd may write (./data); ..."
 * ```
 */
export function databasePathProblem(
  path: string,
  granted: StartupContext["granted"],
): string | undefined {
  if (path === ":memory:") return undefined;
  const folder = parentFolder(path);
  // The -wal and -shm files live beside the database, so its folder needs both.
  const missing = (["read", "write"] as const).filter((name) =>
    Deno.permissions.querySync({ name, path: folder }).state !== "granted"
  );
  if (missing.length === 0) return undefined;
  return `REPORTD_DB=${path} is outside the folders reportd may ${missing.join(" and ")} ` +
    `(${granted.write.join(", ")}); put the database under ${granted.write[0]}, or add ` +
    `"${folder}" to permissions.default.read and .write in deno.json (then rebuild a ` +
    "compiled binary; see docs/security.md, The permission set)";
}

/**
 * The one line to print for an error that stopped the start, or undefined
 * for an error that is a bug (and keeps its stack trace).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { explainStartupError } from "./startup_errors.ts";
 * const line = explainStartupError(new Deno.errors.AddrInUse("Address in use"), {
 *   databasePath: "data/reportd.db",
 *   host: "0.0.0.0",
 *   port: 8000,
 *   granted: { read: ["./data"], write: ["./data"] },
 * });
 * assert.match(line ?? "", /^Cannot listen on 0\.0\.0\.0:8000: the port is in use/);
 * ```
 */
export function explainStartupError(error: unknown, context: StartupContext): string | undefined {
  const address = `${context.host}:${context.port}`;
  if (error instanceof Deno.errors.AddrInUse) {
    return `Cannot listen on ${address}: the port is in use (another reportd?); stop that ` +
      "process or set PORT to a free port";
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return `Cannot listen on ${address}: no network interface has that address; set HOST to ` +
      "one of this machine's addresses, 127.0.0.1 or 0.0.0.0";
  }
  if (error instanceof Deno.errors.PermissionDenied && context.port < 1024) {
    return `Cannot listen on ${address}: ports below 1024 need privileges; set PORT to 1024 ` +
      "or above and put a proxy in front (docs/deploy.md)";
  }
  if (error instanceof Deno.errors.NotCapable) {
    const problem = databasePathProblem(context.databasePath, context.granted);
    return problem ?? `The permission set does not allow this: ${error.message}`;
  }
  if (error instanceof StorageError) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    const hint = error.message.startsWith("Cannot open")
      ? `; check that REPORTD_DB (${context.databasePath}) names a database file, not a folder`
      : "";
    return `${error.message}${cause}${hint}`;
  }
  return undefined;
}

function parentFolder(path: string): string {
  const slash = path.lastIndexOf("/");
  if (slash === -1) return ".";
  return slash === 0 ? "/" : path.slice(0, slash);
}
