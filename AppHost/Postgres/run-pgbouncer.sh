#!/usr/bin/env bash
# Runs Debian's PgBouncer in the foreground for the Mesh AppHost (Mesh:Postgres:Pooler=pgbouncer):
# transaction pooling in front of the platform's PostgreSQL at $PG_HOST:$PG_PORT, listening on
# 127.0.0.1:$PGBOUNCER_PORT. Every database is passed through under its own name; the superuser's
# password (from $PG_PASSWORD_FILE) is both what clients present and what PgBouncer logs in with.
# As root it drops to the postgres OS user (PgBouncer refuses to run as root). SIGTERM (how the
# AppHost stops it) closes it at once; the services' transactions in flight fail and are retried.
set -euo pipefail

: "${PGBOUNCER_DIR:?PGBOUNCER_DIR is required}" "${PGBOUNCER_PORT:?PGBOUNCER_PORT is required}"
: "${PG_HOST:?PG_HOST is required}" "${PG_PORT:?PG_PORT is required}" "${PG_PASSWORD_FILE:?PG_PASSWORD_FILE is required}"
PGBOUNCER_POOL_SIZE=${PGBOUNCER_POOL_SIZE:-20}
# Debian installs it in /usr/sbin, which is not on every user's PATH.
PATH=$PATH:/usr/sbin
exec 2>&1

if ! command -v pgbouncer >/dev/null; then
  echo "No pgbouncer on the PATH (install the pgbouncer package: scripts/prerequisites.sh does, as root)"
  exit 1
fi

mkdir -p "$PGBOUNCER_DIR"
chmod 700 "$PGBOUNCER_DIR"
umask 077
password=$(tr -d '\r\n' < "$PG_PASSWORD_FILE")
printf '"postgres" "%s"\n' "${password//\"/\"\"}" > "$PGBOUNCER_DIR/userlist.txt"
unset password

# transaction: a server connection is a client's only for one transaction, so a few dozen server
# connections serve every service's pool. What a session would carry across transactions
# (startup options, prepared statements by name, session advisory locks, SET) is not used:
# settings are the databases' own (ALTER DATABASE by migration) and the services prepare nothing
# by name behind a pooler (Mesh:Database:TransactionPooling).
# server_reset_query is empty: transaction pooling leaves no session state to discard.
# extra_float_digits: a startup parameter some clients send; PgBouncer 1.18 refuses unknown ones.
cat > "$PGBOUNCER_DIR/pgbouncer.ini" <<INI
[databases]
* = host=$PG_HOST port=$PG_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGBOUNCER_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $PGBOUNCER_DIR/userlist.txt
admin_users = postgres
stats_users = postgres
pool_mode = transaction
default_pool_size = $PGBOUNCER_POOL_SIZE
max_client_conn = 2000
server_reset_query =
ignore_startup_parameters = extra_float_digits
log_connections = 0
log_disconnections = 0
INI

if [ "$(id -u)" = 0 ]; then
  chown -R postgres:postgres "$PGBOUNCER_DIR"
  exec setpriv --reuid=postgres --regid=postgres --init-groups -- pgbouncer "$PGBOUNCER_DIR/pgbouncer.ini"
fi
exec pgbouncer "$PGBOUNCER_DIR/pgbouncer.ini"
