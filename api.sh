#!/usr/bin/env bash
# Exercises every reportd endpoint against a running instance and fails on any
# unexpected status. It is both a smoke test (CI runs it against a real
# `main.ts serve` and against the compiled binary) and a tour of the API.
#
#   ./api.sh                          # http://localhost:8000
#   ./api.sh https://reportd.example  # any base URL (or set REPORTD_URL)
#   API_CLIENT=httpie ./api.sh        # use HTTPie instead of curl
#
# Uses curl, or HTTPie (`http`) when asked to or when curl is missing. Needs
# nothing else: ids, statuses and cursors are read with grep and sed, so it
# runs on a bare VPS too. The reports it creates are deleted at the end.
#
# An upload answers 202 with a queued report that becomes ready later
# (GET .../series answers 409 with Retry-After meanwhile); the script polls the
# report until it is ready, for at most REPORTD_READY_TIMEOUT seconds (default 60).
set -euo pipefail

BASE_URL="${1:-${REPORTD_URL:-http://localhost:8000}}"
BASE_URL="${BASE_URL%/}"
READY_TIMEOUT="${REPORTD_READY_TIMEOUT:-60}"

if [ "${API_CLIENT:-}" = "httpie" ] || { [ -z "${API_CLIENT:-}" ] && ! command -v curl >/dev/null 2>&1; }; then
  CLIENT=httpie
  command -v http >/dev/null 2>&1 || { echo "api.sh: HTTPie (http) is not installed" >&2; exit 2; }
else
  CLIENT=curl
  command -v curl >/dev/null 2>&1 || { echo "api.sh: curl is not installed" >&2; exit 2; }
fi

work=$(mktemp -d)
created_ids=()
requests=0

cleanup() {
  local id
  # Best effort: a failed run still removes what it created.
  for id in "${created_ids[@]}"; do
    if [ "$CLIENT" = curl ]; then
      curl -s -o /dev/null -X DELETE "$BASE_URL/v1/reports/$id" || true
    else
      http --ignore-stdin -q DELETE "$BASE_URL/v1/reports/$id" >/dev/null 2>&1 || true
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

# request METHOD PATH BODY_FILE|"" [HEADER...]
# Leaves the status in $status, the headers in $work/headers (lower-cased
# names) and the body in $work/body.
request() {
  local method=$1 path=$2 body=$3
  shift 3
  requests=$((requests + 1))
  if [ "$CLIENT" = curl ]; then
    local args=(-sS -X "$method" -o "$work/body" -D "$work/raw_headers" -w '%{http_code}')
    local header
    for header in "$@"; do args+=(-H "$header"); done
    if [ -n "$body" ]; then args+=(--data-binary "@$body"); fi
    status=$(curl "${args[@]}" "$BASE_URL$path")
  else
    local args=(--print=hb --pretty=none "$method" "$BASE_URL$path")
    local header
    for header in "$@"; do args+=("${header%%:*}:${header#*: }"); done
    if [ -n "$body" ]; then
      http "${args[@]}" <"$body" >"$work/response"
    else
      http --ignore-stdin "${args[@]}" >"$work/response"
    fi
    # Headers, a blank line, then the body.
    awk 'NR==1,/^\r?$/' "$work/response" >"$work/raw_headers"
    awk 'f{print} /^\r?$/{f=1}' "$work/response" >"$work/body"
    status=$(head -n1 "$work/raw_headers" | cut -d' ' -f2)
  fi
  # Header names are case-insensitive: lower-case them once, here.
  tr -d '\r' <"$work/raw_headers" |
    awk '{ i = index($0, ":"); if (i) print tolower(substr($0, 1, i - 1)) substr($0, i); else print }' \
      >"$work/headers"
}

# expect "DESCRIPTION" ALLOWED_STATUS... : fails unless $status is one of them.
expect() {
  local what=$1 allowed
  shift
  for allowed in "$@"; do
    if [ "$status" = "$allowed" ]; then
      printf 'ok   %-3s %s\n' "$status" "$what"
      return 0
    fi
  done
  printf 'FAIL %-3s %s (expected %s)\n' "$status" "$what" "$*" >&2
  head -c 2000 "$work/body" >&2 || true
  echo >&2
  exit 1
}

header() { sed -n "s/^$1: //p" "$work/headers" | head -n1; }

expect_header() {
  local name=$1 pattern=$2 value
  value=$(header "$name")
  if ! grep -Eq "$pattern" <<<"$value"; then
    printf 'FAIL %s: %s is %q, expected /%s/\n' "$last" "$name" "$value" "$pattern" >&2
    exit 1
  fi
}

json_field() { grep -o "\"$1\":\"[^\"]*\"" "$work/body" | head -n1 | cut -d'"' -f4; }

# upload NAME CONTENT_TYPE FILE: POST it and remember the new id in $id.
upload() {
  last="POST /v1/reports ($1)"
  request POST "/v1/reports?name=$1" "$3" "content-type: $2"
  expect "$last" 202
  expect_header location '^/v1/reports/[0-9a-f-]{36}$'
  id=$(header location | sed 's|.*/||')
  created_ids+=("$id")
}

# wait_ready ID: poll the report until it is ready; fail if it failed or the
# time runs out.
wait_ready() {
  local deadline=$((SECONDS + READY_TIMEOUT)) state
  while :; do
    last="GET /v1/reports/$1"
    request GET "/v1/reports/$1" ""
    expect "$last" 200
    state=$(json_field status)
    case "$state" in
      ready) return 0 ;;
      failed)
        echo "FAIL report $1 failed: $(cat "$work/body")" >&2
        exit 1
        ;;
    esac
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "FAIL report $1 still $state after ${READY_TIMEOUT}s" >&2
      exit 1
    fi
    sleep 0.5
  done
}

echo "api.sh: $BASE_URL with $CLIENT"

# Operations and documentation
last="GET /healthz"; request GET /healthz ""; expect "$last" 200
last="GET /readyz"; request GET /readyz ""; expect "$last" 200
last="GET /openapi.json"; request GET /openapi.json ""; expect "$last" 200
expect_header content-type '^application/json'
grep -q '"openapi":"3\.1' "$work/body" || { echo "FAIL /openapi.json is not OpenAPI 3.1" >&2; exit 1; }
last="GET /docs"; request GET /docs ""; expect "$last" 200
expect_header content-type '^text/html'
last="GET /docs/assets/swagger-ui-bundle.js"
request GET /docs/assets/swagger-ui-bundle.js ""; expect "$last" 200
last="GET /problems/not-found"; request GET /problems/not-found ""; expect "$last" 200

# Uploads: CSV, columnar JSON, row JSON
printf 'timestamp,value\n2020-01-10,1.5\n2020-01-11,1.7\n2020-01-12,\n2020-01-14,1.6\n' >"$work/s.csv"
upload api-sh-csv text/csv "$work/s.csv"
csv_id=$id
cat >"$work/cols.json" <<'EOF'
{"timestamps": ["2020-01-10", 1578700800, "2020-01-12T00:00:00Z"], "columns": {"value": [1.5, null, 2.5]}}
EOF
upload api-sh-columns application/json "$work/cols.json"
cat >"$work/rows.json" <<'EOF'
{"points": [{"t": "2020-01-10T09:30:00Z", "value": 1.5}, {"t": "2020-01-11T09:30:00+01:00", "value": 1.7}]}
EOF
upload api-sh-rows application/json "$work/rows.json"
for id in "${created_ids[@]}"; do wait_ready "$id"; done

# Reading a report, listing, paging
last="GET /v1/reports/{id}"; request GET "/v1/reports/$csv_id" ""; expect "$last" 200
grep -q '"points":4' "$work/body" || { echo "FAIL the CSV report does not count 4 points" >&2; exit 1; }
last="GET /v1/reports?limit=1"; request GET "/v1/reports?limit=1" ""; expect "$last" 200
expect_header link 'rel="next"'
next=$(header link | sed -E 's/^<([^>]*)>.*/\1/')
next_path="/v1/reports${next#*/v1/reports}"
last="GET next page"; request GET "$next_path" ""; expect "$last" 200
last="GET /v1/reports?status=ready"; request GET "/v1/reports?status=ready&limit=100" ""
expect "$last" 200

# The series in every form
series="/v1/reports/$csv_id/series"
last="GET series (JSON)"; request GET "$series" ""; expect "$last" 200
expect_header etag '^"'
etag=$(header etag)
last="GET series (If-None-Match)"; request GET "$series" "" "if-none-match: $etag"
expect "$last" 304
last="GET series (Accept: text/csv)"; request GET "$series" "" "accept: text/csv"
expect "$last" 200
expect_header content-type '^text/csv'
last="GET series?format=csv"; request GET "$series?format=csv" ""; expect "$last" 200
last="GET series?format=uplot&points=3"; request GET "$series?format=uplot&points=3" ""
expect "$last" 200
last="GET series?from&to"; request GET "$series?from=2020-01-11&to=2020-01-12" ""
expect "$last" 200

# Analytics: resampling, transforms, comparing reports
last="GET series?every=1d&agg=ohlc"; request GET "$series?every=1d&agg=ohlc&format=uplot" ""
expect "$last" 200
last="GET series?transform=rolling_mean:2"; request GET "$series?transform=rolling_mean:2" ""
expect "$last" 200
last="GET series?every=2w"; request GET "$series?every=2w" ""; expect "$last" 400
last="GET /v1/compare?normalize=first"
request GET "/v1/compare?ids=$csv_id&every=1d&normalize=first" ""; expect "$last" 200
last="GET /v1/compare of an unknown id"
request GET "/v1/compare?ids=00000000-0000-7000-8000-000000000000" ""; expect "$last" 404

# Errors are problem documents with the documented status
printf 'hello' >"$work/plain.txt"
last="POST text/plain"; request POST /v1/reports "$work/plain.txt" "content-type: text/plain"
expect "$last" 415
expect_header content-type '^application/problem\+json'
printf 'timestamp,value\n' >"$work/empty.csv"
last="POST a CSV without rows"; request POST /v1/reports "$work/empty.csv" "content-type: text/csv"
expect "$last" 422
last="GET ?limit=1000"; request GET "/v1/reports?limit=1000" ""; expect "$last" 400
last="GET an unknown id"; request GET /v1/reports/00000000-0000-7000-8000-000000000000 ""
expect "$last" 404
last="PUT /v1/reports"; request PUT /v1/reports ""; expect "$last" 405
expect_header allow 'GET'

# Delete, then it is gone
last="DELETE /v1/reports/{id}"; request DELETE "/v1/reports/$csv_id" ""; expect "$last" 204
last="GET a deleted report"; request GET "/v1/reports/$csv_id" ""; expect "$last" 404
last="GET a deleted series"; request GET "$series" ""; expect "$last" 404

echo "api.sh: ${requests} requests, every status as expected"
