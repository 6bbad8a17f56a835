import assert from "node:assert/strict";
import { heartbeatInstance, removeInstance } from "../../db/instances_repo.ts";
import { contractTest } from "../helpers/engines.ts";

const at = (seconds: number) => new Date(Date.UTC(2020, 0, 1, 0, 0, seconds)).toISOString();

contractTest(
  "Live instances are counted by heartbeat; silent and removed ones drop out",
  async (db) => {
    assert.equal(await heartbeatInstance(db, { id: "a", now: at(0), staleBefore: at(-15) }), 1);
    assert.equal(await heartbeatInstance(db, { id: "b", now: at(1), staleBefore: at(-14) }), 2);
    assert.equal(await heartbeatInstance(db, { id: "c", now: at(2), staleBefore: at(-13) }), 3);
    // a beats again; b and c are still within 15 s.
    assert.equal(await heartbeatInstance(db, { id: "a", now: at(10), staleBefore: at(-5) }), 3);
    // 20 s on, only a and c beat: b (last heard at 1 s) is stale.
    assert.equal(await heartbeatInstance(db, { id: "c", now: at(18), staleBefore: at(3) }), 2);
    await removeInstance(db, "c");
    assert.equal(await heartbeatInstance(db, { id: "a", now: at(19), staleBefore: at(4) }), 1);
    await removeInstance(db, "missing");
  },
);
