#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, then unit, integration (real PostgreSQL, Redis and RabbitMQ
# started by the AppHost's test host) and browser tests. Arguments go to 'dotnet test' (e.g. --filter).
set -euo pipefail
cd "$(dirname "$0")"
scripts/prerequisites.sh
rm -rf TestResults && mkdir -p TestResults
status=0
# The pages' own unit tests (TypeScript, Vitest); the browser tests among the .NET tests drive the built pages.
(cd TicketSale.Web/ClientApp && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } &&
  npx vitest run --reporter=default --reporter=junit --outputFile.junit=../../TestResults/web-unit.xml) || status=$?
dotnet build TicketSale.sln -c Release -nologo -v quiet || exit
# The AppHost's own tests start whole AppHosts, each busy for half a minute; the sale's tests spend much of their time
# waiting (deadlines, retries, a sale's opening). Side by side they take the sale's time instead of the sum of both
# (each keeps its own output: the AppHost tests' is printed after them).
run() { dotnet test "tests/$1" -c Release --no-build --logger "trx;LogFileName=$1.trx" --results-directory TestResults "${@:2}"; }
run TicketSale.AppHost.Tests --logger "console;verbosity=normal" "$@" >TestResults/apphost-tests.log 2>&1 &
apphost=$!
run TicketSale.Sales.Tests --logger "console;verbosity=normal" "$@" || status=$?
wait "$apphost" || status=$?
cat TestResults/apphost-tests.log
run TicketSale.UnitTests --logger "console;verbosity=normal" "$@" || status=$?

# One closing line for every test project together.
passed=0 failed=0 skipped=0
for trx in TestResults/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  passed=$((passed + $(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters")))
  failed=$((failed + $(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")))
  skipped=$((skipped + $(sed -E 's/.* notExecuted="([0-9]+)".*/\1/' <<<"$counters")))
done
if [ -e TestResults/web-unit.xml ]; then
  counters=$(grep -o -m1 '<testsuites [^>]*>' TestResults/web-unit.xml)
  web_tests=$(sed -E 's/.* tests="([0-9]+)".*/\1/' <<<"$counters")
  web_failed=$(($(sed -E 's/.* failures="([0-9]+)".*/\1/' <<<"$counters") + $(sed -E 's/.* errors="([0-9]+)".*/\1/' <<<"$counters")))
  web_skipped=$(grep -c '<skipped' TestResults/web-unit.xml || true)
  passed=$((passed + web_tests - web_failed - web_skipped))
  failed=$((failed + web_failed))
  skipped=$((skipped + web_skipped))
fi
# CI keeps only the tail of the output: name each failed test and the start of its message there.
if ((failed > 0)); then
  echo "Failed tests:"
  for trx in TestResults/*.trx; do
    [ -e "$trx" ] || continue
    awk '/<UnitTestResult / && /outcome="Failed"/ { match($0, /testName="[^"]*"/); name = substr($0, RSTART + 10, RLENGTH - 11); want = 1 }
         want && /<Message>/ { sub(/.*<Message>/, ""); sub(/<\/Message>.*/, ""); print "  " name ": " substr($0, 1, 400); want = 0 }' "$trx" |
      sed -e 's/&quot;/"/g' -e 's/&lt;/</g' -e 's/&gt;/>/g' -e "s/&apos;/'/g" -e 's/&amp;/\&/g'
  done
fi
echo "Tests: $passed passed, $failed failed, $skipped skipped"
if ((status == 0 && passed == 0)); then
  echo "No test ran." >&2
  exit 1
fi
exit "$status"
