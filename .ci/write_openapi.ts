/**
 * Writes the OpenAPI document the app serves to a file, so CI can lint it with
 * a standard tool (Redocly) exactly as clients will see it.
 *
 * Usage: deno run -P=test .ci/write_openapi.ts <out.json>
 *
 * @module
 */
import { closeDatabase, openDatabase } from "../db/mod.ts";
import { VERSION } from "../main.ts";
import { createApp } from "../routes/mod.ts";

const db = await openDatabase(":memory:");
try {
  const app = createApp({ db, config: { maxBodyBytes: 1024, maxPoints: 10 }, version: VERSION });
  const response = await app.request("/openapi.json");
  await Deno.writeTextFile(Deno.args[0], JSON.stringify(await response.json(), null, 2));
} finally {
  closeDatabase(db);
}
