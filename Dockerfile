# syntax=docker/dockerfile:1
#
# reportd as a container: one static-ish executable on a distroless base.
#
#   docker build -t reportd .
#   docker build --build-arg RUN_TESTS=true --build-arg REVISION="$(git rev-parse HEAD)" -t reportd .
#   docker run -p 8000:8000 -v reportd-data:/data reportd
#
# Stage 1 builds on the official Deno image, pinned by tag. Pin it by digest too
# for reproducible builds (Dependabot then proposes digest updates):
#   docker buildx imagetools inspect denoland/deno:2.9.6   # prints the index digest
#   FROM --platform=$BUILDPLATFORM denoland/deno:2.9.6@sha256:<that digest> AS build
#
# The build stage runs on the machine's own platform and cross-compiles for the
# image's platform with `deno compile --target`: the multi-arch release then
# needs no emulation, and the final stage only copies files (no RUN), so it
# builds for any platform.

FROM --platform=$BUILDPLATFORM denoland/deno:2.9.6 AS build
ARG TARGETARCH
# Run the whole test suite in the build (slower; CI runs it anyway).
ARG RUN_TESTS=false
# The git commit, embedded so that `reportd --version` names it.
ARG REVISION=""
# The PostgreSQL hosts the binary may reach (its permissions are fixed when it
# is compiled). The published image grants "postgres:5432": name your database
# "postgres" (a compose service, a network alias, or --add-host), or build your
# own image with --build-arg DATABASE_HOSTS=db.example.com:5432.
ARG DATABASE_HOSTS=postgres:5432
ENV DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
WORKDIR /src

# Dependencies first, so this layer is cached until deno.json or deno.lock changes.
COPY deno.json deno.lock ./
RUN deno install --frozen

COPY . .
RUN deno task check
RUN if [ "$RUN_TESTS" = "true" ]; then deno task test; fi
# One permission set and one list of included files for every build:
# `deno task compile` (tools/compile.ts) derives both from the repository.
RUN case "$TARGETARCH" in \
      amd64) target=x86_64-unknown-linux-gnu ;; \
      arm64) target=aarch64-unknown-linux-gnu ;; \
      *) echo "Unsupported TARGETARCH $TARGETARCH" >&2; exit 1 ;; \
    esac \
 && if [ -n "$REVISION" ]; then set -- --commit "$REVISION"; else set --; fi \
 && deno task compile --target "$target" --database-hosts "$DATABASE_HOSTS" "$@" \
 && if [ "$(uname -m)" = "${target%%-*}" ]; then ./dist/reportd --version; fi \
 && mkdir -p /out/data \
 && cp dist/reportd /out/reportd

# Stage 2: glibc and libgcc (what the Deno runtime links against), CA
# certificates, tzdata, a nonroot user (uid 65532), no shell, no package manager.
FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION=dev
ARG REVISION=""
ARG SOURCE=https://github.com/OWNER/reportd
LABEL org.opencontainers.image.title="reportd" \
      org.opencontainers.image.description="Time-series reports over HTTP" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT"

COPY --from=build /out/reportd /usr/local/bin/reportd
# An empty /data owned by the runtime user: a new named volume copies it,
# ownership included, so the non-root process can create its database there.
COPY --from=build --chown=65532:65532 /out/data /data

# The binary's permissions are relative (`./data`, docs/decisions/0010) and
# resolve against the working directory: from `/`, that is exactly /data.
WORKDIR /
USER 65532:65532
ENV REPORTD_DB=/data/reportd.db \
    PORT=8000 \
    HOST=0.0.0.0 \
    LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8000
# reportd drains in-flight requests and closes the database on SIGTERM; give
# it the default 10 s (`docker stop -t` to change) before SIGKILL.
STOPSIGNAL SIGTERM
# No curl in the image: the binary checks itself (GET /healthz, exit 0 or 1).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/reportd", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/reportd"]
CMD ["serve"]
