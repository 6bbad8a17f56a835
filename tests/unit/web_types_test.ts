/**
 * The page's wire types (web/app/types.ts) against the API's zod schemas.
 *
 * The page keeps its own copy of the types so that browser code is checked
 * without the server's modules; these assignments are what keeps the copy
 * honest. They are checked by the type checker: if the API stops sending a
 * field the page reads, or changes its type, this file no longer compiles and
 * `deno task check` and `deno task test` fail.
 */
import assert from "node:assert/strict";
import type { z } from "@hono/zod-openapi";
import type { ProblemSchema, ReportListSchema, ReportSchema } from "../../routes/schemas.ts";
import type { ColumnStats, Problem, Report, ReportList } from "../../web/app/types.ts";

/** `true` when every `From` is a `To`, else `false`. */
type Assignable<From, To> = [From] extends [To] ? true : false;

const reportFits: Assignable<z.infer<typeof ReportSchema>, Report> = true;
const listFits: Assignable<z.infer<typeof ReportListSchema>, ReportList> = true;
const problemFits: Assignable<z.infer<typeof ProblemSchema>, Problem> = true;

// The analytics fields are optional in the page's types (older reports lack
// them), so the check above would not notice the API renaming one: check
// that every one the page reads is a field the API describes.
type ApiSummary = NonNullable<z.infer<typeof ReportSchema>["summary"]>;
type ApiColumn = ApiSummary["columns"][string];
type PageColumnKeys = keyof ColumnStats;
type PageSummaryKeys = "correlation" | "null_reasons" | "periods_per_year";
const columnKeysExist: Assignable<PageColumnKeys, keyof ApiColumn> = true;
const summaryKeysExist: Assignable<PageSummaryKeys, keyof ApiSummary> = true;

Deno.test("the page's wire types accept everything the API's schemas describe", () => {
  // The real check happened at compile time; this records that it ran.
  assert.deepEqual([reportFits, listFits, problemFits], [true, true, true]);
  assert.deepEqual([columnKeysExist, summaryKeysExist], [true, true]);
});

Deno.test("the type check would notice a field the API does not send", () => {
  // A negative control for the helper itself: a type missing a field the
  // page requires is not assignable.
  const missing: Assignable<{ id: string }, Pick<Report, "id" | "name">> = false;
  assert.equal(missing, false);
});
