#!/usr/bin/env bash
# The benchmark (docs/benchmarks.md): installs what it needs (wrk besides the servers), builds in Release and starts
# the whole system itself, then runs every scenario and writes artifacts/bench/report.{md,json} and latency.png.
# Arguments go to the bench: ./bench.sh --help, ./bench.sh --scenarios hot,confirm, ./bench.sh --attach .state
set -euo pipefail
cd "$(dirname "$0")"
scripts/prerequisites.sh wrk
# The load client's gen0 budget, which only the environment sets (tools/TicketSale.Bench/Load/LoadClientGc.cs).
DOTNET_GCgen0size=0x4000000 DOTNET_GCGen0MaxBudget=0x4000000 exec dotnet run -c Release --project tools/TicketSale.Bench -- "$@"
