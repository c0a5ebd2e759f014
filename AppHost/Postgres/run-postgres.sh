#!/usr/bin/env bash
# Runs the machine's PostgreSQL in the foreground for the Mesh AppHost.
#   first start: initdb into $PGDATA with the superuser password from $PG_PASSWORD_FILE
#   every start: the superuser's password set to the file's; postgres on 127.0.0.1:$PGPORT,
#   stderr folded into stdout, fsync on, pg_stat_statements loaded (what each statement costs,
#   for operators and the load generator), group commit (below)
# As root it drops to the postgres OS user (postgres refuses to run as root).
# SIGTERM/SIGINT become a fast shutdown, so stopping the AppHost leaves no server behind.
set -euo pipefail

: "${PGDATA:?PGDATA is required}" "${PGPORT:?PGPORT is required}" "${PG_PASSWORD_FILE:?PG_PASSWORD_FILE is required}"
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_MAX_CONNECTIONS=${PG_MAX_CONNECTIONS:-300}
exec 2>&1

if [ ! -x "$PG_BIN/postgres" ]; then
  echo "No PostgreSQL binaries at $PG_BIN (install postgresql-15, or set Postgres:BinDir)"
  exit 1
fi

as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
  else
    "$@"
  fi
}

mkdir -p "$PGDATA"
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$PGDATA" "$PG_PASSWORD_FILE"
  chmod 600 "$PG_PASSWORD_FILE"
fi
chmod 700 "$PGDATA"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  echo "initdb into $PGDATA"
  as_postgres "$PG_BIN/initdb" -D "$PGDATA" -U postgres --pwfile="$PG_PASSWORD_FILE" \
    --auth-host=scram-sha-256 --auth-local=scram-sha-256 -E UTF8 --locale=C.UTF-8
fi

# A server left behind by a killed AppHost still holds the data folder: stop it first. One that
# was itself killed (-9) may still be exiting: wait for it, up to 30 s, and PostgreSQL's own
# crash recovery does the rest when the new server starts.
if [ -f "$PGDATA/postmaster.pid" ]; then
  old_pid=$(head -n 1 "$PGDATA/postmaster.pid")
  if [ -n "$old_pid" ] && kill -0 "$old_pid" 2>/dev/null; then
    echo "stopping a PostgreSQL left running (pid $old_pid)"
    as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" stop -m fast -w -t 60 || kill -9 "$old_pid" 2>/dev/null || true
    for _ in $(seq 1 300); do
      kill -0 "$old_pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
fi

# The password file is the AppHost's record of the superuser's password, and the services get
# theirs from it: make the server agree with it before it starts. A data folder from an older
# layout, or a password file lost or replaced, would otherwise leave PostgreSQL refusing the
# AppHost's password and every service waiting for a database that never becomes ready.
# Single-user mode reads the statement from stdin (never the command line) and takes ~0.1 s.
password=$(tr -d '\r\n' < "$PG_PASSWORD_FILE")
printf "ALTER ROLE postgres PASSWORD '%s';\n" "${password//\'/\'\'}" \
  | as_postgres "$PG_BIN/postgres" --single -D "$PGDATA" -c log_checkpoints=off postgres > /dev/null
unset password

# Group commit: a commit that finds at least commit_siblings (5) other transactions open waits
# commit_delay (300 µs) before flushing the WAL, so the commits that come in that time share its
# flush. Every commit is still on disk before it is acknowledged. Under load it cut the flushes
# per purchase from 4.4-4.7 to 3.8 and the CPU per purchase by 7-10% (docs/performance.md).
server_command=("$PG_BIN/postgres" -D "$PGDATA" -p "$PGPORT"
  -c listen_addresses=127.0.0.1
  -c unix_socket_directories=
  -c max_connections="$PG_MAX_CONNECTIONS"
  -c fsync=on -c synchronous_commit=on -c commit_delay=300
  -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.max=2000
  -c log_destination=stderr -c logging_collector=off)
if [ "$(id -u)" = 0 ]; then
  server_command=(setpriv --reuid=postgres --regid=postgres --init-groups -- "${server_command[@]}")
fi
# Started directly (not through a function) so that $! is the postmaster itself.
"${server_command[@]}" &
server=$!

stop() { kill -INT "$server" 2>/dev/null || true; }
trap stop TERM INT HUP

# wait returns early when a trapped signal arrives; keep waiting until the server is gone.
status=0
while kill -0 "$server" 2>/dev/null; do
  wait "$server" || status=$?
done
exit "$status"
