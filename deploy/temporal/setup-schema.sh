#!/bin/sh
# One-shot Temporal persistence setup on PostgreSQL, run by the `temporal-schema` service
# (temporalio/admin-tools) before the Temporal server starts: creates the two databases, installs
# the base schema once, then applies every versioned schema update. Safe to run at every
# `docker compose up`: what exists is left alone, and an upgraded image's updates are applied.
set -eu

: "${DB:=postgres12}"
: "${DB_PORT:=5432}"
: "${DBNAME:=temporal}"
: "${VISIBILITY_DBNAME:=temporal_visibility}"
: "${POSTGRES_SEEDS:?POSTGRES_SEEDS is required}"
: "${POSTGRES_USER:?POSTGRES_USER is required}"
: "${POSTGRES_PWD:?POSTGRES_PWD is required}"
# temporal-sql-tool reads its password from SQL_PASSWORD.
export SQL_PASSWORD="$POSTGRES_PWD"
SCHEMAS=/etc/temporal/schema/postgresql/v12

sql_tool() {
  database="$1"
  shift
  temporal-sql-tool --plugin "$DB" --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" --db "$database" "$@"
}

prepare() {
  database="$1"
  schema="$2"
  if sql_tool "$database" create >/tmp/create.log 2>&1; then
    echo "$database: created"
  elif grep -qi 'already exists' /tmp/create.log; then
    echo "$database: exists"
  else
    cat /tmp/create.log >&2
    exit 1
  fi
  # setup-schema installs version 0.0 and refuses to run twice: a second run means it is there.
  if sql_tool "$database" setup-schema -v 0.0 >/tmp/setup.log 2>&1; then
    echo "$database: base schema installed"
  elif grep -qi 'schema_version.*already exists\|already exists.*schema_version' /tmp/setup.log; then
    echo "$database: base schema already there"
  else
    cat /tmp/setup.log >&2
    exit 1
  fi
  sql_tool "$database" update-schema -d "$SCHEMAS/$schema/versioned"
  echo "$database: schema up to date"
}

echo "waiting for PostgreSQL at $POSTGRES_SEEDS:$DB_PORT"
until nc -z "$POSTGRES_SEEDS" "$DB_PORT"; do sleep 1; done
prepare "$DBNAME" temporal
prepare "$VISIBILITY_DBNAME" visibility
