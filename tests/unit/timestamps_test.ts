import assert from "node:assert/strict";
import fc from "fast-check";
import {
  epochToMs,
  explainTimestamp,
  formatTimestamp,
  MAX_TIMESTAMP_MS,
  MIN_TIMESTAMP_MS,
  parseTimestamp,
  timestampInRange,
} from "../../services/series/timestamps.ts";

function ms(value: unknown): number {
  const result = parseTimestamp(value);
  assert.ok(result.ok, `Expected ${JSON.stringify(value)} to parse: ${JSON.stringify(result)}`);
  return result.ms;
}

function reason(value: unknown): string {
  const result = parseTimestamp(value);
  assert.ok(!result.ok, `Expected ${JSON.stringify(value)} to be rejected`);
  return result.reason;
}

Deno.test("an ISO date is UTC midnight", () => {
  assert.equal(ms("2020-01-10"), Date.UTC(2020, 0, 10));
  assert.equal(ms("0000-01-01"), MIN_TIMESTAMP_MS);
  assert.equal(ms("1969-12-31"), -86_400_000);
  assert.equal(ms("2000-02-29"), Date.UTC(2000, 1, 29));
});

Deno.test("date-times with Z accept minutes, seconds and any fraction digits", () => {
  assert.equal(ms("2020-01-10T12:30Z"), Date.UTC(2020, 0, 10, 12, 30));
  assert.equal(ms("2020-01-10T12:30:45Z"), Date.UTC(2020, 0, 10, 12, 30, 45));
  assert.equal(ms("2020-01-10T12:30:45.1Z"), Date.UTC(2020, 0, 10, 12, 30, 45, 100));
  assert.equal(ms("2020-01-10T12:30:45.123Z"), Date.UTC(2020, 0, 10, 12, 30, 45, 123));
  assert.equal(ms("2020-01-10T12:30:45.123456Z"), Date.UTC(2020, 0, 10, 12, 30, 45, 123));
  assert.equal(
    ms("2020-01-10T12:30:45.12345678901234567890Z"),
    Date.UTC(2020, 0, 10, 12, 30, 45, 123),
  );
});

Deno.test("sub-millisecond fractions round to the nearest millisecond", () => {
  assert.equal(ms("2020-01-10T12:30:45.1235Z"), Date.UTC(2020, 0, 10, 12, 30, 45, 124));
  assert.equal(ms("2020-01-10T23:59:59.9999Z"), Date.UTC(2020, 0, 11));
});

Deno.test("a space, lower-case t and lower-case z are accepted", () => {
  const expected = Date.UTC(2020, 0, 10, 12, 30, 45);
  assert.equal(ms("2020-01-10 12:30:45Z"), expected);
  assert.equal(ms("2020-01-10t12:30:45z"), expected);
});

Deno.test("offsets with and without a colon shift to UTC", () => {
  assert.equal(ms("2020-01-10T12:30+02:00"), Date.UTC(2020, 0, 10, 10, 30));
  assert.equal(ms("2020-01-10T12:30:00-0530"), Date.UTC(2020, 0, 10, 18, 0));
  assert.equal(ms("2020-01-10 00:15:00.5+01:00"), Date.UTC(2020, 0, 9, 23, 15, 0, 500));
  assert.equal(ms("2020-01-10T12:30:00+00:00"), ms("2020-01-10T12:30:00Z"));
});

Deno.test("surrounding spaces and tabs are ignored", () => {
  assert.equal(ms(" \t2020-01-10T12:30Z \t"), Date.UTC(2020, 0, 10, 12, 30));
  assert.equal(ms("  1578659400 "), 1578659400000);
});

Deno.test("a date-time without a zone is rejected, not guessed", () => {
  assert.equal(reason("2020-01-10T12:30"), "Date-time needs Z or an offset");
  assert.equal(reason("2020-01-10 12:30:45.123"), "Date-time needs Z or an offset");
});

Deno.test("epoch numbers below 1e11 are seconds, from 1e11 milliseconds", () => {
  assert.equal(ms(1578659400), 1578659400000);
  assert.equal(ms(1578659400.5), 1578659400500);
  assert.equal(ms(-86400), -86_400_000);
  assert.equal(ms(0), 0);
  assert.equal(ms(99_999_999_999), 99_999_999_999_000);
  assert.equal(ms(1e11), 1e11);
  assert.equal(ms(1578659400123), 1578659400123);
  assert.equal(ms(-1e11), -1e11);
});

Deno.test("numeric strings are epoch numbers too", () => {
  assert.equal(ms("1578659400"), 1578659400000);
  assert.equal(ms("1578659400123"), 1578659400123);
  assert.equal(ms("1.5e9"), 1.5e12);
  assert.equal(ms("-1.25"), -1250);
  assert.equal(ms("+60"), 60_000);
});

Deno.test("calendar fields are range-checked", () => {
  assert.equal(reason("2020-13-01"), "Month must be 01 to 12");
  assert.equal(reason("2020-00-01"), "Month must be 01 to 12");
  assert.equal(reason("2020-01-32"), "Day must be 01 to 31 in 2020-01");
  assert.equal(reason("2020-04-31"), "Day must be 01 to 30 in 2020-04");
  assert.equal(reason("2020-01-00"), "Day must be 01 to 31 in 2020-01");
  assert.equal(reason("2021-02-29"), "Day must be 01 to 28 in 2021-02");
  assert.equal(reason("1900-02-29"), "Day must be 01 to 28 in 1900-02");
  assert.equal(ms("2024-02-29"), Date.UTC(2024, 1, 29));
  assert.equal(reason("2020-01-10T24:00Z"), "Hour must be 00 to 23");
  assert.equal(reason("2020-01-10T12:60Z"), "Minute must be 00 to 59");
  assert.equal(reason("2020-01-10T12:30:60Z"), "Second must be 00 to 59");
});

Deno.test("malformed offsets are rejected", () => {
  const offset = /^Offset must be/;
  assert.match(reason("2020-01-10T12:30+24:00"), offset);
  assert.match(reason("2020-01-10T12:30+05:60"), offset);
  assert.match(reason("2020-01-10T12:30+05"), offset);
  assert.match(reason("2020-01-10T12:30+05:300"), offset);
  assert.match(reason("2020-01-10T12:30+0a:00"), offset);
});

Deno.test("other text is rejected with a reason", () => {
  const notATimestamp = "Not an ISO-8601 date or date-time, or a Unix epoch number";
  for (
    const text of [
      "abc",
      "2020/01/10",
      "2020-1-10",
      "2020-01-1",
      "2020-01-10T",
      "2020-01-10T12",
      "2020-01-10T12:3Z",
      "2020-01-10X12:30Z",
      "2020-01-10T12:30:4Z",
      "2020-01-10T12:30:45.Z",
      "2020-01-10T12:30ZZ",
      "2020-01-10T12:30:45Zjunk",
      "Infinity",
      "0x10",
      "Jan 10 2020",
    ]
  ) {
    assert.equal(reason(text), notATimestamp, text);
  }
  assert.equal(reason(""), "Timestamp is empty");
  assert.equal(reason("   "), "Timestamp is empty");
});

Deno.test("values that are neither strings nor numbers are rejected", () => {
  for (const value of [null, undefined, true, {}, []]) {
    assert.equal(reason(value), "Timestamp must be a string or a number");
  }
});

Deno.test("instants outside the years 0000 to 9999 are rejected", () => {
  const outOfRange = "Timestamp is outside the years 0000 to 9999";
  assert.equal(reason(MAX_TIMESTAMP_MS + 1), outOfRange);
  assert.equal(reason(1e16), outOfRange);
  assert.equal(reason("9999-12-31T23:30-01:00"), outOfRange);
  assert.equal(reason("0000-01-01T00:30+01:00"), outOfRange);
  assert.equal(ms("9999-12-31T23:59:59.999Z"), MAX_TIMESTAMP_MS);
  assert.equal(reason(Infinity), "Not an ISO-8601 date or date-time, or a Unix epoch number");
  assert.ok(Number.isNaN(epochToMs(NaN)));
});

Deno.test("timestampInRange reads only its range of a larger string", () => {
  const text = "x,2020-01-10T12:30:00Z,5";
  assert.equal(timestampInRange(text, { start: 2, end: 22 }), Date.UTC(2020, 0, 10, 12, 30));
  // Cut before the zone: the "Z" right after the range must not be seen.
  assert.ok(Number.isNaN(timestampInRange(text, { start: 2, end: 21 })));
  assert.equal(explainTimestamp("2020-01-10T12:30:00"), "Date-time needs Z or an offset");
  // Cut inside the date: digits after the range must not be read.
  assert.ok(Number.isNaN(timestampInRange("2020-01-10", { start: 0, end: 9 })));
});

Deno.test("explainTimestamp returns an empty string for accepted text", () => {
  assert.equal(explainTimestamp("2020-01-10"), "");
  assert.equal(explainTimestamp("2020-01-10T25:00Z"), "Hour must be 00 to 23");
});

Deno.test("formatTimestamp matches Date#toISOString", () => {
  for (
    const value of [0, -1, 1, MIN_TIMESTAMP_MS, MAX_TIMESTAMP_MS, Date.UTC(2000, 1, 29, 23, 59)]
  ) {
    assert.equal(formatTimestamp(value), new Date(value).toISOString());
  }
  // Outside four-digit years and for fractional input it defers to Date.
  assert.equal(formatTimestamp(MAX_TIMESTAMP_MS + 1), "+010000-01-01T00:00:00.000Z");
  assert.equal(formatTimestamp(1.5), new Date(1.5).toISOString());
});

Deno.test("property: formatTimestamp agrees with toISOString and parses back", () => {
  fc.assert(
    fc.property(fc.integer({ min: MIN_TIMESTAMP_MS, max: MAX_TIMESTAMP_MS }), (value) => {
      const text = formatTimestamp(value);
      assert.equal(text, new Date(value).toISOString());
      assert.equal(ms(text), value);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("property: date-time fields give the same instant as Date.UTC", () => {
  const pad = (value: number, width = 2) => String(value).padStart(width, "0");
  fc.assert(
    fc.property(
      fc.date({
        min: new Date(MIN_TIMESTAMP_MS),
        max: new Date(MAX_TIMESTAMP_MS),
        noInvalidDate: true,
      }),
      fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
      fc.boolean(),
      (date, offsetMinutes, colon) => {
        // Local wall time at that offset, formatted by hand.
        const local = new Date(date.getTime() + offsetMinutes * 60_000);
        if (local.getUTCFullYear() < 0 || local.getUTCFullYear() > 9999) return;
        const sign = offsetMinutes < 0 ? "-" : "+";
        const absolute = Math.abs(offsetMinutes);
        const text = `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${
          pad(local.getUTCDate())
        }T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}.${
          pad(local.getUTCMilliseconds(), 3)
        }${sign}${pad(Math.floor(absolute / 60))}${colon ? ":" : ""}${pad(absolute % 60)}`;
        assert.equal(ms(text), date.getTime(), text);
      },
    ),
    { numRuns: 2000 },
  );
});
