#!/usr/bin/env bash
# Runs one Patroni-managed PostgreSQL 15 node in the foreground for the Mesh AppHost
# (Mesh:Postgres=ha): Patroni, with etcd at $ETCD_HOSTS as its consensus store, keeps one node
# the primary and the other its synchronous standby, promotes the standby when the primary's
# leader key expires, and rewinds a returning old primary (pg_rewind) into a standby.
#   first start of the cluster: the node that takes the leader key runs initdb; the other clones it
#   (pg_basebackup over the replication role)
#   PostgreSQL on 127.0.0.1:$PGPORT, Patroni's REST API (health, role) on 127.0.0.1:$REST_PORT
# The superuser's password (from $PG_PASSWORD_FILE) is also the replication role's. As root it
# drops to the postgres OS user (postgres refuses to run as root). SIGTERM stops Patroni, which
# stops its PostgreSQL first.
set -euo pipefail

: "${NODE_NAME:?NODE_NAME is required}" "${NODES_DIR:?NODES_DIR is required}" "${PGPORT:?PGPORT is required}"
: "${REST_PORT:?REST_PORT is required}" "${ETCD_HOSTS:?ETCD_HOSTS is required}" "${PG_PASSWORD_FILE:?PG_PASSWORD_FILE is required}"
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_MAX_CONNECTIONS=${PG_MAX_CONNECTIONS:-300}
exec 2>&1

if ! command -v patroni >/dev/null; then
  echo "No patroni on the PATH (install the patroni package: scripts/prerequisites.sh does, as root)"
  exit 1
fi

node_dir="$NODES_DIR/$NODE_NAME"
mkdir -p "$node_dir"
chmod 700 "$node_dir"
umask 077
password=$(tr -d '\r\n' < "$PG_PASSWORD_FILE")
quoted=${password//\'/\'\'}

# bootstrap.dcs is the cluster's shared configuration, written to etcd by the first node:
#   ttl 10 s: a primary that stops renewing its leader key (its node is gone) loses it after 10 s,
#   and the standby is promoted on its next loop (loop_wait 1 s).
#   synchronous_mode: a commit is acknowledged once the synchronous standby has flushed it, and
#   Patroni promotes only a node that was synchronous, so no acknowledged commit is lost. Not
#   strict: with the standby gone the primary goes on alone rather than refusing every write.
#   use_pg_rewind (with wal_log_hints): a returning old primary is rewound to the new timeline
#   instead of cloned again; when the rewind fails, or the timelines diverged where it cannot help,
#   the node's data folder is removed and it is cloned again (remove_data_directory_on_*), so a
#   node never waits for an operator to rejoin. Nothing acknowledged is lost that way: in
#   synchronous mode every acknowledged commit is on the new primary already.
#   commit_delay: the group commit the single server has (docs/performance.md).
# The unix socket sits in the node's own folder (mode 700, the postgres user's), which is what
# makes `local all all trust` safe: it is how Patroni itself connects. Every TCP login is SCRAM.
cat > "$node_dir/patroni.yml" <<YML
scope: mesh
namespace: /mesh/
name: $NODE_NAME
log:
  level: WARNING
restapi:
  listen: 127.0.0.1:$REST_PORT
  connect_address: 127.0.0.1:$REST_PORT
etcd3:
  hosts: $ETCD_HOSTS
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 1
    retry_timeout: 4
    maximum_lag_on_failover: 0
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        max_connections: $PG_MAX_CONNECTIONS
        wal_level: replica
        hot_standby: "on"
        max_wal_senders: 5
        max_replication_slots: 5
        wal_log_hints: "on"
        synchronous_commit: "on"
        commit_delay: 300
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
postgresql:
  listen: 127.0.0.1:$PGPORT
  connect_address: 127.0.0.1:$PGPORT
  use_unix_socket: true
  data_dir: $node_dir/data
  bin_dir: $PG_BIN
  pgpass: $node_dir/pgpass
  remove_data_directory_on_rewind_failure: true
  remove_data_directory_on_diverged_timelines: true
  authentication:
    superuser:
      username: postgres
      password: '$quoted'
    replication:
      username: replicator
      password: '$quoted'
    rewind:
      username: postgres
      password: '$quoted'
  parameters:
    unix_socket_directories: '$node_dir'
    listen_addresses: 127.0.0.1
    fsync: "on"
    shared_preload_libraries: pg_stat_statements
    log_destination: stderr
    logging_collector: "off"
  pg_hba:
    - local all all trust
    - host replication replicator 127.0.0.1/32 scram-sha-256
    - host all all 127.0.0.1/32 scram-sha-256
YML
unset password quoted

# Patroni and the PostgreSQL tools it runs start in the node's own folder: the AppHost's folder (this
# script's working directory) may be one the postgres user cannot enter, and initdb then fails.
cd "$node_dir"
if [ "$(id -u)" = 0 ]; then
  chown -R postgres:postgres "$node_dir"
  exec setpriv --reuid=postgres --regid=postgres --init-groups -- env HOME="$node_dir" patroni "$node_dir/patroni.yml"
fi
exec patroni "$node_dir/patroni.yml"
