import assert from "node:assert/strict";
import fc from "fast-check";
import { locateJsonSyntaxError } from "../../services/series/json_syntax.ts";

function reasonAt(text: string): [string, number] | null {
  const error = locateJsonSyntaxError(text);
  return error === null ? null : [error.reason, error.offset];
}

Deno.test("valid JSON has no syntax error", () => {
  for (
    const text of [
      "0",
      " -1.5e+3 ",
      '"a\\u00e9\\n"',
      "[]",
      "{}",
      '{"a": [1, {"b": null}], "c": true, "d": false}',
      "[[[[]]]]",
    ]
  ) {
    assert.equal(locateJsonSyntaxError(text), null, text);
  }
});

Deno.test("syntax errors are located with a reason", () => {
  assert.deepEqual(reasonAt(""), ["Unexpected end of input", 0]);
  assert.deepEqual(reasonAt("[1, 2"), ["Unexpected end of input", 5]);
  assert.deepEqual(reasonAt("[1 2]"), ["Expected ',' or ']'", 3]);
  assert.deepEqual(reasonAt('{"a" 1}'), ["Expected ':'", 5]);
  assert.deepEqual(reasonAt("{a: 1}"), ["Expected a double-quoted property name", 1]);
  assert.deepEqual(reasonAt('{"a": 1,}'), ["Expected a double-quoted property name", 8]);
  assert.deepEqual(reasonAt("[1,]"), ['Unexpected character "]"', 3]);
  assert.deepEqual(reasonAt("01"), ["Bad number", 1]);
  assert.deepEqual(reasonAt("-"), ["Bad number", 0]);
  assert.deepEqual(reasonAt("1."), ["Bad number", 1]);
  assert.deepEqual(reasonAt("NaN"), ['Unexpected character "N"', 0]);
  assert.deepEqual(reasonAt('"abc'), ["Unterminated string", 4]);
  assert.deepEqual(reasonAt('"a\tb"'), ["Unescaped control character in a string", 2]);
  assert.deepEqual(reasonAt('"\\x"'), ["Bad escape in a string", 1]);
  assert.deepEqual(reasonAt('"\\u12g4"'), ["Bad \\u escape in a string", 1]);
  assert.deepEqual(reasonAt("{} []"), ["Unexpected text after the JSON value", 3]);
});

Deno.test("lines and columns are 1-based", () => {
  const error = locateJsonSyntaxError('{\n  "a": 1\n  "b": 2\n}');
  assert.deepEqual(error, { offset: 13, line: 3, column: 3, reason: "Expected ',' or '}'" });
});

Deno.test("property: the locator agrees with JSON.parse on validity", () => {
  fc.assert(
    fc.property(fc.json(), fc.nat(), fc.string({ maxLength: 2 }), (json, at, insert) => {
      assert.equal(locateJsonSyntaxError(json), null);
      const mutated = json.slice(0, at % (json.length + 1)) + insert +
        json.slice(at % (json.length + 1));
      let valid = true;
      try {
        JSON.parse(mutated);
      } catch {
        valid = false;
      }
      assert.equal(locateJsonSyntaxError(mutated) === null, valid, mutated);
    }),
    { numRuns: 3000 },
  );
});
