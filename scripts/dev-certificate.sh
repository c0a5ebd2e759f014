#!/usr/bin/env bash
# Makes the ASP.NET Core development certificate when there is none and trusts it machine-wide
# (Debian's CA store), so the Aspire dashboard finds a trusted development certificate and opens
# without its "no trusted development certificate" banner. Mesh's services do not serve with it:
# the payment page and the ISO 8583 links have Mesh's own certificates, and the AppHost does not
# hand the development certificate to its resources (AppHost.cs). Trusting it needs root; without
# root the script says what to run, and the platform starts anyway.
set -euo pipefail
anchor=/usr/local/share/ca-certificates/aspnetcore-https-development.crt

dotnet dev-certs https -q
pem=$(mktemp)
trap 'rm -f "$pem"' EXIT
# PEM without a password: the certificate only, no private key.
dotnet dev-certs https --export-path "$pem" --format Pem -q
if ! command -v openssl >/dev/null || ! command -v update-ca-certificates >/dev/null; then
  echo "note: openssl and ca-certificates are needed to trust the development certificate; the dashboard will show a banner"
  exit 0
fi
if openssl verify "$pem" >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "note: the development certificate is not trusted: run scripts/dev-certificate.sh as root; the dashboard will show a banner"
  exit 0
fi
printf '\n== trusting the ASP.NET Core development certificate (%s)\n' "$anchor"
install -m 644 "$pem" "$anchor"
update-ca-certificates >/dev/null
