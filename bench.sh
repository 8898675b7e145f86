#!/usr/bin/env bash
# The benchmark (docs/performance.md): installs what it needs (wrk besides the servers), builds in Release and starts
# the whole system itself, then runs every scenario and writes artifacts/bench/report.{md,json} and latency.png.
# Arguments go to the bench: ./bench.sh --help, ./bench.sh --scenarios hot,confirm, ./bench.sh --attach .state
set -euo pipefail
cd "$(dirname "$0")"
scripts/prerequisites.sh wrk
exec dotnet run -c Release --project tools/TicketSale.Bench -- "$@"
