/**
 * The coverage gate: fails when line coverage of the project's own code is
 * below the threshold. Reads the lcov report that `deno coverage --lcov`
 * writes and sums LF (lines found) and LH (lines hit) over every source file
 * outside tests/.
 *
 * Usage: deno run -P=test .ci/coverage_gate.ts <coverage-dir> <min-percent>
 *
 * @module
 */

/** Line totals from an lcov report. */
export interface LineCoverage {
  /** Instrumented lines. */
  found: number;
  /** Lines executed at least once. */
  hit: number;
  /** Per file, for the report. */
  files: { path: string; found: number; hit: number }[];
}

/** Sums LF/LH per source file of an lcov document, skipping tests. */
export function lineCoverage(lcov: string, options: { root: string }): LineCoverage {
  const files: LineCoverage["files"] = [];
  let current: { path: string; found: number; hit: number } | undefined;
  for (const line of lcov.split("\n")) {
    if (line.startsWith("SF:")) current = { path: line.slice(3), found: 0, hit: 0 };
    else if (line.startsWith("LF:") && current) current.found = Number(line.slice(3));
    else if (line.startsWith("LH:") && current) current.hit = Number(line.slice(3));
    else if (line === "end_of_record" && current) {
      const relative = current.path.replace(options.root, "");
      if (!relative.startsWith("tests/") && !relative.startsWith(".ci/")) {
        files.push({ ...current, path: relative });
      }
      current = undefined;
    }
  }
  return {
    found: files.reduce((sum, file) => sum + file.found, 0),
    hit: files.reduce((sum, file) => sum + file.hit, 0),
    files,
  };
}

if (import.meta.main) {
  const [dir, minimum] = Deno.args;
  const root = new URL("../", import.meta.url).pathname;
  const lcov = await new Deno.Command(Deno.execPath(), {
    args: ["coverage", "--lcov", dir],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!lcov.success) Deno.exit(1);
  const coverage = lineCoverage(new TextDecoder().decode(lcov.stdout), { root });
  const percent = coverage.found === 0 ? 0 : (100 * coverage.hit) / coverage.found;
  for (const file of coverage.files.sort((a, b) => a.hit / a.found - b.hit / b.found)) {
    const filePercent = file.found === 0 ? 100 : (100 * file.hit) / file.found;
    console.log(`${filePercent.toFixed(1).padStart(6)}%  ${file.path}`);
  }
  console.log(
    `line coverage: ${
      percent.toFixed(2)
    }% (${coverage.hit}/${coverage.found}), minimum ${minimum}%`,
  );
  if (percent < Number(minimum)) {
    console.error(`Coverage ${percent.toFixed(2)}% is below the minimum of ${minimum}%`);
    Deno.exit(1);
  }
}
