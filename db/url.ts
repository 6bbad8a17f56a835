/**
 * PostgreSQL connection URLs: the checks reportd makes before using one, and
 * the form that may be logged.
 *
 * @module
 */

/** The `sslmode` values libpq defines (and `npm:pg` understands). */
export const SSL_MODES = ["disable", "prefer", "require", "verify-ca", "verify-full"] as const;

/**
 * Returns `url` with its password replaced by `[redacted]`, for logs and
 * error messages. Anything unparsable is replaced whole.
 *
 * @example
 * ```ts
 * import { redactDatabaseUrl } from "./url.ts";
 * console.assert(
 *   redactDatabaseUrl("postgres://app:s3cret@db:5432/reportd") ===
 *     "postgres://app:[redacted]@db:5432/reportd",
 * );
 * ```
 */
export function redactDatabaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "[unparsable URL]";
  }
  if (parsed.password === "") return parsed.toString();
  // URL would percent-encode the brackets of "[redacted]", so it is spliced in.
  parsed.password = "REDACTED";
  return parsed.toString().replace(":REDACTED@", ":[redacted]@");
}

/**
 * Says what is wrong with a PostgreSQL URL, or undefined when it is usable:
 * a postgres:// or postgresql:// scheme, a host, a database name, and an
 * `sslmode` (if any) that libpq knows. The message never quotes the URL.
 */
export function databaseUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "expected a URL like postgres://user:password@host:5432/database";
  }
  if (!/^postgres(ql)?:$/.test(parsed.protocol)) {
    return "expected a postgres:// or postgresql:// URL";
  }
  if (parsed.hostname === "") return "expected a host, as in postgres://user@host:5432/database";
  if (parsed.pathname.replace(/^\//, "") === "") {
    return "expected a database name, as in postgres://user@host:5432/database";
  }
  const sslmode = parsed.searchParams.get("sslmode");
  if (sslmode !== null && !(SSL_MODES as readonly string[]).includes(sslmode)) {
    return `expected sslmode to be one of ${SSL_MODES.join(", ")}`;
  }
  return undefined;
}

/** `host:port` of a PostgreSQL URL, as the net permission names it (port 5432 by default). */
export function databaseHost(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || "5432"}`;
}
