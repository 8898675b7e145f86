#!/usr/bin/env bash
# Installs what TicketSale needs on a Debian machine, and nothing when it is all there already.
set -euo pipefail

# Extra package names may be given as arguments (the benchmark adds wrk).
packages=(postgresql redis-server rabbitmq-server util-linux chromium prometheus prometheus-alertmanager "$@")
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if ((${#missing[@]} > 0)); then
  echo "Installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  # The packages' own service start-up is not wanted: the AppHost runs every server itself, on its own ports.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The pages are built with Vite, which needs Node.js 20.19 or later (Debian 12's own nodejs is 18).
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null; then
  echo "Node.js 20.19 or later with npm is required (node on PATH) to build the web app: https://nodejs.org/en/download" >&2
  exit 1
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "The .NET 10 SDK is required (dotnet on PATH): https://dotnet.microsoft.com/download" >&2
  exit 1
fi
