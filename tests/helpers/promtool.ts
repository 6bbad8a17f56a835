/**
 * Runs Prometheus' own linter, `promtool check metrics`, on a `/metrics`
 * body. promtool comes from Debian's `prometheus` package; `.ci/run` installs
 * it and sets `REPORTD_REQUIRE_PROMTOOL=1`, so in CI a missing promtool fails
 * the suite instead of skipping the check.
 *
 * @module
 */

import { commandSucceeds } from "./command.ts";

/** True when the environment demands the check (CI). */
export const PROMTOOL_REQUIRED: boolean = Deno.env.get("REPORTD_REQUIRE_PROMTOOL") === "1";

/** Whether `promtool` can be run. */
export function promtoolAvailable(): Promise<boolean> {
  return commandSucceeds("promtool", ["--version"]);
}

/** What promtool said about the metrics text. */
export interface PromtoolResult {
  /** Exit code: 0 when the text parses and passes every lint. */
  code: number;
  /** Everything it printed (problems, one per line). */
  output: string;
}

/** Pipes `text` into `promtool check metrics`. */
export async function promtoolCheckMetrics(text: string): Promise<PromtoolResult> {
  const child = new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}
