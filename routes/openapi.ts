/**
 * Small builders shared by the route definitions, so every operation documents
 * its problem responses the same way.
 *
 * @module
 */
import { PROBLEM_CONTENT_TYPE } from "./middleware/problem.ts";
import { ProblemSchema } from "./schemas.ts";

/** An OpenAPI response object for a problem document with this description. */
export function problemContent(description: string): {
  description: string;
  content: { [PROBLEM_CONTENT_TYPE]: { schema: typeof ProblemSchema } };
} {
  return { description, content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } } };
}
