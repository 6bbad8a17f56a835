/**
 * Whether an external tool the tests lean on (promtool, pandas) is there.
 *
 * @module
 */

/**
 * True when `command args...` runs and exits 0; false when the command is
 * not installed or fails. Output is discarded.
 *
 * @example
 * ```ts
 * import { commandSucceeds } from "./command.ts";
 * console.assert(await commandSucceeds("no-such-tool-reportd", []) === false);
 * ```
 */
export async function commandSucceeds(command: string, args: string[]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(command, {
      args,
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
