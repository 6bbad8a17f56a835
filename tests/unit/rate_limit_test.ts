import assert from "node:assert/strict";
import fc from "fast-check";
import { clientBucketKey, isIpAddress, RateLimiter } from "../../services/security/rate_limit.ts";

function limiter(options: { perSecond: number; burst: number; maxBuckets?: number }) {
  const clock = { now: 0 };
  const limits = new RateLimiter({
    read: { perSecond: options.perSecond, burst: options.burst },
    write: { perSecond: options.perSecond / 10, burst: Math.max(1, options.burst / 10) },
    maxBuckets: options.maxBuckets,
    now: () => clock.now,
  });
  return { limits, clock };
}

Deno.test("A bucket allows its burst, then refills at its rate", () => {
  const { limits, clock } = limiter({ perSecond: 2, burst: 3 });
  const decisions = [1, 2, 3, 4].map(() => limits.take("read", "a"));
  assert.deepEqual(decisions.map((d) => d?.allowed), [true, true, true, false]);
  assert.deepEqual(decisions.map((d) => d?.remaining), [2, 1, 0, 0]);
  assert.equal(decisions[3]?.retryAfterSeconds, 1);
  assert.equal(decisions[3]?.limit, 3);
  assert.equal(decisions[3]?.resetSeconds, 2, "3 tokens at 2 per second");
  clock.now += 499;
  assert.equal(limits.take("read", "a")?.allowed, false);
  clock.now += 1;
  assert.equal(limits.take("read", "a")?.allowed, true);
});

Deno.test("Reads and writes, and different clients, have separate budgets", () => {
  const { limits } = limiter({ perSecond: 10, burst: 10 });
  assert.equal(limits.take("write", "a")?.allowed, true);
  assert.equal(limits.take("write", "a")?.allowed, false, "write burst is 1");
  assert.equal(limits.take("read", "a")?.allowed, true, "reads are untouched");
  assert.equal(limits.take("write", "b")?.allowed, true, "another client is untouched");
});

Deno.test("A rate of 0 turns the limit off", () => {
  const { limits } = limiter({ perSecond: 0, burst: 1 });
  for (let i = 0; i < 5; i++) assert.equal(limits.take("read", "a"), undefined);
  assert.equal(limits.size("read"), 0);
});

Deno.test("Property: the sustained rate never exceeds burst + rate x time", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 1, max: 20 }),
      fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 200 }),
      (perSecond, burst, gaps) => {
        const { limits, clock } = limiter({ perSecond, burst });
        let allowed = 0;
        for (const gap of gaps) {
          clock.now += gap;
          if (limits.take("read", "a")?.allowed) allowed++;
        }
        return allowed <= burst + Math.floor(perSecond * clock.now / 1000);
      },
    ),
  );
});

Deno.test("Property: bucket memory stays bounded however many clients come", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 200 }),
      fc.array(fc.integer({ min: 0, max: 100_000 }), { maxLength: 2000 }),
      (maxBuckets, clients) => {
        const { limits, clock } = limiter({ perSecond: 1, burst: 5, maxBuckets });
        for (const client of clients) {
          clock.now += 1;
          limits.take("read", `c${client}`);
          if (limits.size("read") > maxBuckets) return false;
        }
        return true;
      },
    ),
  );
});

Deno.test("Idle buckets are dropped before busy ones", () => {
  const { limits, clock } = limiter({ perSecond: 1, burst: 2, maxBuckets: 3 });
  limits.take("read", "idle");
  clock.now += 10_000; // "idle" is full again: forgetting it loses nothing
  limits.take("read", "busy");
  limits.take("read", "busy");
  limits.take("read", "other");
  limits.take("read", "new"); // over the cap: a sweep runs
  assert.equal(limits.size("read") <= 3, true);
  assert.equal(limits.take("read", "busy")?.allowed, false, "busy kept its empty bucket");
});

Deno.test("Clients are bucketed by IPv4 address and IPv6 /64", () => {
  assert.equal(clientBucketKey("192.0.2.1"), "192.0.2.1");
  assert.equal(clientBucketKey("2001:db8:a:b:1::1"), clientBucketKey("2001:db8:a:b:ffff::9"));
  assert.notEqual(clientBucketKey("2001:db8:a:b::1"), clientBucketKey("2001:db8:a:c::1"));
  assert.equal(clientBucketKey("[2001:DB8::1]"), "2001:db8:0:0::/64");
  assert.equal(clientBucketKey("::1"), "0:0:0:0::/64");
  assert.equal(clientBucketKey("fe80::1%eth0"), "fe80:0:0:0::/64");
  assert.equal(clientBucketKey("::ffff:192.0.2.1"), "192.0.2.1");
});

Deno.test("isIpAddress accepts addresses only", () => {
  for (const good of ["192.0.2.1", "0.0.0.0", "::1", "2001:db8::1", "::ffff:192.0.2.1"]) {
    assert.ok(isIpAddress(good), good);
  }
  for (
    const bad of ["", "256.1.1.1", "1.2.3", "example.com", "1::2::3", "unknown", "a".repeat(50)]
  ) {
    assert.ok(!isIpAddress(bad), bad);
  }
});

Deno.test("RateLimiter with a share of 1/3 allows a third of the burst and of the rate", () => {
  let now = 0;
  let share = 1 / 3;
  const limiter = new RateLimiter({
    read: { perSecond: 3, burst: 9 },
    write: { perSecond: 0, burst: 1 },
    now: () => now,
    share: () => share,
  });
  const burst = Array.from({ length: 5 }, () => limiter.take("read", "a")!.allowed);
  assert.deepEqual(burst, [true, true, true, false, false]);
  assert.equal(limiter.take("read", "a")!.limit, 3);
  now += 1000; // one token at 1 per second
  assert.equal(limiter.take("read", "a")!.allowed, true);
  assert.equal(limiter.take("read", "a")!.allowed, false);
  // The instance alone again: the whole budget, refilling at the whole rate.
  share = 1;
  now += 3000;
  const alone = Array.from({ length: 10 }, () => limiter.take("read", "b")!.allowed);
  assert.equal(alone.filter(Boolean).length, 9);
  // A tiny share never refuses everything: one request at least.
  share = 1 / 100;
  assert.equal(limiter.take("read", "c")!.allowed, true);
});
