/**
 * Property tests for issue 13: a random series written in a random dialect
 * (delimiter, decimal mark, thousands separator, missing tokens, date format,
 * time zone, encoding, quoting, line endings) reads back as the same series.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { MISSING_TOKENS, type ParseOptions } from "../../services/series/dialect.ts";
import { processUpload } from "../../services/series/process.ts";
import { zoneConverter } from "../../services/series/time_formats.ts";

interface Dialect {
  delimiter: string;
  decimal: string;
  thousands: string | undefined;
  pattern: { format: string; stepMs: number };
  zone: string;
  encoding: "utf-8" | "utf-8-bom" | "utf-16le";
  quoteAll: boolean;
  newline: string;
}

const PATTERNS = [
  { format: "%Y-%m-%d %H:%M", stepMs: 60_000 },
  { format: "%d.%m.%Y %H:%M:%S", stepMs: 1000 },
  { format: "%m/%d/%Y", stepMs: 86_400_000 },
  { format: "%d-%b-%Y %H:%M:%S.%f", stepMs: 1 },
  { format: "%Y-%m-%dT%H:%M:%S%z", stepMs: 1000 },
];
const ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const dialectArbitrary: fc.Arbitrary<Dialect> = fc.record({
  delimiter: fc.constantFrom(",", ";", "\t", "|"),
  decimal: fc.constantFrom(".", ","),
  thousands: fc.constantFrom<string | undefined>(undefined, ",", ".", " ", "'"),
  pattern: fc.constantFrom(...PATTERNS),
  zone: fc.constantFrom(...ZONES),
  encoding: fc.constantFrom("utf-8" as const, "utf-8-bom" as const, "utf-16le" as const),
  quoteAll: fc.boolean(),
  newline: fc.constantFrom("\n", "\r\n"),
}).filter((d) => !(d.decimal === "," && d.delimiter === ",") && d.thousands !== d.decimal);

/** Epoch ms to the wall-clock fields of `zone`. */
function wallFields(ms: number, zone: string): Record<string, number> {
  const parts: Record<string, number> = {};
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  });
  for (const part of format.formatToParts(ms)) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  parts.ms = ((ms % 1000) + 1000) % 1000;
  return parts;
}

const pad = (value: number, width = 2) => String(value).padStart(width, "0");

/**
 * Writes `ms` with `format`: %z patterns in UTC with +00:00, dates as UTC days
 * (a date names a day), others as wall time of `zone`.
 */
function formatTime(ms: number, format: string, zone: string): string {
  const utc = format.includes("%z") || !format.includes("%H");
  const f = wallFields(ms, utc ? "UTC" : zone);
  return format.replace(/%([YmdHMSfbz])/g, (_, letter: string) => {
    switch (letter) {
      case "Y":
        return pad(f.year, 4);
      case "m":
        return pad(f.month);
      case "d":
        return pad(f.day);
      case "H":
        return pad(f.hour);
      case "M":
        return pad(f.minute);
      case "S":
        return pad(f.second);
      case "f":
        return pad(f.ms, 3);
      case "b":
        return MONTHS[f.month - 1];
      default:
        return "+00:00";
    }
  });
}

/** Writes a number with two decimals in the dialect's marks. */
function formatNumber(value: number, dialect: Dialect): string {
  const [whole, fraction] = Math.abs(value).toFixed(2).split(".");
  const grouped = dialect.thousands === undefined
    ? whole
    : whole.replace(/\B(?=(\d{3})+(?!\d))/g, dialect.thousands);
  return `${value < 0 ? "-" : ""}${grouped}${dialect.decimal}${fraction}`;
}

function cell(text: string, dialect: Dialect): string {
  const needsQuotes = text.includes(dialect.delimiter) || text.includes('"');
  return dialect.quoteAll || needsQuotes ? `"${text.replaceAll('"', '""')}"` : text;
}

function encode(text: string, encoding: Dialect["encoding"]): Uint8Array {
  if (encoding === "utf-16le") {
    const bytes = new Uint8Array(2 + text.length * 2);
    bytes[0] = 0xff;
    bytes[1] = 0xfe;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      bytes[2 + i * 2] = code & 0xff;
      bytes[3 + i * 2] = code >> 8;
    }
    return bytes;
  }
  const utf8 = new TextEncoder().encode(text);
  return encoding === "utf-8" ? utf8 : Uint8Array.of(0xef, 0xbb, 0xbf, ...utf8);
}

const seriesArbitrary = fc.record({
  start: fc.integer({ min: 0, max: 4_000_000 }),
  steps: fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 40 }),
  columns: fc.integer({ min: 1, max: 3 }),
  seed: fc.array(fc.option(fc.integer({ min: -1e9, max: 1e9 }), { nil: null }), {
    minLength: 120,
    maxLength: 120,
  }),
  missing: fc.constantFrom(...MISSING_TOKENS),
});

Deno.test("random series written in a random dialect read back the same", async () => {
  await fc.assert(
    fc.asyncProperty(seriesArbitrary, dialectArbitrary, async (series, dialect) => {
      const { stepMs, format } = dialect.pattern;
      // Times from 2019 on, on the pattern's resolution, strictly increasing.
      let t = Date.UTC(2019, 0, 1) + series.start * 60_000;
      t -= t % stepMs;
      const converter = zoneConverter(dialect.zone);
      const times: number[] = [];
      for (const step of series.steps) {
        t += step * stepMs;
        // A wall time that happens twice reads as the earlier instant by design;
        // only instants that survive that rule can round-trip.
        const wall = wallFields(t, dialect.zone);
        const wallMs = Date.UTC(
          wall.year,
          wall.month - 1,
          wall.day,
          wall.hour,
          wall.minute,
          wall.second,
          wall.ms,
        );
        if (!format.includes("%z") && format.includes("%H") && converter.toInstant(wallMs) !== t) {
          continue;
        }
        times.push(t);
      }
      fc.pre(times.length > 0);
      const names = Array.from({ length: series.columns }, (_, c) => `v${c}`);
      const values = names.map((_, c) =>
        times.map((_, r) => {
          const raw = series.seed[(r * 3 + c) % series.seed.length];
          return raw === null ? NaN : raw / 100;
        })
      );
      const lines = [["time", ...names].map((name) => cell(name, dialect)).join(dialect.delimiter)];
      times.forEach((ms, r) => {
        const cells = [formatTime(ms, format, dialect.zone)];
        for (const column of values) {
          cells.push(Number.isNaN(column[r]) ? series.missing : formatNumber(column[r], dialect));
        }
        lines.push(cells.map((text) => cell(text, dialect)).join(dialect.delimiter));
      });
      const body = encode(lines.join(dialect.newline) + dialect.newline, dialect.encoding);
      const parse: ParseOptions = {
        delimiter: dialect.delimiter,
        decimal: dialect.decimal,
        dateFormat: format,
        timeColumn: "time",
      };
      if (dialect.thousands !== undefined) parse.thousands = dialect.thousands;
      if (!format.includes("%z") && format.includes("%H")) parse.timezone = dialect.zone;
      const result = await processUpload(body, { format: "csv", maxPoints: 1000, parse });
      const expectedTimes = format.includes("%H")
        ? times
        : times.map((ms) => ms - (ms % 86_400_000));
      assert.deepEqual([...result.series.timestamps], expectedTimes);
      assert.deepEqual(result.series.names, names);
      result.series.columns.forEach((column, c) => assert.deepEqual([...column], values[c]));
      assert.equal(result.rows.rejected, 0);
      assert.equal(result.dialect?.encoding, dialect.encoding);
    }),
    { numRuns: 150 },
  );
});

Deno.test("without parameters, the delimiter, decimal comma and a day-first format are detected", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(";", "\t"),
      fc.array(fc.integer({ min: -99_999, max: 99_999 }), { minLength: 3, maxLength: 30 }),
      async (delimiter, raw) => {
        // Day 13 or later first: day-first is then the only reading.
        const lines = [`Datum${delimiter}Wert`];
        raw.forEach((value, i) => {
          const day = new Date(Date.UTC(2020, 0, 13 + i));
          const date = `${pad(day.getUTCDate())}.${
            pad(day.getUTCMonth() + 1)
          }.${day.getUTCFullYear()}`;
          lines.push(`${date}${delimiter}${(value / 100).toFixed(2).replace(".", ",")}`);
        });
        const result = await processUpload(new TextEncoder().encode(lines.join("\n")), {
          format: "csv",
          maxPoints: 1000,
        });
        assert.deepEqual([...result.series.columns[0]], raw.map((value) => value / 100));
        assert.equal(result.dialect?.delimiter, delimiter);
        assert.equal(result.dialect?.decimal, ",");
        assert.equal(result.dialect?.time_format, "%d.%m.%Y");
        assert.deepEqual(result.dialect?.detected, [
          "delimiter",
          "time_column",
          "time_format",
          "decimal",
        ]);
      },
    ),
    { numRuns: 60 },
  );
});
