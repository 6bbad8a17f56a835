import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

// Deno loads a Web Worker's module graph with the permission checks of a file
// read, so the production permission set must allow reading exactly the
// worker's local modules. This test fails when a new import in the worker's
// graph is not covered, long before a job fails in production.
Deno.test("The production permission set can read every local module of the job worker", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const readable: string[] = config.permissions.default.read.map((path: string) =>
    new URL(path, ROOT).pathname.replace(/\/$/, "")
  );
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "services/jobs/worker.ts"],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  assert.ok(info.success);
  const modules: { specifier: string }[] = JSON.parse(new TextDecoder().decode(info.stdout))
    .modules;
  const local = modules.map((module) => module.specifier)
    .filter((specifier) => specifier.startsWith("file:"))
    .map((specifier) => new URL(specifier).pathname);
  assert.ok(local.length > 5, "The worker's graph was found");
  for (const path of local) {
    assert.ok(
      readable.some((allowed) => path === allowed || path.startsWith(`${allowed}/`)),
      `${path} is imported by the worker but not readable under permissions.default.read`,
    );
  }
});
