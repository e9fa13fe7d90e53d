#!/bin/sh
# Entry point of the PostgreSQL image that scripts/compose-images makes offline from Debian's
# postgresql-15 (no registry image can be pulled here; docs/decisions.md O1). It does for this
# stack what the official postgres image's entry point does and no more: on an empty volume,
# initdb with the superuser password from POSTGRES_PASSWORD_FILE (SCRAM, never trust over TCP),
# run /docker-entrypoint-initdb.d/*.sh once (deploy/postgres/create-databases.sh), then run the
# server in the foreground as `postgres`, so a stop signal reaches it and it shuts down cleanly.
set -eu
PG_BIN=/usr/lib/postgresql/15/bin
PGDATA="${PGDATA:-/var/lib/postgresql/data}"
export PGDATA

if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown -R postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD_FILE:?POSTGRES_PASSWORD_FILE must name the superuser password file}"
    export POSTGRES_USER="${POSTGRES_USER:-postgres}"
    password_file="$(mktemp)"
    tr -d '\n' <"$POSTGRES_PASSWORD_FILE" >"$password_file"
    "$PG_BIN/initdb" -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$password_file" -E UTF8 --locale=C.UTF-8 \
        --auth-local=peer --auth-host=scram-sha-256 >/dev/null
    rm -f "$password_file"
    # Containers reach the database over the node's private compose network only.
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    "$PG_BIN/pg_ctl" -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    for script in /docker-entrypoint-initdb.d/*.sh; do
        [ -e "$script" ] || continue
        echo "entrypoint: running $script"
        sh "$script"
    done
    "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
    echo "entrypoint: database initialised"
fi

exec "$PG_BIN/postgres" -D "$PGDATA" -c listen_addresses='*' "$@"
