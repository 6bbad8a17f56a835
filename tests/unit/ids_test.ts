import assert from "node:assert/strict";
import fc from "fast-check";
import { isUuid, uuidv7 } from "../../services/ids.ts";

Deno.test("uuidv7 encodes the time, version 7 and the RFC 9562 variant", () => {
  const id = uuidv7({ now: Date.UTC(2200, 0, 1) });
  assert.ok(isUuid(id));
  assert.equal(id[14], "7");
  assert.match(id[19], /[89ab]/);
  assert.equal(parseInt(id.slice(0, 8) + id.slice(9, 13), 16), Date.UTC(2200, 0, 1));
});

Deno.test("uuidv7 is strictly increasing, within a millisecond and if the clock steps back", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 40 }), { minLength: 2 }), (times) => {
      const ids = times.map((now) => uuidv7({ now: now + Date.UTC(2031, 0, 1) }));
      for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1] < ids[i]);
    }),
  );
  const burst = Array.from({ length: 5000 }, () => uuidv7({ now: Date.UTC(2040, 0, 1) }));
  assert.deepEqual([...burst].sort(), burst);
  assert.equal(new Set(burst).size, burst.length);
});

Deno.test("isUuid accepts only lowercase canonical UUIDs", () => {
  assert.ok(isUuid("0190f5b8-3c4e-7a1b-8f00-5c2d9e6b1a20"));
  assert.ok(!isUuid("0190F5B8-3C4E-7A1B-8F00-5C2D9E6B1A20"));
  assert.ok(!isUuid("0190f5b83c4e7a1b8f005c2d9e6b1a20"));
  assert.ok(!isUuid("' OR 1=1 --"));
});
