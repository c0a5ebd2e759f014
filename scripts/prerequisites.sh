#!/usr/bin/env bash
# Installs what Mesh needs on a fresh Debian machine of this kind, when it is missing:
#   scripts/prerequisites.sh platform   the PostgreSQL 15 server binaries (the AppHost runs them), and
#                                       PgBouncer, Patroni and etcd (Mesh:Postgres:Pooler, Mesh:Postgres=ha)
#   scripts/prerequisites.sh tests      those, plus openssl, Chromium and a Chinese font, kubectl and promtool for the test projects
# Installing needs root (apt); without it the script names what is missing and stops.
set -euo pipefail
what=${1:-platform}

need_apt=()
[ -x /usr/lib/postgresql/15/bin/postgres ] || need_apt+=(postgresql-15)
command -v setpriv >/dev/null || need_apt+=(util-linux)
# The pooler and the highly available topology (docs/operations.md), and their tests.
[ -x /usr/sbin/pgbouncer ] || need_apt+=(pgbouncer)
command -v patroni >/dev/null || need_apt+=(patroni)
command -v etcd >/dev/null || need_apt+=(etcd-server)
if [ "$what" = tests ]; then
  # The SDK's tests check its signatures against the openssl command line.
  command -v openssl >/dev/null || need_apt+=(openssl)
  # The browser tests drive the machine's Chromium (Playwright downloads no browser here).
  [ -x /usr/bin/chromium ] || need_apt+=(chromium)
  # A Chinese font, so the screenshots of the pages in Chinese show characters rather than boxes.
  { command -v fc-list >/dev/null && [ -n "$(fc-list :lang=zh)" ]; } || need_apt+=(fonts-wqy-microhei)
  # The deployment tests render deploy/k8s with kubectl's kustomize (any kubectl; Debian's is 1.20).
  command -v kubectl >/dev/null || need_apt+=(kubernetes-client)
  # The alert rules in deploy/prometheus are checked and unit-tested by promtool (Debian's prometheus package).
  command -v promtool >/dev/null || need_apt+=(prometheus)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing: ${need_apt[*]} (install them, or run as root so this script can)"; exit 1
  fi
  printf '\n== installing %s\n' "${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  echo "the postgres OS user is missing (it comes with the postgresql-15 package)"; exit 1
fi
command -v dotnet >/dev/null || { echo "the .NET 10 SDK is required (dotnet on PATH)"; exit 1; }
