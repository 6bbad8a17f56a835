import assert from "node:assert/strict";
import type { Report, ReportStatus } from "../../web/app/types.ts";
import { ReportWatcher, type WatcherDeps } from "../../web/app/watcher.ts";

/** A clock the test advances by hand: it records what is scheduled and runs it on request. */
class ManualClock {
  timers: { run: () => void; ms: number; cancelled: boolean }[] = [];

  schedule = (run: () => void, ms: number): () => void => {
    const timer = { run, ms, cancelled: false };
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  };

  /** Delays of the timers still due. */
  get due(): number[] {
    return this.timers.filter((timer) => !timer.cancelled).map((timer) => timer.ms);
  }

  /** Runs the next due timer and waits for the round it starts. */
  async fire(watcher: ReportWatcher): Promise<void> {
    const timer = this.timers.find((candidate) => !candidate.cancelled);
    assert.ok(timer, "Nothing is scheduled");
    timer.cancelled = true;
    timer.run();
    await watcher.idle();
  }
}

function report(id: string, status: ReportStatus): Report {
  return {
    id,
    name: id,
    status,
    created_at: "2026-01-01T00:00:00.000Z",
    source: { kind: "upload" },
    rows: null,
    summary: null,
    error: null,
    links: { self: `/v1/reports/${id}`, series: `/v1/reports/${id}/series` },
  };
}

/** Answers each id with the next status of its script; records the ids asked about. */
function scripted(scripts: Record<string, (ReportStatus | Error)[]>) {
  const asked: string[] = [];
  const fetchReport: WatcherDeps["fetchReport"] = (id) => {
    asked.push(id);
    const next = scripts[id].shift();
    if (next === undefined) throw new Error(`No answer left for ${id}`);
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(report(id, next));
  };
  return { asked, fetchReport };
}

function httpError(status: number, retryAfterSeconds?: number): Error {
  return Object.assign(new Error(`HTTP ${status}`), { problem: { status }, retryAfterSeconds });
}

Deno.test("watcher: polls until ready, backing off while nothing changes and stopping after", async () => {
  const clock = new ManualClock();
  const { fetchReport } = scripted({ a: ["queued", "queued", "processing", "ready"] });
  const changes: string[] = [];
  const watcher = new ReportWatcher({
    fetchReport,
    onChange: (changed) => changes.push(changed.status),
    schedule: clock.schedule,
  });
  watcher.watch(report("a", "queued"));
  assert.deepEqual(clock.due, [500]);
  await clock.fire(watcher); // queued: no news
  assert.deepEqual(clock.due, [750]);
  await clock.fire(watcher); // queued again
  assert.deepEqual(clock.due, [1125]);
  await clock.fire(watcher); // processing: a change, so quick again
  assert.deepEqual(clock.due, [500]);
  await clock.fire(watcher); // ready: settled
  assert.deepEqual(changes, ["processing", "ready"]);
  assert.deepEqual(clock.due, [], "no timer is left once nothing is pending");
  assert.equal(watcher.active, false);
  assert.deepEqual(watcher.pending, []);
});

Deno.test("watcher: settled reports are never polled", () => {
  const clock = new ManualClock();
  const watcher = new ReportWatcher({
    fetchReport: () => Promise.reject(new Error("Must not be called")),
    onChange: () => {},
    schedule: clock.schedule,
  });
  watcher.watch(report("a", "ready"));
  watcher.watch(report("b", "failed"));
  assert.deepEqual(clock.due, []);
  assert.equal(watcher.active, false);
});

Deno.test("watcher: a Retry-After is a floor for the next delay, and the report is kept", async () => {
  const clock = new ManualClock();
  const { fetchReport } = scripted({ a: [httpError(503, 7), "ready"] });
  const changes: string[] = [];
  const watcher = new ReportWatcher({
    fetchReport,
    onChange: (changed) => changes.push(changed.status),
    schedule: clock.schedule,
  });
  watcher.watch(report("a", "queued"));
  await clock.fire(watcher);
  assert.deepEqual(clock.due, [7_000]);
  assert.deepEqual(watcher.pending, ["a"]);
  await clock.fire(watcher);
  assert.deepEqual(changes, ["ready"]);
});

Deno.test("watcher: a report that is gone (404) is dropped and reported", async () => {
  const clock = new ManualClock();
  const { fetchReport } = scripted({ a: [httpError(404)] });
  const gone: string[] = [];
  const watcher = new ReportWatcher({
    fetchReport,
    onChange: () => assert.fail("No change expected"),
    onGone: (id) => gone.push(id),
    schedule: clock.schedule,
  });
  watcher.watch(report("a", "processing"));
  await clock.fire(watcher);
  assert.deepEqual(gone, ["a"]);
  assert.deepEqual(clock.due, []);
});

Deno.test("watcher: asks about a few reports per round, least recently asked first", async () => {
  const clock = new ManualClock();
  const ids = ["a", "b", "c", "d", "e", "f"];
  const { asked, fetchReport } = scripted(
    Object.fromEntries(ids.map((id) => [id, ["queued", "queued", "queued"] as ReportStatus[]])),
  );
  const watcher = new ReportWatcher({
    fetchReport,
    onChange: () => {},
    schedule: clock.schedule,
    perRound: 4,
  });
  for (const id of ids) watcher.watch(report(id, "queued"));
  assert.equal(clock.due.length, 1, "watching many reports schedules one round, not one each");
  await clock.fire(watcher);
  assert.deepEqual(asked, ["a", "b", "c", "d"]);
  await clock.fire(watcher);
  assert.deepEqual(asked.slice(4, 6).sort(), ["e", "f"]);
  assert.equal(asked.length, 8);
});

Deno.test("watcher: stop cancels the timer; resume polls at once; unwatching the last one stops", async () => {
  const clock = new ManualClock();
  const { asked, fetchReport } = scripted({ a: ["queued"], b: [] });
  const watcher = new ReportWatcher({ fetchReport, onChange: () => {}, schedule: clock.schedule });
  watcher.watch(report("a", "queued"));
  watcher.stop();
  assert.deepEqual(clock.due, []);
  watcher.resume();
  assert.deepEqual(clock.due, [0]);
  await clock.fire(watcher);
  assert.deepEqual(asked, ["a"]);
  watcher.watch(report("b", "queued"));
  watcher.unwatch("a");
  watcher.unwatch("b");
  assert.deepEqual(clock.due, []);
  assert.equal(watcher.active, false);
});

Deno.test("watcher: a report unwatched while its request runs is not reported", async () => {
  const clock = new ManualClock();
  const answer = Promise.withResolvers<Report>();
  const watcher = new ReportWatcher({
    fetchReport: () => answer.promise,
    onChange: () => assert.fail("No change expected"),
    schedule: clock.schedule,
  });
  watcher.watch(report("a", "queued"));
  const timer = clock.timers[0];
  timer.cancelled = true;
  timer.run();
  watcher.unwatch("a");
  answer.resolve(report("a", "ready"));
  await watcher.idle();
  assert.deepEqual(clock.due, []);
});
