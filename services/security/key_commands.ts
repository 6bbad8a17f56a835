/**
 * `reportd keys create|list|revoke`: managing database API keys from the
 * command line.
 *
 * `main.ts` only dispatches here with an open database; parsing the arguments
 * and wording the output live in this module so that tests run them without a
 * subprocess.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { Database } from "../../db/mod.ts";
import { createApiKey, listKeys, parseScopes, revokeKey } from "./api_keys.ts";

/** Usage of the `keys` command, shown by `reportd keys --help`. */
export const KEYS_USAGE = `Usage: reportd keys <command>

Commands:
  create --scopes read,write --name ci   Make a key; it is printed once, only its hash is stored
  list                                   List the database keys (ids, names, scopes, revoked)
  revoke <id>                            Revoke a key at once

Scopes: read (list and read reports), write (create reports, delete its own),
admin (everything, including /metrics and deleting any report).`;

/** Where the command writes: stdout for results, stderr for messages. */
export interface CommandOutput {
  /** A line of results (the new key, the listing). */
  out(line: string): void;
  /** A line for the person at the terminal. */
  err(line: string): void;
}

const CONSOLE: CommandOutput = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

/**
 * Runs `keys <args>` against `db` and returns the exit code: 0 done, 1 nothing
 * to revoke, 2 bad arguments.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeDatabase, openDatabase } from "../../db/mod.ts";
 * import { runKeysCommand } from "./key_commands.ts";
 * const db = await openDatabase(":memory:");
 * const lines: string[] = [];
 * const output = { out: (line: string) => lines.push(line), err: () => {} };
 * const code = await runKeysCommand(db, ["create", "--scopes", "read", "--name", "ci"], output);
 * assert.equal(code, 0);
 * assert.match(lines[0], /^rk_[a-z2-7]{12}_/);
 * await closeDatabase(db);
 * ```
 */
export async function runKeysCommand(
  db: Database,
  args: string[],
  output: CommandOutput = CONSOLE,
): Promise<number> {
  const [command, ...rest] = args;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: {
        scopes: { type: "string" },
        name: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    output.err(`${(error as Error).message}\n\n${KEYS_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (command === undefined || command === "help" || command === "--help" || values.help) {
    output.out(KEYS_USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === "create" && positionals.length === 0) {
    if (values.scopes === undefined || values.name === undefined) {
      output.err(`keys create needs --scopes and --name\n\n${KEYS_USAGE}`);
      return 2;
    }
    let created;
    try {
      created = await createApiKey(db, {
        name: values.name,
        scopes: parseScopes(values.scopes, ","),
      });
    } catch (error) {
      if (!(error instanceof Error) || error.name !== "Error") throw error;
      output.err(error.message);
      return 2;
    }
    // The key alone on stdout, so `KEY=$(reportd keys create ...)` captures it.
    output.out(created.key);
    output.err(
      `Created key ${created.id} (${created.name}, scopes ${created.scopes.join(", ")}). ` +
        "It is shown only now: only its hash is stored.",
    );
    return 0;
  }
  if (command === "list" && positionals.length === 0) {
    const keys = await listKeys(db);
    if (keys.length === 0) {
      output.err("No keys in the database (keys from REPORTD_API_KEYS or its file are not listed)");
      return 0;
    }
    output.out(formatTable([
      ["ID", "NAME", "SCOPES", "CREATED", "REVOKED"],
      ...keys.map((key) => [
        key.id,
        key.name,
        key.scopes.join(","),
        key.createdAt,
        key.revokedAt ?? "-",
      ]),
    ]));
    return 0;
  }
  if (command === "revoke" && positionals.length === 1) {
    const [id] = positionals;
    if (await revokeKey(db, id)) {
      output.err(`Revoked key ${id}; requests with it are refused from now on`);
      return 0;
    }
    output.err(`No valid key with id ${JSON.stringify(id)} (see reportd keys list)`);
    return 1;
  }
  output.err(`Unknown or incomplete keys command\n\n${KEYS_USAGE}`);
  return 2;
}

function formatTable(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) =>
    row.map((cell, column) => cell.padEnd(widths[column])).join("  ").trimEnd()
  )
    .join("\n");
}
