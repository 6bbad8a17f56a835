/**
 * The `--database` choice of the benchmarks: `sqlite` (the default: a fresh
 * file, as before), `postgres` (a fresh database on REPORTD_TEST_DATABASE_URL's
 * server, or on a private throwaway cluster as the tests use), or a
 * `postgres://` URL of a server to make the fresh database on. Each run gets a
 * database of its own, dropped afterwards.
 *
 * @module
 */
import { postgresServer, testDatabase } from "../tests/helpers/postgres.ts";

/** The engine a benchmark runs on, from `--database=...` in `args` (sqlite by default). */
export function databaseChoice(args: readonly string[]): string {
  const given = args.find((arg) => arg.startsWith("--database="))?.slice("--database=".length);
  if (given === undefined || given === "sqlite") return "sqlite";
  if (given === "postgres" || /^postgres(ql)?:\/\//.test(given)) return given;
  throw new Error(`Unknown --database=${given}: expected sqlite, postgres or a postgres:// URL`);
}

/**
 * A fresh PostgreSQL database for `choice`, or undefined for SQLite. Dispose
 * it to drop it.
 */
export async function benchDatabase(
  choice: string,
): Promise<{ url: string } & AsyncDisposable | undefined> {
  if (choice === "sqlite") return undefined;
  const server = choice === "postgres" ? await postgresServer() : choice;
  if (server === undefined) throw new Error("No PostgreSQL: set REPORTD_TEST_DATABASE_URL");
  return await testDatabase(server);
}
