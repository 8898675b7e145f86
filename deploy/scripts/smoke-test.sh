#!/usr/bin/env bash
# A release answers what every buyer's first visit needs:
#   deploy/scripts/smoke-test.sh BASE_URL
# BASE_URL is the gateway (the public site) or one colour's Api (through a port-forward).
set -euo pipefail
base=${1:?base URL, e.g. https://staging.tickets.example.com}
check() {
  local path=$1 status
  for attempt in $(seq 1 30); do
    status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$base$path" || true)
    [[ $status == 2* ]] && { echo "smoke: $path $status"; return 0; }
    sleep 2
  done
  echo "smoke: $path answered $status" >&2
  return 1
}
check /alive
check /health
check /api/campaigns
