#!/usr/bin/env bash
# Mesh's test command: installs what the tests need on a fresh machine of this kind, checks the
# build (zero warnings) and formatting, runs every test project and prints the summed TRX
# counters as the closing line: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")"

log() { printf '\n== %s\n' "$*"; }

# PostgreSQL 15, openssl and Chromium, installed when missing (as root).
./scripts/prerequisites.sh tests

log "build (warnings are errors)"
dotnet build Mesh.sln -c Release -nologo -v quiet

log "format check"
dotnet format Mesh.sln --verify-no-changes --no-restore

results="TestResults/$(date -u +%Y%m%dT%H%M%SZ)"
log "tests (results in $results)"
status=0
dotnet test Mesh.sln -c Release --no-build --logger "trx" \
  --results-directory "$results" || status=$?

passed=0; failed=0; files=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0} + ${e:-0}))
done
if [ "$files" -eq 0 ]; then
  echo "no test results were written"; status=1
fi

echo
echo "$passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then status=1; fi
exit "$status"
