import assert from "node:assert/strict";
import { databaseHost, databaseUrlProblem, redactDatabaseUrl } from "../../db/mod.ts";
import { ConfigError, loadConfig } from "../../services/runtime/config.ts";

Deno.test("A PostgreSQL URL is checked without ever quoting it", () => {
  assert.equal(databaseUrlProblem("postgres://app:pw@db:5432/reportd"), undefined);
  assert.equal(databaseUrlProblem("postgresql://app@db/reportd?sslmode=verify-full"), undefined);
  for (
    const [url, problem] of [
      ["mysql://app:pw@db/reportd", /postgres:\/\/ or postgresql:\/\//],
      ["postgres://app:pw@db:5432/", /database name/],
      ["postgres://app:pw@db/reportd?sslmode=sometimes", /sslmode to be one of disable/],
      ["not a url pw", /expected a URL/],
    ] as const
  ) {
    assert.match(databaseUrlProblem(url) ?? "", problem, url);
    assert.throws(
      () => loadConfig({ REPORTD_DATABASE_URL: url }),
      (error: Error) =>
        error instanceof ConfigError && !error.message.includes("pw") &&
        error.message.startsWith("Invalid REPORTD_DATABASE_URL (value hidden)"),
    );
  }
});

Deno.test("The password is replaced in every logged form of the URL", () => {
  assert.equal(
    redactDatabaseUrl("postgres://app:s3cr%40t@db:5432/reportd?sslmode=require"),
    "postgres://app:[redacted]@db:5432/reportd?sslmode=require",
  );
  assert.equal(redactDatabaseUrl("postgres://app@db/reportd"), "postgres://app@db/reportd");
  assert.equal(redactDatabaseUrl("::"), "[unparsable URL]");
  assert.equal(databaseHost("postgres://app:pw@db.internal/reportd"), "db.internal:5432");
  assert.equal(databaseHost("postgresql://db.internal:6432/reportd"), "db.internal:6432");
});
