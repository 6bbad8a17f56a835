import assert from "node:assert/strict";
import { ReportCache } from "../../services/reports/cache.ts";

Deno.test("ReportCache evicts the least recently used entry when full", () => {
  const cache = new ReportCache<number>({ maxEntries: 2 });
  cache.set("a", 1);
  cache.set("b", 2);
  assert.equal(cache.get("a"), 1); // "a" is now the most recent
  cache.set("c", 3);
  assert.equal(cache.get("b"), undefined);
  assert.equal(cache.get("a"), 1);
  assert.equal(cache.get("c"), 3);
  assert.equal(cache.size, 2);
});

Deno.test("ReportCache drops entries older than the TTL and forgets deleted keys", () => {
  let now = 0;
  const cache = new ReportCache<string>({ ttlMs: 100, now: () => now });
  cache.set("a", "x");
  cache.set("b", "y");
  now = 100;
  assert.equal(cache.get("a"), "x");
  now = 101;
  assert.equal(cache.get("b"), undefined);
  assert.equal(cache.size, 1);
  cache.delete("a");
  assert.equal(cache.get("a"), undefined);
});
