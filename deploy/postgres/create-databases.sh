#!/bin/sh
# Runs once, when the node's PostgreSQL volume is first initialised (docker-entrypoint-initdb.d):
# one role and one database per service, so no service can read another's tables (docs/architecture.md#topology),
# and one for the web front's accounts and sessions (oneseal_web, #18; docs/operators.md).
# The services' password comes from the node's db-password secret (ONESEAL_DB_PASSWORD_FILE);
# it reaches SQL as a psql variable (:'password'), never spliced into the text.
set -eu
password="$(cat "$ONESEAL_DB_PASSWORD_FILE")"
for service in intake approval certificate supervision evaluation web; do
    database="oneseal_${service}_${ONESEAL_NODE}"
    psql -v ON_ERROR_STOP=1 -v password="$password" --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE oneseal_${service} LOGIN PASSWORD :'password';
CREATE DATABASE ${database} OWNER oneseal_${service};
REVOKE ALL ON DATABASE ${database} FROM PUBLIC;
SQL
done
