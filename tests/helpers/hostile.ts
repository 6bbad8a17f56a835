/**
 * fast-check generators of hostile HTTP input: the strings, bodies, headers
 * and paths an attacker (or a broken client) throws at a public service.
 *
 * Every request they describe can be built with `new Request` (whose own
 * checks would otherwise reject it before reportd sees it): header values are
 * Latin-1 without CR, LF or NUL, methods are tokens other than the three that
 * fetch forbids.
 *
 * @module
 */
import fc from "fast-check";

/** Strings that have broken parsers, databases and loggers before. */
export const NASTY_STRINGS: readonly string[] = [
  "",
  " ",
  "'",
  '"',
  "' OR '1'='1",
  "'; DROP TABLE reports; --",
  "1; DELETE FROM api_keys",
  '" OR 1=1 --',
  "') UNION SELECT key_sha256, name FROM api_keys --",
  "%",
  "_",
  "\\",
  "%00",
  "\u0000",
  "\uFEFF",
  "\uFEFFtimestamp",
  "\u202Eevil",
  "\u{1F600}\u{1F680}",
  "\u{1D7D8}\u{1D7D9}\u{1D7DA}",
  "\u03A9\u2248\u00E7\u221A\u222B",
  "NaN",
  "-NaN",
  "Infinity",
  "-Infinity",
  "1e309",
  "-1e309",
  "-0",
  "0x10",
  "1_000",
  "9007199254740993",
  "-9223372036854775809",
  "2020-02-30",
  "2020-01-01T25:00:00Z",
  "1969-12-31T23:59:59.999Z",
  "+275760-09-13T00:00:00.000Z",
  "../../../../etc/passwd",
  "..%2F..%2Fetc%2Fpasswd",
  "${jndi:ldap://x}",
  "{{7*7}}",
  "<script>alert(1)</script>",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "null",
  "undefined",
  "true",
  "[]",
  "{}",
];

/** A string that is usually nasty, sometimes random, sometimes long. */
export function hostileString(options: { maxLength?: number } = {}): fc.Arbitrary<string> {
  const maxLength = options.maxLength ?? 300;
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
    { weight: 3, arbitrary: fc.string({ maxLength: Math.min(maxLength, 40) }) },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: Math.min(maxLength, 40) }) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom(...NASTY_STRINGS), fc.integer({ min: 1, max: 50 }))
        .map(([text, times]) => text.repeat(times).slice(0, maxLength)),
    },
    { weight: 1, arbitrary: fc.integer().map(String) },
    { weight: 1, arbitrary: fc.double().map(String) },
  );
}

/** A header value `new Request` accepts: Latin-1, no CR, LF or NUL. */
export function headerValue(): fc.Arbitrary<string> {
  return hostileString({ maxLength: 600 }).map((text) =>
    Array.from(text, (char) => {
      const code = char.codePointAt(0) ?? 32;
      return code < 32 || code > 255 ? String.fromCharCode(33 + (code % 94)) : char;
    }).join("").trim()
  );
}

const CSV_SAMPLE = "timestamp,value,volume\n2020-01-01,1,100\n2020-01-02,2,\n2020-01-03,3,300\n";

/** Request bodies: truncated, binary, nested, huge, numeric edge cases, odd text. */
export function hostileBody(): fc.Arbitrary<string | Uint8Array> {
  return fc.oneof(
    // Truncated CSV: a valid upload cut anywhere.
    fc.nat({ max: CSV_SAMPLE.length }).map((end) => CSV_SAMPLE.slice(0, end)),
    // Binary garbage, sometimes behind a valid header.
    fc.uint8Array({ maxLength: 2048 }),
    fc.uint8Array({ maxLength: 2048 }).map((bytes) =>
      new Uint8Array([...new TextEncoder().encode("timestamp,value\n"), ...bytes])
    ),
    // Deeply nested JSON, closed or not.
    fc.tuple(fc.integer({ min: 1, max: 100_000 }), fc.boolean(), fc.constantFrom("[", '{"a":'))
      .map(([depth, closed, open]) =>
        open.repeat(depth) + (closed ? "1" + (open === "[" ? "]" : "}").repeat(depth) : "")
      ),
    // Huge JSON: long columns of numbers (a few hundred KB).
    fc.integer({ min: 1, max: 40_000 }).map((n) =>
      JSON.stringify({
        timestamps: Array.from({ length: n }, (_, i) => 1_577_836_800 + i),
        columns: { v: Array.from({ length: n }, (_, i) => i % 7 === 0 ? null : i / 3) },
      })
    ),
    // Numbers JSON.parse turns into Infinity or -0, and strings that look like numbers.
    fc.constantFrom("1e309", "-1e309", "-0", '"NaN"', "NaN", "Infinity", "1e-400").map((n) =>
      `{"timestamps": [${n}, 1578700800], "columns": {"v": [${n}, "${n}"]}}`
    ),
    fc.constantFrom("1e309", "-0", "NaN", "Infinity", "0x1F", "1,5", " 2 ").map((n) =>
      `timestamp,value\n2020-01-01,${n}\n${n},1\n`
    ),
    // Unicode, BOM, CR-only lines, NUL bytes.
    fc.constantFrom(
      "\uFEFFtimestamp,value\n2020-01-01,1\n",
      "\uFEFF\uFEFFtimestamp,value\r2020-01-01,1\r2020-01-02,2\r",
      "timestamp,v\u00E4lue,\u{1F600}\n2020-01-01,1,2\n",
      "time\u0000stamp,value\n2020-01-01,1\u0000\n",
      "timestamp,value\r\r\r\n\n\n2020-01-01,1",
      '"timestamp","value"\n"2020-01-01","1"\n"2020-01-02,"2\n',
      '{"points": [{"t": "2020-01-01", "\uFEFF": 1}]}',
      '{"name": "\u202Eevil", "timestamps": [1], "columns": {"__proto__": [1]}}',
    ),
    // 10,000 columns.
    fc.integer({ min: 1, max: 10_000 }).map((columns) => {
      const names = Array.from({ length: columns }, (_, i) => `c${i}`);
      return `timestamp,${names.join(",")}\n2020-01-01,${names.map(() => "1").join(",")}\n`;
    }),
    // Very long lines.
    fc.integer({ min: 1_000, max: 300_000 }).map((length) =>
      `timestamp,value\n2020-01-01,${"9".repeat(length)}\n`
    ),
    // Random JSON values of every shape.
    fc.jsonValue({ maxDepth: 6 }).map((value) => JSON.stringify(value)),
    // Injection attempts in names and column names.
    fc.tuple(fc.constantFrom(...NASTY_STRINGS), fc.constantFrom(...NASTY_STRINGS)).map((
      [name, column],
    ) => JSON.stringify({ name, timestamps: [1578614400], columns: { [column]: [1] } })),
    hostileString().map((text) => `timestamp,${text.replaceAll("\n", " ")}\n2020-01-01,1\n`),
  );
}
