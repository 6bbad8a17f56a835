/**
 * Every failure the fuzzer (tests/api/fuzz_test.ts) found, as a named test
 * with the exact input, so it stays fixed even when a later run's random
 * requests never happen to try it again.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertProblem } from "../helpers/assert_problem.ts";
import { createSettledReport, postReport, testApp } from "../helpers/test_app.ts";

// Found with seed -119738907: the media type was looked up on a plain object,
// so "constructor" found Object.prototype.constructor and counted as a
// format; the upload streamed in and then broke the jobs table's CHECK
// constraint, which answered 503.
Deno.test("Fuzz regression: Content-Type constructor is a 415, not an accepted format", async () => {
  await using world = await testApp();
  for (const contentType of ["constructor", "hasownproperty", "__proto__", "valueof"]) {
    const res = await postReport(world, '{"timestamps": [1], "columns": {"v": [1]}}', {
      contentType,
    });
    await assertProblem(res, 415);
  }
});

// Found while fixing the one above: parameter names were looked up the same
// way, so "constructor=x" called Object.test and answered 500.
Deno.test("Fuzz regression: a Content-Type parameter named constructor is a 415", async () => {
  await using world = await testApp();
  for (const contentType of ["text/csv; constructor=x", "application/json; tostring=1"]) {
    await assertProblem(await postReport(world, "timestamp,value\n", { contentType }), 415);
  }
});

// Found with the prototype names in the fuzzer's fixed paths: the docs
// assets were looked up on a plain object, so /docs/assets/constructor
// found a function, sent it as the body and answered 500.
Deno.test("Fuzz regression: /docs/assets/<prototype name> is a 404", async () => {
  await using world = await testApp();
  for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"]) {
    await assertProblem(await world.app.request(`/docs/assets/${name}`), 404);
  }
  const real = await world.app.request("/docs/assets/init.js");
  assert.equal(real.status, 200);
  await real.body?.cancel();
});

// Found by the literal-column-name property (injection_test.ts): zod rebuilt
// `columns` by assignment, so a "__proto__" column set the object's prototype
// and vanished; with another column beside it, the report silently lost it.
Deno.test("Regression: a __proto__ column is refused in columnar JSON, kept in CSV and points", async () => {
  await using world = await testApp();
  const columnar = await createSettledReport(
    world,
    '{"timestamps": [1578614400], "columns": {"__proto__": [1], "v": [2]}}',
    { contentType: "application/json" },
  );
  assert.equal(columnar.status, "failed");
  assert.match(columnar.error.detail, /"__proto__" cannot be a key here/);
  const csv = await createSettledReport(world, "timestamp,__proto__\n1578614400,1\n");
  assert.deepEqual(Object.keys(csv.summary.columns), ["__proto__"]);
  const points = await createSettledReport(
    world,
    '{"points": [{"t": 1578614400, "__proto__": 1}]}',
    {
      contentType: "application/json",
    },
  );
  assert.deepEqual(Object.keys(points.summary.columns), ["__proto__"]);
});
