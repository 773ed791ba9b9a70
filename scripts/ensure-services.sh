#!/usr/bin/env bash
# Make sure the three servers the test suite talks to are up on loopback:
#   PostgreSQL 127.0.0.1:5432, Redis 127.0.0.1:6379, RabbitMQ 127.0.0.1:5672.
#
# Idempotent and fast when they already answer (nothing is started or
# installed then). A stopped one is started; a missing one is installed from
# Debian's packages (as root, or through sudo). Besides the servers, only
# Debian's chromium is installed when /usr/bin/chromium is missing: the
# browser end-to-end tests drive it through playwright (never with
# `playwright install`, which downloads a browser build of its own); and
# Debian's prometheus when `promtool` is missing: the tests check the alert
# rules with it (the package's own server is not needed).
#
# Environment: SERVICES_WAIT_SECONDS (default 60) bounds each wait.
set -euo pipefail

export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export DEBIAN_FRONTEND=noninteractive
WAIT="${SERVICES_WAIT_SECONDS:-60}"

say() { printf '%-11s %s\n' "$1:" "$2"; }
die() { say "$1" "ERROR: $2" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        echo "ensure-services: need root for: $*" >&2
        return 1
    fi
}

# A TCP connect to 127.0.0.1:$1, bounded to one second.
port_open() { timeout 1 bash -c ": </dev/tcp/127.0.0.1/$1" >/dev/null 2>&1; }

# Poll "$@" until it succeeds or $WAIT seconds have passed.
wait_for() {
    local deadline=$((SECONDS + WAIT))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.5
    done
}

pg_installed() { command -v pg_ctlcluster >/dev/null 2>&1 && [ -n "$(ls /etc/postgresql 2>/dev/null)" ]; }
redis_installed() { command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; }
rabbit_installed() { command -v rabbitmq-server >/dev/null 2>&1 && command -v rabbitmqctl >/dev/null 2>&1; }

declare -A STATE=([postgresql]=running [redis]=running [rabbitmq]=running)

# 1. Install what is missing (one apt-get update, one apt-get install).
missing=()
port_open 5432 || pg_installed || { missing+=(postgresql); STATE[postgresql]=installed; }
port_open 6379 || redis_installed || { missing+=(redis-server); STATE[redis]=installed; }
port_open 5672 || rabbit_installed || { missing+=(rabbitmq-server); STATE[rabbitmq]=installed; }
# Servers answering from elsewhere (a container, say) still need our clients.
[ "${STATE[postgresql]}" = installed ] || { command -v pg_isready >/dev/null 2>&1 && command -v psql >/dev/null 2>&1; } \
    || missing+=(postgresql-client)
[ "${STATE[redis]}" = installed ] || command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "ensure-services: installing ${missing[*]} from Debian's packages"
    as_root apt-get update -qq
    as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# A freshly installed PostgreSQL: trust on loopback, as on the project's
# machines, so that `psql -h 127.0.0.1 -U postgres` needs no password.
configure_fresh_postgres() {
    local version hba
    version="$(ls /etc/postgresql | sort -V | tail -n1)"
    hba="/etc/postgresql/$version/main/pg_hba.conf"
    [ -f "$hba.herald-orig" ] || as_root cp "$hba" "$hba.herald-orig"
    printf '%s\n' \
        '# Written by scripts/ensure-services.sh (original: pg_hba.conf.herald-orig).' \
        'local all all trust' \
        'host all all 127.0.0.1/32 trust' \
        'host all all ::1/128 trust' | as_root tee "$hba" >/dev/null
}

# 2. Start what is installed but not answering. A start that fails (say, a
#    node still booting) is not fatal: the wait below decides.
if [ "${STATE[postgresql]}" = installed ]; then
    configure_fresh_postgres
    # Its package may have started it already (where policy-rc.d allows).
    port_open 5432 && as_root pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main reload
fi
if ! port_open 5432; then
    [ "${STATE[postgresql]}" = running ] && STATE[postgresql]=started
    as_root pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start \
        || echo "ensure-services: pg_ctlcluster start failed; waiting anyway" >&2
fi
if ! port_open 6379; then
    [ "${STATE[redis]}" = running ] && STATE[redis]=started
    as_root mkdir -p /var/lib/redis /var/log/redis
    as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
        --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log \
        || echo "ensure-services: redis-server start failed; waiting anyway" >&2
fi
if ! port_open 5672; then
    [ "${STATE[rabbitmq]}" = running ] && STATE[rabbitmq]=started
    as_root rabbitmq-server -detached \
        || echo "ensure-services: rabbitmq-server start failed; waiting anyway" >&2
fi

# 3. Wait, bounded, until each one answers.
wait_for pg_isready -h 127.0.0.1 -p 5432 || die postgresql "not ready on 127.0.0.1:5432 after ${WAIT}s"
if [ "${STATE[postgresql]}" = installed ]; then
    # The roles and databases the project's machines have besides postgres.
    psql -h 127.0.0.1 -U postgres -w -qAtc "SELECT 1 FROM pg_roles WHERE rolname = 'root'" | grep -q 1 \
        || psql -h 127.0.0.1 -U postgres -w -qc "CREATE ROLE root SUPERUSER LOGIN"
    for db in test root; do
        psql -h 127.0.0.1 -U postgres -w -qAtc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 \
            || psql -h 127.0.0.1 -U postgres -w -qc "CREATE DATABASE \"$db\""
    done
fi
psql -h 127.0.0.1 -U postgres -w -qAtc 'SELECT 1' >/dev/null 2>&1 \
    || die postgresql "up, but 'psql -h 127.0.0.1 -U postgres' is refused without a password (set trust for 127.0.0.1 in pg_hba.conf)"
say postgresql "${STATE[postgresql]}, 127.0.0.1:5432 ($(psql -h 127.0.0.1 -U postgres -w -qAtc 'SHOW server_version' | cut -d' ' -f1))"

redis_pong() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }
wait_for redis_pong || die redis "no PONG from 127.0.0.1:6379 after ${WAIT}s"
say redis "${STATE[redis]}, 127.0.0.1:6379 (PONG)"

wait_for port_open 5672 || die rabbitmq "127.0.0.1:5672 not accepting connections after ${WAIT}s"
if command -v rabbitmqctl >/dev/null 2>&1; then
    as_root timeout "$((WAIT + 5))" rabbitmqctl -q await_startup --timeout "$WAIT" >/dev/null 2>&1 \
        || die rabbitmq "rabbitmqctl await_startup did not succeed within ${WAIT}s"
    say rabbitmq "${STATE[rabbitmq]}, 127.0.0.1:5672 (booted)"
else
    # Not a local node (no rabbitmqctl here): the open AMQP port is the signal.
    say rabbitmq "${STATE[rabbitmq]}, 127.0.0.1:5672 (port open; no rabbitmqctl here)"
fi
