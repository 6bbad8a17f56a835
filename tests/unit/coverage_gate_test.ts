import assert from "node:assert/strict";
import { dropUnreadable } from "../../.ci/coverage_gate.ts";

Deno.test("The coverage gate leaves out coverage files cut short, and only those", async () => {
  const dir = await Deno.makeTempDir({ prefix: "reportd-coverage-" });
  try {
    await Deno.mkdir(`${dir}/sqlite`);
    await Deno.writeTextFile(`${dir}/sqlite/whole.json`, '{"result": [{"url": "x"}]}\n');
    await Deno.writeTextFile(`${dir}/sqlite/empty.json`, "");
    await Deno.writeTextFile(`${dir}/sqlite/cut.json`, '{"result": [{"url": "x"');
    await Deno.writeTextFile(`${dir}/sqlite/index.html`, "<p>");
    const dropped = await dropUnreadable(dir);
    assert.deepEqual(dropped.sort(), [`${dir}/sqlite/cut.json`, `${dir}/sqlite/empty.json`]);
    const left = [];
    for await (const entry of Deno.readDir(`${dir}/sqlite`)) left.push(entry.name);
    assert.deepEqual(left.sort(), ["index.html", "whole.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
