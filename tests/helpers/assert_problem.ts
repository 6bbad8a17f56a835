/**
 * Asserts that a response is an RFC 9457 problem document of the expected status.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ProblemDocument } from "../../routes/middleware/problem.ts";

/** Checks status, media type and required members; returns the parsed document. */
export async function assertProblem(
  response: Response,
  status: number,
): Promise<ProblemDocument> {
  assert.equal(response.status, status);
  assert.equal(response.headers.get("content-type"), "application/problem+json");
  const text = await response.text();
  assert.doesNotMatch(text, /\bat .*\.ts:\d+/, "A stack trace leaked into the response");
  const problem = JSON.parse(text) as ProblemDocument;
  assert.equal(problem.status, status);
  assert.match(problem.type, /^\/problems\/[a-z-]+$/);
  assert.equal(typeof problem.title, "string");
  assert.equal(typeof problem.instance, "string");
  return problem;
}
