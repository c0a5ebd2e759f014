#!/usr/bin/env bash
# Mesh's run command: installs the PostgreSQL 15 binaries when they are missing and trusts the
# development certificate the dashboard looks for (as root), then runs the whole platform through
# the AppHost. Arguments go to the AppHost
# (./run.sh --Mesh:Replicas=2). Stop it with Ctrl+C.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/prerequisites.sh platform
./scripts/dev-certificate.sh
exec dotnet run --project AppHost -- "$@"
