#!/usr/bin/env bash
# Runs the whole system under .NET Aspire: installs what is missing, builds, and starts the AppHost, which starts every
# resource and Aspire's dashboard (Ctrl+C stops everything). Arguments go to the AppHost: --fresh discards the data
# kept in .state/, --state-dir PATH keeps it elsewhere.
set -euo pipefail
cd "$(dirname "$0")"
scripts/prerequisites.sh
dotnet build TicketSale.AppHost -c Release -nologo -v quiet
# The dashboard and its telemetry endpoints, over plain HTTP on loopback (no development certificate here).
export ASPNETCORE_URLS="${ASPNETCORE_URLS:-http://localhost:18888}"
export ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL="${ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL:-http://localhost:18889}"
export ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL="${ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL:-http://localhost:18890}"
export ASPIRE_ALLOW_UNSECURED_TRANSPORT=true
export DOTNET_ENVIRONMENT="${DOTNET_ENVIRONMENT:-Development}"
exec dotnet TicketSale.AppHost/bin/Release/net10.0/TicketSale.AppHost.dll "$@"
