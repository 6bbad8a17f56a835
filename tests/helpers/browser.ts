/**
 * A real headless Chromium for end-to-end tests of the page, driven with
 * playwright-core (which brings no browser of its own: Debian's `chromium`
 * package provides it, installed by .ci/run).
 *
 * Each launch gets a fresh profile directory that is removed afterwards, and
 * records what a test wants to assert on: console errors and page errors
 * (a Content-Security-Policy violation is one), and every request the page
 * made.
 *
 * @module
 */
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { decodePng, imageVariety } from "./png.ts";

/**
 * The browser: where Debian's `chromium` package installs it, unless
 * `REPORTD_CHROMIUM_PATH` names another Chromium build (.ci/run sets it to the
 * preinstalled Google Chrome on GitHub's Ubuntu runners, where `chromium` is
 * a snap that cannot use a profile under /tmp).
 */
export const CHROMIUM_PATH: string = Deno.env.get("REPORTD_CHROMIUM_PATH") ?? "/usr/bin/chromium";

/**
 * Flags for a quiet, deterministic headless browser: no sandbox (CI runs as
 * root in a container), no GPU, and nothing that phones home or updates
 * itself while a test runs.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-quic",
  "--disable-sync",
];

/**
 * Whether browser tests should be skipped, and why. They run when Chromium is
 * installed; without it they are skipped with that reason, unless
 * `REPORTD_REQUIRE_BROWSER=1` (set by CI), when they run and fail instead.
 */
export function browserSkipReason(): string | undefined {
  if (Deno.env.get("REPORTD_REQUIRE_BROWSER") === "1") return undefined;
  try {
    Deno.statSync(CHROMIUM_PATH);
    return undefined;
  } catch {
    return `${CHROMIUM_PATH} not found (apt-get install chromium); ` +
      "set REPORTD_REQUIRE_BROWSER=1 to fail instead";
  }
}

/** One request the page made. */
export interface SeenRequest {
  /** Its method. */
  method: string;
  /** Its full URL. */
  url: URL;
  /** Its headers (lower-case names). */
  headers: Record<string, string>;
}

/** A running browser with one page. */
export interface BrowserSession extends AsyncDisposable {
  /** The browser context (its profile is a fresh temporary directory). */
  context: BrowserContext;
  /** The page. */
  page: Page;
  /** Console errors and uncaught page errors, in order. */
  errors: string[];
  /** Every request the page made, in order. */
  requests: SeenRequest[];
}

/** Launches Chromium with a fresh profile and opens a page of the given size. */
export async function launchBrowser(
  viewport: { width: number; height: number },
): Promise<BrowserSession> {
  const profile = await Deno.makeTempDir({ prefix: "reportd-chromium-" });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport,
      acceptDownloads: true,
      locale: "en-US",
      timezoneId: "UTC",
    });
  } catch (error) {
    await Deno.remove(profile, { recursive: true });
    throw error;
  }
  const page = context.pages()[0] ?? await context.newPage();
  const errors: string[] = [];
  const requests: SeenRequest[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(`Uncaught: ${error.message}`));
  page.on("request", (request) => {
    requests.push({
      method: request.method(),
      url: new URL(request.url()),
      headers: request.headers(),
    });
  });
  return {
    context,
    page,
    errors,
    requests,
    async [Symbol.asyncDispose]() {
      await context.close();
      await Deno.remove(profile, { recursive: true });
    },
  };
}

/**
 * The errors a page logged that no test expected: everything but the
 * browser's own line for an API call that answered 4xx (a test that
 * provokes a problem document expects that line).
 */
export function unexpectedErrors(errors: readonly string[]): string[] {
  return errors.filter((text) =>
    !/^Failed to load resource: the server responded with a status of 4\d\d/.test(text)
  );
}

/**
 * Throws unless a PNG shows something: many colours, and no single colour
 * covering nearly all of it (a blank or single-colour page fails).
 */
export function assertNotBlank(png: Uint8Array, label: string): void {
  const variety = imageVariety(decodePng(png));
  if (variety.colours < 16 || variety.dominantShare > 0.97) {
    throw new Error(
      `Screenshot ${label} looks blank: ${variety.colours} colours, ` +
        `${(variety.dominantShare * 100).toFixed(1)}% one colour`,
    );
  }
}
