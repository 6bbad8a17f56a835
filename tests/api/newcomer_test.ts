/**
 * The small things that misled a newcomer (issue 12, item 12), each held in
 * place: a JSON upload's name from the first answer on, the docs page's
 * icon, task descriptions, a screenshot task that leaves tracked files
 * alone, and README commands and links that point at files that exist.
 *
 * @module
 */
import assert from "node:assert/strict";
import denoConfig from "../../deno.json" with { type: "json" };
import { REPO_ROOT } from "../helpers/server_process.ts";
import { postReport, testApp } from "../helpers/test_app.ts";

Deno.test("A JSON upload's name shows in the 202 and the list before processing", async () => {
  await using world = await testApp({ startQueue: false });
  const small = await postReport(
    world,
    '{"name": "Boiler room", "timestamps": [0, 60], "columns": {"v": [1, 2]}}',
    { contentType: "application/json" },
  );
  assert.equal(small.status, 202);
  assert.equal((await small.json()).name, "Boiler room");

  // Larger than the head the upload path reads first: the name comes first.
  const timestamps = Array.from({ length: 20_000 }, (_, i) => i * 60);
  const big = await postReport(
    world,
    JSON.stringify({ name: "Big one", timestamps, columns: { v: timestamps } }),
    { contentType: "application/json" },
  );
  assert.equal(big.status, 202);
  assert.equal((await big.json()).name, "Big one");

  const list = await (await world.app.request("/v1/reports")).json();
  assert.deepEqual(list.items.map((item: { name: string }) => item.name).sort(), [
    "Big one",
    "Boiler room",
  ]);
  // ?name= still wins.
  const named = await postReport(world, '{"name": "body", "timestamps": [0], "columns": {}}', {
    contentType: "application/json",
    query: "?name=query",
  });
  assert.equal((await named.json()).name, "query");
});

Deno.test("/docs names an icon that is served, so browsers ask for no /favicon.ico", async () => {
  await using world = await testApp();
  const page = await (await world.app.request("/docs")).text();
  const icon = page.match(/<link rel="icon" href="([^"]+)"/)?.[1];
  assert.ok(icon !== undefined, "The docs page links an icon");
  const served = await world.app.request(icon);
  assert.equal(served.status, 200);
  assert.equal(served.headers.get("content-type"), "image/svg+xml");
  await served.body?.cancel();
});

Deno.test("every deno task has a description, and the screenshot task writes no tracked file", () => {
  for (const [name, task] of Object.entries(denoConfig.tasks)) {
    assert.equal(typeof task, "object", name);
    assert.ok(task.description.length > 0, `${name} has no description`);
  }
  const screenshot = denoConfig.tasks.screenshot.command.match(/REPORTD_SCREENSHOT=(\S+)/)?.[1];
  assert.equal(screenshot, "dist/screenshot.png", "dist/ is ignored by git");
});

Deno.test("the README's and docs' files and links exist in the repository", async () => {
  const files = [
    "README.md",
    "CONTRIBUTING.md",
    ...[...Deno.readDirSync(`${REPO_ROOT}docs`)]
      .filter((entry) => entry.name.endsWith(".md")).map((entry) => `docs/${entry.name}`),
  ];
  for (const file of files) {
    const text = await Deno.readTextFile(`${REPO_ROOT}${file}`);
    const folder = file.includes("/") ? file.slice(0, file.lastIndexOf("/") + 1) : "";
    // curl's --data-binary @file and -T file, as a reader would run them from the root.
    for (const [, path] of text.matchAll(/--data-binary @([^\s'"]+)/g)) {
      // A file the text itself writes first (`printf ... > /tmp/s.csv`) is fine.
      if (path.startsWith("/") && text.includes(`> ${path}`)) continue;
      if (path === "-") continue; // curl reads standard input
      assert.ok(exists(`${REPO_ROOT}${path}`), `${file}: @${path} does not exist`);
    }
    // Relative Markdown links (not URLs, not anchors): inside the repository, and present.
    for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const resolved = new URL(target, `file://${REPO_ROOT}${folder}`).pathname;
      assert.ok(resolved.startsWith(REPO_ROOT), `${file}: ${target} is outside the repository`);
      assert.ok(exists(resolved), `${file}: ${target} does not exist`);
    }
    assert.doesNotMatch(text, /\.\.\/shared\//, `${file} points outside the repository`);
  }
});

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
