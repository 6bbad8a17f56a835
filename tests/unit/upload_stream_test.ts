// A body processed while it arrives (UploadStream, CsvStreamParser) must give
// exactly what processing the whole body gives, however it is cut.
import assert from "node:assert/strict";
import fc from "fast-check";
import { processUpload, UploadStream } from "../../services/series/process.ts";
import { CsvStreamParser, parseCsvSeries } from "../../services/series/parse_csv.ts";
import { generateCsv } from "../helpers/generate.ts";

const OPTIONS = { format: "csv" as const, maxPoints: 1_000_000 };

/** A CSV long enough to be streamed, with the rows a real file has wrong. */
function messyCsv(rows: number, options: { crlf?: boolean } = {}): string {
  const lines = generateCsv(rows).split("\n");
  for (let i = 1; i < lines.length - 1; i += 997) lines[i] = `${lines[i]},extra`;
  for (let i = 5; i < lines.length - 1; i += 1_999) lines[i] = lines[i].replace(/,.*/, ",n/a");
  for (let i = 7; i < lines.length - 1; i += 2_503) lines[i] = `not a time,${i}`;
  for (let i = 11; i < lines.length - 1; i += 3_001) lines[i] = "";
  lines.splice(4_000, 0, lines[3_000]); // a duplicate timestamp, out of order
  return lines.join(options.crlf ? "\r\n" : "\n");
}

async function streamed(body: Uint8Array, cuts: number[]): Promise<unknown> {
  const stream = new UploadStream({ ...OPTIONS, expectedBytes: body.byteLength });
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    stream.push(body.slice(from, Math.max(from, cut)));
    from = Math.max(from, cut);
  }
  stream.push(body.slice(from));
  return await stream.finish();
}

Deno.test("A CSV parsed piece by piece gives what the whole text gives, rejections and lines included", () => {
  const text = messyCsv(30_000);
  const whole = parseCsvSeries(text, OPTIONS);
  const stream = new CsvStreamParser({ ...OPTIONS, expectedChars: text.length });
  for (let at = 0; at < text.length; at += 65_537) stream.push(text.slice(at, at + 65_537));
  const pieces = stream.finish();
  assert.ok(pieces !== undefined, "A long, quote-free CSV is parsed while it arrives");
  assert.deepEqual(pieces, whole);
  assert.ok(whole.rejected > 0 && whole.rejectedExamples.length > 0);
});

Deno.test("A CSV stream gives up on quotes and on a short head (the caller parses the whole)", () => {
  const quoted = new CsvStreamParser(OPTIONS);
  const text = messyCsv(30_000);
  quoted.push(text.slice(0, 200_000));
  quoted.push('"2020-01-01T00:00:00Z",1\n');
  assert.equal(quoted.finish(), undefined);
  const short = new CsvStreamParser(OPTIONS);
  short.push("timestamp,value\n1577836800,1\n");
  assert.equal(short.finish(), undefined);
});

Deno.test("UploadStream equals processUpload for any cuts of the body", async () => {
  const bodies = [
    new TextEncoder().encode(messyCsv(25_000)),
    new TextEncoder().encode(messyCsv(25_000, { crlf: true })),
    // A UTF-8 byte order mark, multi-byte characters cut anywhere, a quote late on.
    new TextEncoder().encode(
      `\ufeff${messyCsv(12_000).replace("value", "wert_\u00e4\u20ac")}\n"x",1\n`,
    ),
    new TextEncoder().encode("t,v\n2020-01-01,1\n2020-01-02,2\n"),
  ];
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...bodies.keys()),
      fc.array(fc.nat(), { maxLength: 12 }),
      async (index, raw) => {
        const body = bodies[index];
        const cuts = raw.map((n) => n % (body.byteLength + 1));
        assert.deepEqual(await streamed(body, cuts), await processUpload(body, OPTIONS));
      },
    ),
    { numRuns: 25 },
  );
});

Deno.test("UploadStream fails as processUpload fails", async () => {
  const bad = new TextEncoder().encode(`timestamp,value\n${"x,1\n".repeat(50_000)}`);
  const expected = await processUpload(bad, OPTIONS).then(() => undefined, (error) => error);
  assert.ok(expected instanceof Error);
  await assert.rejects(() => streamed(bad, [70_000, 140_000]), {
    name: expected.name,
    message: expected.message,
  });
  const utf16 = Uint8Array.of(0xff, 0xfe, 0x74, 0x00, 0x2c, 0x00, 0x76, 0x00);
  await assert.rejects(() => streamed(utf16, [3]), {
    message: /no data rows|header|time column/i,
  });
});
