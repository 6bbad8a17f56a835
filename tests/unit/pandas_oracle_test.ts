/**
 * reportd's analytics against pandas: tests/oracle/pandas_oracle.py computed
 * every resampling, transform and summary statistic of a few fixed uploads
 * with pandas and stored them in tests/fixtures/pandas_oracle.json; here the
 * same uploads go through reportd's pipeline and must agree within 1e-9
 * relative (1e-12 absolute for values that cancel to about zero, where a
 * relative bound means nothing). A last test checks the fixture is current.
 */
import assert from "node:assert/strict";
import { processUpload } from "../../services/series/process.ts";
import {
  RESAMPLE_AGG,
  type ResampleAgg,
  type ResampleEvery,
  resampleSeries,
} from "../../services/series/resample.ts";
import {
  applyTransform,
  parseTransform,
  type Transform,
} from "../../services/series/transforms.ts";
import type { ProcessedUpload, Series } from "../../services/series/types.ts";
import { commandSucceeds } from "../helpers/command.ts";

const FIXTURE_PATH = new URL("../fixtures/pandas_oracle.json", import.meta.url);
const SCRIPT_PATH = new URL("../oracle/pandas_oracle.py", import.meta.url);
const PYTHON = "/usr/bin/python3";
const RELATIVE = 1e-9;
const ABSOLUTE = 1e-12;

type Values = (number | null)[];
interface OracleCase {
  csv: string;
  summary: {
    periods_per_year: number | null;
    columns: Record<string, Record<string, unknown>>;
    correlation: { columns: string[]; matrix: Values[] };
  };
  resample: Record<string, { timestamps: number[]; columns: Record<string, Values> }>;
  transforms: Record<string, Record<string, Values>>;
  chained: {
    every: ResampleEvery;
    agg: ResampleAgg;
    transform: string;
    columns: Record<string, Values>;
  };
}

const fixture = JSON.parse(await Deno.readTextFile(FIXTURE_PATH)) as {
  cases: Record<string, OracleCase>;
};

/** Compares numbers (and nested objects of them) within the tolerance; says where they differ. */
function assertClose(actual: unknown, expected: unknown, where: string): void {
  if (typeof expected === "number" && typeof actual === "number") {
    const difference = Math.abs(actual - expected);
    const bound = Math.max(RELATIVE * Math.max(Math.abs(actual), Math.abs(expected)), ABSOLUTE);
    assert.ok(difference <= bound, `${where}: reportd ${actual}, pandas ${expected}`);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${where}: expected an array, got ${JSON.stringify(actual)}`);
    assert.equal(actual.length, expected.length, `${where}: length`);
    expected.forEach((value, i) => assertClose(actual[i], value, `${where}[${i}]`));
    return;
  }
  if (expected !== null && typeof expected === "object") {
    assert.ok(actual !== null && typeof actual === "object", `${where}: expected an object`);
    for (const [key, value] of Object.entries(expected)) {
      assertClose((actual as Record<string, unknown>)[key], value, `${where}.${key}`);
    }
    return;
  }
  assert.equal(actual, expected, where);
}

function nullable(column: Float64Array): Values {
  return Array.from(column, (value) => (Number.isNaN(value) ? null : value));
}

function columnsOf(series: Series): Record<string, Values> {
  return Object.fromEntries(series.names.map((name, i) => [name, nullable(series.columns[i])]));
}

function transformOf(spec: string): Transform {
  const parsed = parseTransform(spec);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.transform;
}

function processed(oracle: OracleCase): Promise<ProcessedUpload> {
  return processUpload(new TextEncoder().encode(oracle.csv), { format: "csv", maxPoints: 100_000 });
}

for (const [name, oracle] of Object.entries(fixture.cases)) {
  Deno.test(`pandas oracle ${name}: summary analytics and correlation`, async () => {
    const { summary } = await processed(oracle);
    assertClose(summary.periods_per_year, oracle.summary.periods_per_year, "periods_per_year");
    for (const [column, expected] of Object.entries(oracle.summary.columns)) {
      assertClose(summary.columns[column], expected, `${name}.${column}`);
      // Every null the oracle expects carries a reason on reportd's side.
      for (const [key, value] of Object.entries(expected)) {
        if (value === null) {
          assert.equal(
            typeof summary.columns[column].null_reasons?.[key],
            "string",
            `${column}.${key}`,
          );
        }
      }
    }
    assertClose(summary.correlation, oracle.summary.correlation, `${name}.correlation`);
  });

  Deno.test(`pandas oracle ${name}: resampling with every aggregate`, async () => {
    const { series } = await processed(oracle);
    assert.ok(Object.keys(oracle.resample).length >= RESAMPLE_AGG.length);
    for (const [key, expected] of Object.entries(oracle.resample)) {
      const [every, agg] = key.split("/") as [ResampleEvery, ResampleAgg];
      const out = resampleSeries(series, { every, agg });
      assert.deepEqual(Array.from(out.timestamps, (ms) => ms / 1000), expected.timestamps, key);
      assert.deepEqual(out.names, Object.keys(expected.columns), key);
      assertClose(columnsOf(out), expected.columns, `${name} ${key}`);
    }
  });

  Deno.test(`pandas oracle ${name}: every transform, and a transform after resampling`, async () => {
    const { series } = await processed(oracle);
    for (const [spec, expected] of Object.entries(oracle.transforms)) {
      assertClose(
        columnsOf(applyTransform(series, transformOf(spec))),
        expected,
        `${name} ${spec}`,
      );
    }
    const { every, agg, transform, columns } = oracle.chained;
    const chained = applyTransform(resampleSeries(series, { every, agg }), transformOf(transform));
    assertClose(columnsOf(chained), columns, `${name} ${every}/${agg} then ${transform}`);
  });
}

// `.ci/run` installs python3-pandas and sets REPORTD_REQUIRE_PANDAS=1, so in
// CI a missing pandas fails this test instead of skipping it.
const pandasRequired = Deno.env.get("REPORTD_REQUIRE_PANDAS") === "1";
const pandasPresent = await commandSucceeds(PYTHON, ["-c", "import pandas, numpy"]);

Deno.test({
  name: "pandas oracle fixture is what tests/oracle/pandas_oracle.py prints today",
  ignore: !pandasPresent && !pandasRequired,
  async fn() {
    const output = await new Deno.Command(PYTHON, {
      args: [SCRIPT_PATH.pathname],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(output.success, new TextDecoder().decode(output.stderr));
    // Compared as values, so a reformatted file is still current.
    assert.deepEqual(
      JSON.parse(new TextDecoder().decode(output.stdout)),
      JSON.parse(await Deno.readTextFile(FIXTURE_PATH)),
      "tests/fixtures/pandas_oracle.json is stale: run " +
        "/usr/bin/python3 tests/oracle/pandas_oracle.py > tests/fixtures/pandas_oracle.json",
    );
  },
});
