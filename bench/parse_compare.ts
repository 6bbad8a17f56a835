/**
 * Compares the CPU time of parsing and cleaning a 1,000,000-row CSV
 * (`processUpload`, the worker's whole job) between this checkout and
 * another one, in one process, alternating A and B so that the machine's
 * load hits both alike. CPU time (user + system) is read instead of wall
 * time because the development machine is shared: a busy neighbour stretches
 * wall time but not the CPU a parse needs.
 *
 * Usage: `git worktree add /tmp/base <commit>` (or `git archive <commit> | tar -x -C /tmp/base`),
 * then `deno run -P=test bench/parse_compare.ts /tmp/base [rounds]`. Results: docs/benchmarks.md.
 *
 * @module
 */
import process from "node:process";
import { processUpload } from "../services/series/process.ts";
import { generateCsv } from "../tests/helpers/generate.ts";

const [baseDir, roundsArg] = Deno.args;
if (baseDir === undefined) {
  console.error("Usage: deno run -P=test bench/parse_compare.ts <other checkout> [rounds]");
  Deno.exit(1);
}
const rounds = Number(roundsArg ?? 20);
const base = await import(
  new URL("services/series/process.ts", `file://${Deno.realPathSync(baseDir)}/`).href
);
const body = new TextEncoder().encode(generateCsv(1_000_000));
const options = { format: "csv" as const, maxPoints: 2_000_000 };
const runs = {
  base: async () => await base.processUpload(body, options),
  this: async () => await processUpload(body, options),
};
const cpu: Record<keyof typeof runs, number[]> = { base: [], this: [] };
for (let round = 0; round < rounds; round++) {
  const order: (keyof typeof runs)[] = round % 2 === 0 ? ["base", "this"] : ["this", "base"];
  for (const name of order) {
    const start = process.cpuUsage();
    const result = await runs[name]();
    const used = process.cpuUsage(start);
    if (result.rows.accepted !== 1_000_000) {
      throw new Error(`${name} accepted ${result.rows.accepted}`);
    }
    cpu[name].push((used.user + used.system) / 1000);
  }
}
const quantile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) * q)];
const rows = Object.fromEntries(
  (["base", "this"] as const).map((name) => [name, {
    "min ms": Math.round(quantile(cpu[name], 0)),
    "p25 ms": Math.round(quantile(cpu[name], 0.25)),
    "median ms": Math.round(quantile(cpu[name], 0.5)),
  }]),
);
console.log(`## processUpload, 1,000,000-row CSV, CPU time, ${rounds} rounds each`);
console.table(rows);
for (const q of [0, 0.25, 0.5]) {
  console.log(`this/base at q${q}: ${(quantile(cpu.this, q) / quantile(cpu.base, q)).toFixed(3)}`);
}
