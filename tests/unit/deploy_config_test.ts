/**
 * The deployment files are code too: this parses the Dockerfile, the compose
 * file, Litestream's config, fly.toml, the systemd unit and the GitHub
 * workflows, and checks that they agree with each other and with the program
 * (pinned versions, the non-root user, the health check, the Watchtower
 * label, where the database lives under the permission set).
 */
import assert from "node:assert/strict";
import { parse as parseToml } from "smol-toml";
import { parse as parseYaml } from "yaml";
import denoConfig from "../../deno.json" with { type: "json" };
import { OUTPUT, TARGETS } from "../../tools/compile.ts";
import { haproxySkipReason } from "../helpers/haproxy.ts";
import { REPO_ROOT } from "../helpers/server_process.ts";

async function read(path: string): Promise<string> {
  return await Deno.readTextFile(`${REPO_ROOT}${path}`);
}

// deno-lint-ignore no-explicit-any -- parsed YAML and TOML are checked field by field below
type Parsed = any;

async function yaml(path: string): Promise<Parsed> {
  return parseYaml(await read(path));
}

/** One Dockerfile instruction, continuation lines joined. */
interface Instruction {
  command: string;
  args: string;
}

/** Stages of a Dockerfile, each its FROM line and the instructions after it. */
function dockerStages(text: string): { from: string; instructions: Instruction[] }[] {
  const lines = text.replace(/\\\n/g, " ").split("\n");
  const stages: { from: string; instructions: Instruction[] }[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [command, ...rest] = line.split(/\s+/);
    const instruction = { command: command.toUpperCase(), args: rest.join(" ") };
    if (instruction.command === "FROM") stages.push({ from: instruction.args, instructions: [] });
    else stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

function instructions(stage: { instructions: Instruction[] }, command: string): string[] {
  return stage.instructions.filter((i) => i.command === command).map((i) => i.args);
}

/** `KEY=value` pairs of ENV instructions (the form this Dockerfile uses). */
function dockerEnv(stage: { instructions: Instruction[] }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of instructions(stage, "ENV")) {
    for (const match of args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) {
      env[match[1]] = match[2].replace(/^"|"$/g, "");
    }
  }
  return env;
}

/** A systemd unit's settings; repeated keys keep every value. */
function unitSettings(text: string): Record<string, string[]> {
  const settings: Record<string, string[]> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("[")) continue;
    const at = line.indexOf("=");
    (settings[line.slice(0, at)] ??= []).push(line.slice(at + 1));
  }
  return settings;
}

/** Resolves `path` against `cwd` the way the binary resolves its relative permissions. */
function resolvePath(cwd: string, path: string): string {
  return new URL(path, `file://${cwd.endsWith("/") ? cwd : `${cwd}/`}`).pathname.replace(/\/$/, "");
}

/**
 * True when the database at `dbPath` may be written by the executable started
 * in `cwd`: it lies inside one of the write paths of the production set,
 * which the binary resolves against its working directory (docs/decisions/0010).
 */
function writableByBinary(cwd: string, dbPath: string): boolean {
  const writePaths = denoConfig.permissions.default.write as string[];
  const absolute = resolvePath(cwd, dbPath);
  return writePaths.some((path) => absolute.startsWith(`${resolvePath(cwd, path)}/`));
}

const DENO_VERSION = Deno.version.deno;
const SHA_PINNED = /^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40} # v\d+(\.\d+)*$/;

const dockerfile = dockerStages(await read("Dockerfile"));
const [buildStage, runStage] = dockerfile;

Deno.test("Deno is the same pinned version in .ci/run, the workflows and the Dockerfile", async () => {
  assert.match(await read(".ci/run"), new RegExp(`^DENO_VERSION=${DENO_VERSION}$`, "m"));
  for (const name of ["ci", "release"]) {
    const workflow = await yaml(`.github/workflows/${name}.yml`);
    assert.equal(workflow.env.DENO_VERSION, DENO_VERSION, name);
    for (const job of Object.values<Parsed>(workflow.jobs)) {
      for (const step of job.steps) {
        if (String(step.uses).startsWith("denoland/setup-deno@")) {
          assert.equal(step.with["deno-version"], "${{ env.DENO_VERSION }}");
        }
      }
    }
  }
  assert.match(
    buildStage.from,
    new RegExp(`denoland/deno:${DENO_VERSION.replaceAll(".", "\\.")} `),
  );
  // The digest pin is documented next to the tag, ready to fill in.
  assert.match(await read("Dockerfile"), /denoland\/deno:[\d.]+@sha256:/);
});

Deno.test("every GitHub Action is pinned to a commit SHA with its version noted", async () => {
  for (const name of ["ci", "release"]) {
    const text = await read(`.github/workflows/${name}.yml`);
    const uses = [...text.matchAll(/^\s*(?:- )?uses: (.+)$/gm)].map((m) => m[1].trim());
    assert.ok(uses.length > 0);
    for (const use of uses) assert.match(use, SHA_PINNED, `${name}.yml: ${use}`);
  }
});

Deno.test("CI runs .ci/run, uploads lcov, and compiles and smoke-tests the binary", async () => {
  const ci = await yaml(".github/workflows/ci.yml");
  assert.ok("push" in ci.on && "pull_request" in ci.on);
  assert.deepEqual(ci.permissions, { contents: "read" });
  const checks = ci.jobs.checks.steps;
  const run = checks.find((step: Parsed) => step.run === "bash .ci/run");
  assert.ok(run, "the checks job runs .ci/run");
  const upload = checks.find((step: Parsed) => String(step.uses).includes("upload-artifact"));
  assert.equal(upload.with.path, run.env.LCOV_OUT);

  const binary = ci.jobs.binary.steps.map((step: Parsed) => String(step.run ?? ""));
  assert.ok(binary.some((script: string) => script.startsWith("deno task compile ")));
  assert.ok(
    binary.some((script: string) =>
      /api_smoke\.sh" "\$GITHUB_WORKSPACE\/dist\/reportd" serve/.test(script)
    ),
  );
  assert.ok(binary.some((script: string) => script.includes("/readyz")));
  assert.ok(binary.some((script: string) => script.includes("--version")));
  // --require-online: an unreachable advisory endpoint fails the job (tools/audit.ts).
  assert.ok(
    ci.jobs.audit.steps.some((step: Parsed) => step.run === "deno task audit --require-online"),
  );
});

Deno.test("the release compiles every target and pushes a multi-arch image with provenance and SBOM", async () => {
  const release = await yaml(".github/workflows/release.yml");
  assert.deepEqual(release.on.push.tags, ["v*.*.*"]);
  const scripts = release.jobs.binaries.steps.map((step: Parsed) => String(step.run ?? ""));
  assert.ok(scripts.some((script: string) => script.startsWith("deno task compile:all ")));
  assert.ok(
    scripts.some((script: string) => script.includes(`./${OUTPUT}-${TARGETS[0]} --version`)),
  );
  assert.ok(scripts.some((script: string) => script.includes("sha256sum")));

  const build = release.jobs.image.steps.find((step: Parsed) =>
    String(step.uses).startsWith("docker/build-push-action@")
  );
  assert.equal(build.with.platforms, "linux/amd64,linux/arm64");
  assert.equal(build.with.push, true);
  assert.equal(build.with.provenance, "mode=max");
  assert.equal(build.with.sbom, true);
  assert.deepEqual(release.jobs.image.permissions, { contents: "read", packages: "write" });
  // Each image platform maps to a compile target in the Dockerfile.
  const compileRun = instructions(buildStage, "RUN").find((args) =>
    args.includes("deno task compile")
  );
  assert.ok(compileRun);
  for (const [arch, target] of [["amd64", TARGETS[0]], ["arm64", TARGETS[1]]]) {
    assert.match(compileRun, new RegExp(`${arch}\\) target=${target} ;;`));
  }
});

Deno.test("nothing calls deno compile directly: one command builds every binary", async () => {
  const texts = [
    await read("Dockerfile"),
    await read(".github/workflows/ci.yml"),
    await read(".github/workflows/release.yml"),
  ];
  for (const text of texts) {
    const withoutComments = text.split("\n").filter((line) => !/^\s*#/.test(line)).join("\n");
    assert.doesNotMatch(withoutComments, /deno compile/);
    assert.match(withoutComments, /deno task compile/);
  }
});

Deno.test("the image builds, checks and compiles in one stage and runs the binary alone, as non-root", () => {
  const runs = instructions(buildStage, "RUN").join("\n");
  for (
    const step of [
      "deno install --frozen",
      "deno task check",
      "deno task test",
      "deno task compile",
    ]
  ) {
    assert.ok(runs.includes(step), step);
  }
  assert.match(runs, /if \[ "\$RUN_TESTS" = "true" \]; then deno task test; fi/);

  assert.equal(runStage.from, "gcr.io/distroless/cc-debian12:nonroot");
  assert.deepEqual(instructions(runStage, "RUN"), [], "the final stage only copies files");
  assert.deepEqual(instructions(runStage, "USER"), ["65532:65532"]);
  assert.deepEqual(instructions(runStage, "VOLUME"), ['["/data"]']);
  assert.deepEqual(instructions(runStage, "EXPOSE"), ["8000"]);
  assert.deepEqual(instructions(runStage, "STOPSIGNAL"), ["SIGTERM"]);
  assert.equal(dockerEnv(runStage).REPORTD_DB, "/data/reportd.db");
  assert.equal(dockerEnv(runStage).PORT, "8000");
  const [healthcheck] = instructions(runStage, "HEALTHCHECK");
  assert.match(healthcheck, /CMD \["\/usr\/local\/bin\/reportd", "healthcheck"\]$/);
  assert.deepEqual(instructions(runStage, "ENTRYPOINT"), ['["/usr/local/bin/reportd"]']);
  // /data is created owned by the runtime user, so a fresh volume is writable.
  assert.ok(
    instructions(runStage, "COPY").includes("--from=build --chown=65532:65532 /out/data /data"),
  );

  const labels = instructions(runStage, "LABEL").join(" ");
  for (const key of ["source", "version", "revision", "licenses"]) {
    assert.match(labels, new RegExp(`org\\.opencontainers\\.image\\.${key}=`));
  }
  assert.match(labels, new RegExp(`licenses="${denoConfig.license}"`));
});

Deno.test("the database is inside the binary's permitted ./data wherever it runs", async () => {
  // Container (Docker, compose, Fly): relative permissions resolve against WORKDIR.
  const [workdir] = instructions(runStage, "WORKDIR");
  assert.equal(workdir, "/");
  assert.ok(writableByBinary(workdir, dockerEnv(runStage).REPORTD_DB));

  const compose = await yaml("deploy/compose.yaml");
  assert.ok(writableByBinary(workdir, compose.services.reportd.environment.REPORTD_DB));
  const fly = parseToml(await read("fly.toml")) as Parsed;
  assert.ok(writableByBinary(workdir, fly.env.REPORTD_DB));

  // systemd: WorkingDirectory is the state directory.
  const unit = unitSettings(await read("deploy/reportd.service"));
  const db = unit.Environment.find((value) => value.startsWith("REPORTD_DB="))!.slice(11);
  assert.ok(writableByBinary(unit.WorkingDirectory[0], db));
  // And the check itself can fail: the database outside ./data is refused.
  assert.equal(writableByBinary("/var/lib/reportd", "/var/lib/reportd/reportd.db"), false);
});

Deno.test("compose runs the registry image with its volume, health check and Watchtower label", async () => {
  const compose = await yaml("deploy/compose.yaml");
  const reportd = compose.services.reportd;
  assert.match(reportd.image, /^\$\{REPORTD_IMAGE:\?/);
  assert.equal(reportd.restart, "unless-stopped");
  assert.deepEqual(reportd.volumes, ["reportd-data:/data"]);
  assert.ok("reportd-data" in compose.volumes);
  assert.deepEqual(reportd.healthcheck.test, ["CMD", "/usr/local/bin/reportd", "healthcheck"]);
  assert.equal(reportd.labels["com.centurylinklabs.watchtower.enable"], "true");
  assert.equal(reportd.stop_signal, "SIGTERM");
  assert.equal(reportd.user, undefined, "the image's non-root USER applies");

  const watchtower = compose.services.watchtower;
  assert.match(watchtower.image, /^containrrr\/watchtower:\d+\.\d+\.\d+$/);
  assert.ok(watchtower.volumes.includes("/var/run/docker.sock:/var/run/docker.sock"));
  assert.equal(watchtower.environment.WATCHTOWER_LABEL_ENABLE, "true");
  assert.match(String(watchtower.environment.WATCHTOWER_POLL_INTERVAL), /\d/);
  assert.equal(watchtower.environment.WATCHTOWER_CLEANUP, "true");
  assert.equal(watchtower.environment.WATCHTOWER_ROLLING_RESTART, "true");
});

Deno.test("the Litestream sidecar is optional and replicates the database reportd writes", async () => {
  const compose = await yaml("deploy/compose.yaml");
  const litestream = compose.services.litestream;
  assert.deepEqual(litestream.profiles, ["litestream"]);
  assert.match(litestream.image, /^litestream\/litestream:\d+\.\d+\.\d+$/);
  assert.ok(litestream.volumes.includes("reportd-data:/data"));
  assert.ok(litestream.volumes.includes("./litestream.yml:/etc/litestream.yml:ro"));
  assert.equal(litestream.user, instructions(runStage, "USER")[0]);

  const text = await read("deploy/litestream.yml");
  const config = parseYaml(text) as Parsed;
  assert.equal(config.dbs[0].path, compose.services.reportd.environment.REPORTD_DB);
  assert.equal(config.dbs[0].replicas[0].type, "s3");
  // Every variable the config expands is passed to the container.
  for (const [, name] of text.matchAll(/\$\{(\w+)\}/g)) {
    assert.ok(name in litestream.environment, `${name} is not passed to litestream`);
  }
});

Deno.test("fly.toml mounts the volume at /data and checks readiness on the exposed port", async () => {
  const fly = parseToml(await read("fly.toml")) as Parsed;
  assert.equal(fly.mounts.destination, "/data");
  assert.equal(fly.kill_signal, "SIGTERM");
  assert.equal(fly.build.dockerfile, "Dockerfile");
  assert.equal(String(fly.http_service.internal_port), instructions(runStage, "EXPOSE")[0]);
  assert.equal(fly.http_service.checks[0].path, "/readyz");
});

Deno.test("the systemd unit runs as a dedicated user with a hardened, read-only system", async () => {
  const unit = unitSettings(await read("deploy/reportd.service"));
  assert.deepEqual(unit.User, ["reportd"]);
  assert.deepEqual(unit.ExecStart, ["/usr/local/bin/reportd serve"]);
  assert.ok(unit.StateDirectory[0].split(" ").includes("reportd"));
  assert.deepEqual(unit.WorkingDirectory, ["/var/lib/reportd"]);
  assert.deepEqual(unit.NoNewPrivileges, ["yes"]);
  assert.deepEqual(unit.ProtectSystem, ["strict"]);
  assert.deepEqual(unit.ReadWritePaths, ["/var/lib/reportd"]);
  assert.deepEqual(unit.KillSignal, ["SIGTERM"]);
});

Deno.test("Dependabot watches the actions and the Docker images; the build context excludes data", async () => {
  const dependabot = await yaml(".github/dependabot.yml");
  const ecosystems = dependabot.updates.map((update: Parsed) => update["package-ecosystem"]);
  for (const ecosystem of ["github-actions", "docker"]) assert.ok(ecosystems.includes(ecosystem));

  const ignored = (await read(".dockerignore")).split("\n").filter((l) => l && !l.startsWith("#"));
  for (const path of ["data/", "dist/", "docs/", ".git/", ".coverage/"]) {
    assert.ok(ignored.includes(path), path);
  }
  // What the build stage needs must stay in the context.
  for (const needed of ["deno.json", "deno.lock", "main.ts", "tools/", "tests/", "Dockerfile"]) {
    assert.ok(!ignored.some((pattern) => needed.startsWith(pattern)), needed);
  }
});

Deno.test("compose.scale runs PostgreSQL, three stateless replicas behind HAProxy, and Watchtower", async () => {
  const scale = await yaml("deploy/compose.scale.yaml");
  const single = await yaml("deploy/compose.yaml");
  const { postgres, reportd, haproxy, watchtower } = scale.services;

  // PostgreSQL: pinned, persistent, health-checked, never auto-updated.
  assert.match(postgres.image, /^postgres:\d+\.\d+$/);
  assert.ok(postgres.volumes.includes("postgres-data:/var/lib/postgresql/data"));
  assert.ok("postgres-data" in scale.volumes);
  assert.equal(postgres.healthcheck.test[1], "pg_isready");
  assert.equal(postgres.labels["com.centurylinklabs.watchtower.enable"], "false");

  // reportd: the published image, three replicas, the one database host the
  // image grants (Dockerfile ARG DATABASE_HOSTS), no password in the URL.
  assert.equal(reportd.image, single.services.reportd.image);
  assert.equal(reportd.deploy.replicas, 3);
  const [granted] = buildStage.instructions
    .filter((i) => i.command === "ARG" && i.args.startsWith("DATABASE_HOSTS="))
    .map((i) => i.args.slice("DATABASE_HOSTS=".length));
  const url = new URL(reportd.environment.REPORTD_DATABASE_URL);
  assert.equal(`${url.hostname}:${url.port}`, granted);
  assert.equal(url.hostname in scale.services, true, "the database host is the compose service");
  assert.equal(url.password, "");
  assert.match(reportd.environment.PGPASSWORD, /POSTGRES_PASSWORD/);
  assert.equal(postgres.environment.POSTGRES_USER, decodeURIComponent(url.username));
  assert.equal(postgres.environment.POSTGRES_DB, url.pathname.slice(1));
  assert.equal(reportd.depends_on.postgres.condition, "service_healthy");
  assert.equal(reportd.volumes, undefined, "replicas are stateless");
  assert.equal(reportd.read_only, true);
  assert.equal(reportd.environment.REPORTD_TRUST_PROXY, "true");
  assert.deepEqual(reportd.healthcheck.test, single.services.reportd.healthcheck.test);
  assert.equal(reportd.stop_signal, "SIGTERM");
  assert.equal(reportd.labels["com.centurylinklabs.watchtower.enable"], "true");

  // HAProxy: the official image with deploy/haproxy.cfg, checking readiness
  // on every replica's port, with room for more replicas than run.
  assert.match(haproxy.image, /^haproxy:\d+\.\d+\.\d+$/);
  assert.ok(haproxy.volumes.includes("./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro"));
  assert.equal(haproxy.labels["com.centurylinklabs.watchtower.enable"], "false");
  const cfg = await read("deploy/haproxy.cfg");
  const listen = /^\s*bind :(\d+)$/m.exec(cfg)![1];
  assert.ok(haproxy.ports.some((port: string) => port.endsWith(`:${listen}`)));
  assert.match(cfg, /^\s*option httpchk GET \/readyz$/m);
  assert.match(cfg, /^\s*http-check expect status 200$/m);
  assert.match(cfg, /^\s*option redispatch$/m);
  assert.match(cfg, /^\s*option forwardfor$/m);
  // With no replica ready, HAProxy's own 503 is a problem document with Retry-After.
  const errorfile = /^\s*errorfile 503 (\S+)$/m.exec(cfg)![1];
  const mount = haproxy.volumes.find((volume: string) => volume.endsWith(`:${errorfile}:ro`));
  const page = await read(`deploy/${mount.split(":")[0].replace("./", "")}`);
  const [head, body] = page.split("\r\n\r\n");
  assert.match(head, /^HTTP\/1\.1 503 /);
  assert.match(head, /\r\ncontent-type: application\/problem\+json\r\n/);
  assert.match(head, /\r\nretry-after: \d+\r\n/);
  assert.equal(JSON.parse(body).status, 503);
  const template = /^\s*server-template \S+ (\d+) reportd:(\d+)$/m.exec(cfg)!;
  assert.ok(Number(template[1]) >= reportd.deploy.replicas);
  assert.equal(template[2], instructions(runStage, "EXPOSE")[0]);

  // Watchtower: rolling restarts, one replica at a time.
  assert.equal(watchtower.image, single.services.watchtower.image);
  assert.equal(watchtower.environment.WATCHTOWER_ROLLING_RESTART, "true");
  assert.equal(watchtower.environment.WATCHTOWER_LABEL_ENABLE, "true");

  // Every variable the compose file requires is in the example settings.
  const example = await read("deploy/.env.example");
  for (const [, name] of (await read("deploy/compose.scale.yaml")).matchAll(/\$\{(\w+):\?/g)) {
    assert.match(example, new RegExp(`^${name}=`, "m"), `${name} is not in deploy/.env.example`);
  }
});

Deno.test("deploy/haproxy.cfg is valid for HAProxy itself (haproxy -c)", {
  ignore: haproxySkipReason() !== undefined,
}, async () => {
  // The error page's path is the container's; here it is the repository's file.
  const cfg = (await read("deploy/haproxy.cfg")).replace(
    /errorfile 503 \S+/,
    `errorfile 503 ${REPO_ROOT}deploy/haproxy-503.http`,
  );
  const file = await Deno.makeTempFile({ suffix: ".cfg" });
  await Deno.writeTextFile(file, cfg);
  const output = await new Deno.Command("haproxy", {
    args: ["-c", "-f", file],
    stdout: "piped",
    stderr: "piped",
  }).output();
  await Deno.remove(file);
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, text);
  assert.match(text, /Configuration file is valid/);
});
