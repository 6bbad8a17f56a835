/**
 * Rate limits: a token bucket per client and per kind of request.
 *
 * A bucket holds up to `burst` tokens and refills at `perSecond`; a request
 * takes one token or is refused. That lets a client send a burst (a page
 * loading, a CI job uploading a batch) while holding its sustained rate to
 * `perSecond`, and one noisy client drains only its own bucket, so others are
 * served meanwhile. Reads and writes have separate buckets, because a write
 * costs far more (a body streamed to disk, a job) than a read.
 *
 * Memory is bounded: a bucket that has refilled to full is indistinguishable
 * from a new one, so it can be dropped at no cost; when more than
 * `maxBuckets` clients are tracked, full buckets are swept and, if that is not
 * enough (a flood from many addresses), the least recently used go first.
 *
 * @module
 */

/** A sustained rate and a burst; `perSecond` 0 turns the limit off. */
export interface RateLimit {
  /** Tokens added per second (may be fractional); 0 means unlimited. */
  perSecond: number;
  /** Most tokens a bucket holds: the largest burst. */
  burst: number;
}

/** The two budgets. */
export type RequestKind = "read" | "write";

/** What {@linkcode RateLimiter.take} decided. */
export interface RateDecision {
  /** True when the request may proceed. */
  allowed: boolean;
  /** The bucket's size (`RateLimit-Limit`). */
  limit: number;
  /** Whole tokens left after this request (`RateLimit-Remaining`). */
  remaining: number;
  /** Seconds until the bucket is full again (`RateLimit-Reset`). */
  resetSeconds: number;
  /** When refused: seconds until one token is there (`Retry-After`). */
  retryAfterSeconds: number;
}

/** Options for {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** Budget for reads (GET, HEAD). */
  read: RateLimit;
  /** Budget for writes (everything else). */
  write: RateLimit;
  /** Most buckets kept per kind (default 10,000). */
  maxBuckets?: number;
  /** Clock in ms, replaceable in tests (default `performance.now`). */
  now?: () => number;
  /**
   * This instance's share of the budgets, 0 to 1 (default: all of it). With
   * N instances behind one balancer each enforces 1/N (services/runtime/instances.ts),
   * so a client spread over them meets the configured rate.
   */
  share?: () => number;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date, in ms. */
  updated: number;
}

/**
 * Token buckets per client, one map per kind of request.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RateLimiter } from "./rate_limit.ts";
 * let now = 0;
 * const limiter = new RateLimiter({
 *   read: { perSecond: 1, burst: 2 },
 *   write: { perSecond: 0, burst: 1 },
 *   now: () => now,
 * });
 * assert.equal(limiter.take("read", "a")?.allowed, true);
 * assert.equal(limiter.take("read", "a")?.allowed, true);
 * assert.equal(limiter.take("read", "a")?.allowed, false);
 * assert.equal(limiter.take("read", "b")?.allowed, true); // another client is served
 * now += 1000;
 * assert.equal(limiter.take("read", "a")?.allowed, true);
 * assert.equal(limiter.take("write", "a"), undefined); // 0 per second: no limit
 * ```
 */
export class RateLimiter {
  readonly #limits: Record<RequestKind, RateLimit>;
  readonly #buckets: Record<RequestKind, Map<string, Bucket>> = {
    read: new Map(),
    write: new Map(),
  };
  readonly #maxBuckets: number;
  readonly #now: () => number;
  readonly #share: () => number;

  /** Sets the budgets; buckets are made as clients show up. */
  constructor(options: RateLimiterOptions) {
    this.#limits = { read: options.read, write: options.write };
    this.#maxBuckets = options.maxBuckets ?? 10_000;
    this.#now = options.now ?? (() => performance.now());
    this.#share = options.share ?? (() => 1);
  }

  // The budget this instance enforces: its share of the rate and of the
  // burst (never below one request, or a small burst would refuse everything).
  #limit(kind: RequestKind): RateLimit {
    const { perSecond, burst } = this.#limits[kind];
    const share = Math.min(1, Math.max(0, this.#share()));
    return { perSecond: perSecond * share, burst: Math.max(1, burst * share) };
  }

  /** Buckets currently kept for `kind` (for tests and metrics). */
  size(kind: RequestKind): number {
    return this.#buckets[kind].size;
  }

  /**
   * Takes a token for `client` from the `kind` budget. Returns undefined when
   * that kind is not limited. A refusal spends nothing, so asking again at
   * once gets the same answer (the fast lane leaves a refusal, with its
   * problem document, to the app's middleware that way).
   */
  take(kind: RequestKind, client: string): RateDecision | undefined {
    if (this.#limits[kind].perSecond <= 0) return undefined;
    const { perSecond, burst } = this.#limit(kind);
    const buckets = this.#buckets[kind];
    const now = this.#now();
    let bucket = buckets.get(client);
    if (bucket === undefined) {
      bucket = { tokens: burst, updated: now };
      if (buckets.size >= this.#maxBuckets) this.#evict(kind, now);
    } else {
      bucket.tokens = refill(bucket, now, { perSecond, burst });
      bucket.updated = now;
      // Re-inserting keeps the map in least-recently-used order for eviction.
      buckets.delete(client);
    }
    buckets.set(client, bucket);
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    return {
      allowed,
      limit: Math.floor(burst),
      remaining: Math.floor(bucket.tokens),
      resetSeconds: Math.ceil((burst - bucket.tokens) / perSecond),
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond)),
    };
  }

  // Drops every full bucket (no information lost), then, if still over a
  // tenth below the cap, the least recently used: those clients merely get a
  // fresh burst. Freeing a tenth at a time keeps sweeps rare under a flood.
  #evict(kind: RequestKind, now: number): void {
    const { perSecond, burst } = this.#limit(kind);
    const buckets = this.#buckets[kind];
    for (const [client, bucket] of buckets) {
      if (refill(bucket, now, { perSecond, burst }) >= burst) {
        buckets.delete(client);
      }
    }
    const target = Math.floor(this.#maxBuckets * 0.9);
    for (const client of buckets.keys()) {
      if (buckets.size <= target) break;
      buckets.delete(client);
    }
  }
}

// The tokens `bucket` holds at `now`: what it had plus what flowed in since,
// up to the burst.
function refill(bucket: Bucket, now: number, limit: RateLimit): number {
  return Math.min(limit.burst, bucket.tokens + (now - bucket.updated) / 1000 * limit.perSecond);
}

/**
 * The bucket key of a client address: IPv4 as is, IPv6 by its /64 prefix
 * (one subscriber usually gets a whole /64, so rotating through it must not
 * buy fresh buckets), IPv4-mapped IPv6 as the IPv4 address.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientBucketKey } from "./rate_limit.ts";
 * assert.equal(clientBucketKey("203.0.113.7"), "203.0.113.7");
 * assert.equal(clientBucketKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
 * assert.equal(clientBucketKey("::ffff:203.0.113.7"), "203.0.113.7");
 * ```
 */
export function clientBucketKey(address: string): string {
  const plain = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "").toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(plain);
  if (mapped !== null) return mapped[1];
  if (!plain.includes(":")) return plain;
  const [head, tail = ""] = plain.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = plain.includes("::") ? (tail === "" ? [] : tail.split(":")) : [];
  const groups = plain.includes("::")
    ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right]
    : left;
  const prefix = groups.slice(0, 4).map((group) => (Number.parseInt(group, 16) || 0).toString(16));
  return `${prefix.join(":")}::/64`;
}

/**
 * Whether `text` looks like an IPv4 or IPv6 address (used to accept an
 * `X-Forwarded-For` entry; anything else is ignored).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isIpAddress } from "./rate_limit.ts";
 * assert.ok(isIpAddress("198.51.100.2") && isIpAddress("2001:db8::1"));
 * assert.ok(!isIpAddress("evil.example") && !isIpAddress("1.2.3.4.5"));
 * ```
 */
export function isIpAddress(text: string): boolean {
  if (/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(text)) return true;
  if (text.length > 45 || !/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(":")) return false;
  const doubleColons = text.split("::").length - 1;
  if (doubleColons > 1) return false;
  const groups = text.split(":").filter((group) => group !== "");
  return groups.length <= 8 && groups.every((group) =>
    /^[0-9a-fA-F]{1,4}$/.test(group) ||
    /^\d{1,3}(\.\d{1,3}){3}$/.test(group)
  );
}
