#!/usr/bin/env bash
# postgres-start.sh starts the local Debian PostgreSQL 15 cluster used by the
# store/postgres contract tests and prints the DSN to use:
#
#	eval "$(scripts/postgres-start.sh)"
#	go test ./store/postgres/...
#
# It is idempotent: it installs the postgresql package only if PostgreSQL 15 is
# missing, creates the "15 main" cluster only if it does not exist, starts it
# only if it is down, and creates the role and database only if they are
# missing. Progress goes to stderr; stdout carries only the export line.
#
# The role (parley/parley by default) may CREATE DATABASE: the contract suite
# creates a fresh database per test and drops it afterwards.
set -euo pipefail

VERSION=${PG_VERSION:-15}
CLUSTER=${PG_CLUSTER:-main}
ROLE=${PARLEY_PG_USER:-parley}
PASSWORD=${PARLEY_PG_PASSWORD:-parley}
DATABASE=${PARLEY_PG_DATABASE:-parley_test}

log() { echo "postgres-start: $*" >&2; }

as_postgres() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		sudo -n -u postgres -- "$@"
	fi
}

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n -- "$@"; fi
}

if [ ! -x "/usr/lib/postgresql/$VERSION/bin/postgres" ]; then
	log "installing postgresql-$VERSION"
	as_root apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "postgresql-$VERSION" >&2
fi

if ! pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1==v && $2==c {found=1} END {exit !found}'; then
	log "creating cluster $VERSION/$CLUSTER"
	as_root pg_createcluster "$VERSION" "$CLUSTER" >&2
fi

PORT=$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1==v && $2==c {print $3}')
STATUS=$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1==v && $2==c {print $4}')
if [ "$STATUS" != online ]; then
	log "starting cluster $VERSION/$CLUSTER on port $PORT"
	as_root pg_ctlcluster "$VERSION" "$CLUSTER" start >&2
fi

# Wait until the server accepts connections (up to 60 s).
for _ in $(seq 1 120); do
	if pg_isready -q -h 127.0.0.1 -p "$PORT"; then
		break
	fi
	sleep 0.5
done
if ! pg_isready -q -h 127.0.0.1 -p "$PORT"; then
	log "PostgreSQL $VERSION/$CLUSTER did not become ready on port $PORT"
	exit 1
fi

psql_admin() {
	as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" -d postgres "$@"
}

if [ "$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != 1 ]; then
	log "creating role $ROLE"
	psql_admin -c "CREATE ROLE \"$ROLE\" LOGIN CREATEDB PASSWORD '$PASSWORD'" >&2
else
	psql_admin -c "ALTER ROLE \"$ROLE\" LOGIN CREATEDB PASSWORD '$PASSWORD'" >&2
fi
if [ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" != 1 ]; then
	log "creating database $DATABASE"
	psql_admin -c "CREATE DATABASE \"$DATABASE\" OWNER \"$ROLE\"" >&2
fi

DSN="postgres://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DATABASE?sslmode=disable"
# Check the DSN works over TCP with the password, as the tests will use it.
if ! PGPASSWORD=$PASSWORD psql -X -q -h 127.0.0.1 -p "$PORT" -U "$ROLE" -d "$DATABASE" -tAc 'SELECT 1' >/dev/null; then
	log "cannot connect as $ROLE over TCP: check pg_hba.conf of $VERSION/$CLUSTER"
	exit 1
fi
log "ready: $DSN"
echo "export PARLEY_TEST_POSTGRES='$DSN'"
