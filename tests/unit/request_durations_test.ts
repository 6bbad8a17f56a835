import assert from "node:assert/strict";
import fc from "fast-check";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { DURATION_BUCKETS } from "../../services/telemetry/http.ts";
import { PullMetricReader } from "../../services/telemetry/metrics.ts";
import { RequestDurations } from "../../services/telemetry/request_durations.ts";

interface Recorded {
  seconds: number;
  method: string;
  route: string | undefined;
  status: number;
}

/** Data points as comparable values, sorted by their attributes. */
// deno-lint-ignore no-explicit-any
function points(collected: any): unknown[] {
  const metric = collected.resourceMetrics.scopeMetrics.flatMap(
    // deno-lint-ignore no-explicit-any
    (scope: any) => scope.metrics,
  ).find(
    // deno-lint-ignore no-explicit-any
    (candidate: any) => candidate.descriptor.name === "http.server.request.duration",
  );
  if (metric === undefined) return [];
  // deno-lint-ignore no-explicit-any
  return metric.dataPoints.map((point: any) => ({
    attributes: point.attributes,
    counts: point.value.buckets.counts,
    boundaries: point.value.buckets.boundaries,
    count: point.value.count,
    sum: point.value.sum,
    min: point.value.min,
    max: point.value.max,
  })).sort((a: { attributes: object }, b: { attributes: object }) =>
    JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes))
  );
}

Deno.test("RequestDurations collects what the SDK's explicit-bucket histogram would", async () => {
  const request = fc.record({
    // Boundaries themselves, values between them, zero and beyond the last.
    seconds: fc.oneof(
      fc.constantFrom(0, ...DURATION_BUCKETS, 11, 1e6),
      fc.double({ min: 0, max: 20, noNaN: true }),
    ),
    method: fc.constantFrom("GET", "POST", "_OTHER"),
    route: fc.constantFrom(undefined, "/healthz", "/v1/reports/:id"),
    status: fc.constantFrom(200, 202, 404, 429, 500, 503),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(request, { maxLength: 60 }), async (requests: Recorded[]) => {
      const reader = new PullMetricReader();
      const provider = new MeterProvider({ readers: [reader] });
      const histogram = provider.getMeter("reportd").createHistogram(
        "http.server.request.duration",
        {
          description: "Duration of HTTP server requests",
          unit: "s",
          advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
        },
      );
      const ours = new RequestDurations({
        boundaries: DURATION_BUCKETS,
        scope: { name: "reportd" },
      });
      for (const { seconds, method, route, status } of requests) {
        const attributes: Record<string, string | number> = {
          "http.request.method": method,
          "http.response.status_code": status,
        };
        if (route !== undefined) attributes["http.route"] = route;
        if (status >= 500) attributes["error.type"] = String(status);
        histogram.record(seconds, attributes);
        ours.record(seconds, { method, route, status });
      }
      assert.deepEqual(points(await ours.collect()), points(await reader.collect()));
      await provider.shutdown();
    }),
    { numRuns: 200 },
  );
});

Deno.test("RequestDurations is cumulative and keeps one series per method, route and status", async () => {
  const durations = new RequestDurations({ boundaries: [0.1, 1], scope: { name: "reportd" } });
  assert.deepEqual((await durations.collect()).resourceMetrics.scopeMetrics, []);
  durations.record(0.1, { method: "GET", route: "/healthz", status: 200 });
  durations.record(0.5, { method: "GET", route: "/healthz", status: 200 });
  durations.record(NaN, { method: "GET", route: "/healthz", status: 200 });
  const first = points(await durations.collect());
  assert.equal(first.length, 1);
  assert.deepEqual(first[0], {
    attributes: {
      "http.request.method": "GET",
      "http.response.status_code": 200,
      "http.route": "/healthz",
    },
    counts: [1, 1, 0],
    boundaries: [0.1, 1],
    count: 2,
    sum: 0.6,
    min: 0.1,
    max: 0.5,
  });
  durations.record(2, { method: "GET", route: "/healthz", status: 200 });
  durations.record(2, { method: "GET", route: undefined, status: 404 });
  const second = points(await durations.collect());
  assert.equal(second.length, 2);
  const healthz = second.find((point) =>
    (point as { attributes: Record<string, unknown> }).attributes["http.route"] === "/healthz"
  );
  assert.deepEqual((healthz as { counts: number[] }).counts, [1, 1, 1]);
});
