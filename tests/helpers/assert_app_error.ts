/**
 * Assertion helper for unit tests: a call throws an {@linkcode AppError} of a
 * given kind.
 *
 * @module
 */

import assert from "node:assert/strict";
import { AppError, type ErrorKind } from "../../services/errors.ts";

/** What the thrown error must match besides its kind. */
export interface AppErrorExpectation {
  /** A pattern the message must match. */
  message?: RegExp;
  /** The exact field errors. */
  errors?: { path: string; message: string | RegExp }[];
}

/**
 * Asserts that `fn` throws an `AppError` of `kind` matching `expected`, and
 * returns it for further checks.
 */
export function assertAppError(
  fn: () => unknown,
  kind: ErrorKind,
  expected: AppErrorExpectation = {},
): AppError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  return checkAppError(thrown, kind, expected);
}

/** Like {@linkcode assertAppError} for an async `fn` that must reject. */
export async function assertAppErrorAsync(
  fn: () => Promise<unknown>,
  kind: ErrorKind,
  expected: AppErrorExpectation = {},
): Promise<AppError> {
  let thrown: unknown;
  try {
    await fn();
  } catch (error) {
    thrown = error;
  }
  return checkAppError(thrown, kind, expected);
}

function checkAppError(thrown: unknown, kind: ErrorKind, expected: AppErrorExpectation): AppError {
  assert.ok(thrown instanceof AppError, `Expected an AppError, got ${String(thrown)}`);
  assert.equal(thrown.kind, kind, `Unexpected kind for: ${thrown.message}`);
  if (expected.message) assert.match(thrown.message, expected.message);
  if (expected.errors) {
    const actual = thrown.errors ?? [];
    assert.equal(actual.length, expected.errors.length, JSON.stringify(actual));
    expected.errors.forEach((error, i) => {
      assert.equal(actual[i].path, error.path);
      if (typeof error.message === "string") assert.equal(actual[i].message, error.message);
      else assert.match(actual[i].message, error.message);
    });
  }
  return thrown;
}
