#!/usr/bin/env bash
# Throwaway PostgreSQL clusters for tests, benchmarks and local runs.
#
# Source this file, then:
#   pg_ensure_installed            install PostgreSQL + libpq-dev when missing; sets PG_BIN
#   pg_start_throwaway DIR         initdb + start a cluster in DIR (as the `postgres` OS user when
#                                  run as root, because PostgreSQL refuses to run as root); exports
#                                  PGHOST, PGPORT, PGUSER, PGDATABASE, ONESEAL_TEST_POSTGRES and
#                                  ONESEAL_TEST_POSTGRES_RESTART (a script restarting the cluster)
#   pg_stop_throwaway DIR          stop the cluster (fast shutdown); DIR is left for the caller
#
# The cluster is for local use only: trust authentication, fsync off, listening on 127.0.0.1 and
# on a unix socket inside DIR. ONESEAL_POSTGRES_OPTIONS adds server options, e.g. for a profile:
#   ONESEAL_POSTGRES_OPTIONS='-c shared_preload_libraries=pg_stat_statements'

pg_find_bin() {
    local dir
    if [[ -n "${PG_BIN:-}" && -x "${PG_BIN}/initdb" ]]; then
        return 0
    fi
    # Highest installed major version first.
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            PG_BIN="$dir"
            export PG_BIN
            return 0
        fi
    done
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        PG_BIN="$(dirname "$(command -v initdb)")"
        export PG_BIN
        return 0
    fi
    return 1
}

pg_ensure_installed() {
    if pg_find_bin && command -v pg_config >/dev/null 2>&1 && command -v psql >/dev/null 2>&1; then
        return 0
    fi
    echo "postgres.sh: installing PostgreSQL and libpq-dev" >&2
    local sudo=""
    if [[ "$(id -u)" != "0" ]]; then sudo="sudo"; fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql postgresql-contrib libpq-dev >&2
    unset PG_BIN
    pg_find_bin || { echo "postgres.sh: initdb not found after install" >&2; return 1; }
}

# Prints a free TCP port on 127.0.0.1.
pg_free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
        return
    fi
    local port listening
    # Read whole, then searched: a `| grep -q` that stops early can kill the writer with SIGPIPE,
    # and under pipefail a port in use would then look free.
    listening="$(ss -ltn 2>/dev/null | awk '{print $4}' || true)"
    for port in $(seq 54320 54999); do
        if ! grep -q ":$port\$" <<<"$listening"; then
            echo "$port"
            return
        fi
    done
    return 1
}

# Runs a command as the cluster owner (postgres when we are root, ourselves otherwise).
pg_as_owner() {
    if [[ "$(id -u)" == "0" ]]; then
        if ! id postgres >/dev/null 2>&1; then
            useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
        fi
        # runuser keeps us free of PAM/tty prompts; fall back to su.
        if command -v runuser >/dev/null 2>&1; then
            runuser -u postgres -- "$@"
        else
            su postgres -s /bin/bash -c "$(printf '%q ' "$@")"
        fi
    else
        "$@"
    fi
}

pg_start_throwaway() {
    local dir="${1:?usage: pg_start_throwaway DIR}"
    pg_ensure_installed || return 1
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if [[ "$(id -u)" == "0" ]]; then
        pg_as_owner true   # creates the user when missing
        chown postgres: "$dir"
        chmod 700 "$dir"
    fi
    local data="$dir/data" port
    if [[ ! -f "$data/PG_VERSION" ]]; then
        pg_as_owner "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 \
            --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
            || pg_as_owner "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 \
                --no-locale --no-sync >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; return 1; }
    fi
    port="$(pg_free_port)" || { echo "postgres.sh: no free port" >&2; return 1; }
    pg_as_owner "$PG_BIN/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=1000 -c shared_buffers=128MB ${ONESEAL_POSTGRES_OPTIONS:-}" \
        start >"$dir/pg_ctl.log" 2>&1 \
        || { cat "$dir/pg_ctl.log" "$dir/server.log" >&2; return 1; }
    echo "$port" >"$dir/port"
    export PGHOST=127.0.0.1
    export PGPORT="$port"
    export PGUSER=postgres
    export PGDATABASE=postgres
    export ONESEAL_TEST_POSTGRES="host=127.0.0.1 port=$port user=postgres dbname=postgres"
    # A script that restarts this cluster (fast shutdown, same port and options), for the
    # end-to-end "nothing lost" test: every connection drops, the server comes back.
    local owner=""
    if [[ "$(id -u)" == "0" ]]; then
        if command -v runuser >/dev/null 2>&1; then owner="runuser -u postgres --"; else owner="su postgres -s /bin/bash -c"; fi
    fi
    {
        echo '#!/usr/bin/env bash'
        echo 'set -e'
        if [[ "$owner" == "su postgres -s /bin/bash -c" ]]; then
            printf '%s %q\n' "$owner" "$PG_BIN/pg_ctl -D $data -l $dir/server.log -w -t 60 -m fast restart >/dev/null"
        else
            printf '%s %q -D %q -l %q -w -t 60 -m fast restart >/dev/null\n' "$owner" "$PG_BIN/pg_ctl" "$data" "$dir/server.log"
        fi
    } >"$dir/restart"
    chmod 755 "$dir/restart"
    export ONESEAL_TEST_POSTGRES_RESTART="$dir/restart"
    echo "postgres.sh: PostgreSQL running in $dir on 127.0.0.1:$port" >&2
}

pg_stop_throwaway() {
    local dir="${1:?usage: pg_stop_throwaway DIR}"
    pg_find_bin || return 0
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 \
            || pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 \
            || true
    fi
}
