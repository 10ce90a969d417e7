#!/usr/bin/env bash
# Starts (start) or stops (stop) Debian's PostgreSQL cluster on loopback for the tests, with a
# role that may create databases: each PostgreSQL test makes its own database and drops it.
# Prints the URL the tests read from DOSSIER_TEST_POSTGRES.
set -euo pipefail
action="${1:-start}"
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}
root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
version="$(ls /usr/lib/postgresql | sort -V | tail -1)"
case "$action" in
  start)
    if ! pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "$version main"; then
      root pg_createcluster "$version" main >/dev/null
    fi
    if ! pg_lsclusters -h | awk '$1 == "'"$version"'" && $2 == "main" {print $4}' | grep -qx online; then
      # Its notes ("Removed stale pid file." after a killed session) go to stdout: keep them
      # off the one line this script prints. A server killed a moment ago may still hold its
      # socket lock: try again.
      for attempt in 1 2 3 4 5; do
        root pg_ctlcluster "$version" main start >&2 && break
        [ "$attempt" -lt 5 ] || exit 1
        sleep 2
      done
    fi
    for _ in $(seq 1 30); do
      pg_isready -q -h 127.0.0.1 && break
      sleep 1
    done
    pg_isready -h 127.0.0.1 >&2
    as_postgres psql -q -v ON_ERROR_STOP=1 -d postgres -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dossier_test') THEN
        CREATE ROLE dossier_test LOGIN CREATEDB PASSWORD 'dossier_test';
      END IF; END \$\$;" >/dev/null
    echo "postgres://dossier_test:dossier_test@127.0.0.1:5432/postgres"
    ;;
  stop)
    if pg_lsclusters -h | awk '$1 == "'"$version"'" && $2 == "main" {print $4}' | grep -qx online; then
      root pg_ctlcluster "$version" main stop >&2
    fi
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
