/**
 * A real load balancer for multi-instance tests: HAProxy from Debian's
 * `haproxy` package, in front of reportd processes on loopback.
 *
 * Round robin, health-checked on `/readyz` every 500 ms (three failures take a
 * server out, one success brings it back), and a request whose connection is
 * refused is retried on another server (`option redispatch`), as in
 * deploy/compose.scale.yaml, so a killed instance costs clients nothing once
 * HAProxy notices.
 *
 * @module
 */
import { pollUntil } from "./poll.ts";
import { freePort, POSTGRES_REQUIRED } from "./postgres.ts";
import { REPO_ROOT } from "./server_process.ts";

/** A running HAProxy. */
export interface LoadBalancer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`. */
  baseUrl: string;
}

function haproxyBinary(): string | undefined {
  const found = new Deno.Command("sh", { args: ["-c", "command -v haproxy"] }).outputSync();
  return found.success ? new TextDecoder().decode(found.stdout).trim() : undefined;
}

/**
 * Why the load-balancer tests cannot run here, or undefined when they can.
 * With `REPORTD_REQUIRE_POSTGRES=1` (CI, where `.ci/run` installs haproxy)
 * they always run, and fail without it.
 */
export function haproxySkipReason(): string | undefined {
  if (POSTGRES_REQUIRED || haproxyBinary() !== undefined) return undefined;
  return "no haproxy: install Debian's haproxy package; set REPORTD_REQUIRE_POSTGRES=1 to fail " +
    "instead";
}

/** The configuration for `ports`, listening on `port`. */
export function haproxyConfig(port: number, ports: readonly number[]): string {
  return [
    "global",
    "  maxconn 2000",
    "defaults",
    "  mode http",
    "  timeout connect 1s",
    "  timeout client 120s",
    "  timeout server 120s",
    // A check on a machine this busy can take a while; a slow answer is not a dead instance.
    "  timeout check 5s",
    "  retries 3",
    "  option redispatch",
    // The deployment's page for "no instance ready": a 503 problem with Retry-After.
    `  errorfile 503 ${REPO_ROOT}deploy/haproxy-503.http`,
    "frontend reportd",
    `  bind 127.0.0.1:${port}`,
    "  default_backend instances",
    "backend instances",
    "  balance roundrobin",
    "  option httpchk GET /readyz",
    "  http-check expect status 200",
    "  default-server inter 500ms fall 3 rise 1",
    ...ports.map((backend, index) => `  server r${index + 1} 127.0.0.1:${backend} check`),
    "",
  ].join("\n");
}

/**
 * Starts HAProxy in front of `ports` and resolves once it answers `/healthz`
 * (polled with a 10 s deadline). Disposing it stops it and removes its file.
 */
export async function startHaproxy(ports: readonly number[]): Promise<LoadBalancer> {
  const binary = haproxyBinary();
  if (binary === undefined) throw new Error(haproxySkipReason() ?? "haproxy is required");
  const dir = await Deno.makeTempDir({ prefix: "reportd-haproxy-" });
  const port = freePort();
  await Deno.writeTextFile(`${dir}/haproxy.cfg`, haproxyConfig(port, ports));
  const child = new Deno.Command(binary, {
    args: ["-db", "-f", `${dir}/haproxy.cfg`],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await child.status;
    await stderr;
    await Deno.remove(dir, { recursive: true });
  };
  try {
    await pollUntil("haproxy to serve /healthz", async () => {
      const status = await fetch(`${baseUrl}/healthz`).then(async (res) => {
        await res.body?.cancel();
        return res.status;
      }, () => 0);
      return status === 200 ? true : undefined;
    }, { timeoutMs: 10_000, intervalMs: 50 });
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}: ${await stderr}`);
  }
  return { baseUrl, [Symbol.asyncDispose]: stop };
}
