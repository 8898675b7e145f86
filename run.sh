#!/usr/bin/env bash
# Runs the whole system: installs what is missing, builds, and starts the AppHost (Ctrl+C stops everything).
# Arguments go to the AppHost: --fresh discards the data kept in .state/, --state-dir PATH keeps it elsewhere.
set -euo pipefail
cd "$(dirname "$0")"
scripts/prerequisites.sh
dotnet build TicketSale.AppHost -c Release -nologo -v quiet
exec dotnet TicketSale.AppHost/bin/Release/net10.0/TicketSale.AppHost.dll "$@"
