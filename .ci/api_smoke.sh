#!/usr/bin/env bash
# Starts reportd with the given command on a free loopback port and a fresh
# database under ./data of the current directory, runs api.sh against it,
# stops it with SIGTERM and fails unless api.sh passed and the process then
# exited 0. The temporary database is removed either way.
#
#   bash .ci/api_smoke.sh deno run -P main.ts serve      # from the repository root
#   cd "$(mktemp -d)" && bash "$REPO/.ci/api_smoke.sh" "$REPO/dist/reportd" serve
#
# The database goes under ./data of the working directory because that is the
# one place the production permission set lets reportd write: for `deno run
# -P`, ./data next to deno.json (the repository root); for the compiled
# binary, ./data of its working directory (docs/decisions/0010).
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: api_smoke.sh COMMAND [ARG...]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)

made_data=false
if [ ! -d data ]; then
  mkdir data
  made_data=true
fi
data_dir=$(mktemp -d "$PWD/data/api-smoke.XXXXXX")
log="$data_dir/server.log"
pid=

cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$data_dir"
  if [ "$made_data" = true ]; then rmdir data 2>/dev/null || true; fi
}
trap cleanup EXIT

# PORT=0: the OS picks a free port; reportd logs it in its "Listening" line.
PORT=0 HOST=127.0.0.1 REPORTD_DB="$data_dir/reportd.db" LOG_FORMAT=json NO_COLOR=1 \
  "$@" >"$log" 2>&1 &
pid=$!

port=
for _ in $(seq 1 300); do
  port=$(grep '"message":"Listening on' "$log" | grep -o '"port":[0-9]*' | head -n1 |
    cut -d: -f2 || true)
  [ -n "$port" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "api_smoke: reportd exited before listening:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "api_smoke: reportd did not start listening within 30 s:" >&2
  cat "$log" >&2
  exit 1
fi

if ! bash "$here/../api.sh" "http://127.0.0.1:$port"; then
  echo "api_smoke: api.sh failed; server log:" >&2
  cat "$log" >&2
  exit 1
fi

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
if [ "$status" -ne 0 ]; then
  echo "api_smoke: reportd exited with $status after SIGTERM:" >&2
  cat "$log" >&2
  exit 1
fi
grep -q '"message":"Stopped cleanly"' "$log" || {
  echo "api_smoke: no \"Stopped cleanly\" line after SIGTERM" >&2
  exit 1
}
echo "api_smoke: api.sh passed and reportd stopped cleanly on SIGTERM"
