#!/bin/sh
# Restore a dump made by deploy/backup.sh into a NEW, empty database, then refresh the
# planner's statistics (a dump carries none). Never restores over a database that has tables.
#
# Usage: deploy/restore.sh DUMP_FILE DATABASE_URL [JOBS]
#   create the database first, owned by the role PostID connects as, e.g.
#   createdb -h db.internal -U postgres -O postid postid_restored
# Afterwards: `idp audit verify` against it, then point IDP_DATABASE_URL at it
# (docs/operations.md, "Backup and restore").
set -eu

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 DUMP_FILE DATABASE_URL [JOBS]" >&2
    exit 2
fi
dump=$1
url=$(printf '%s' "$2" | sed 's|^postgresql+psycopg://|postgresql://|')
jobs=${3:-2}

pg_restore --list "$dump" >/dev/null
tables=$(psql --no-psqlrc --tuples-only --no-align --dbname="$url" \
    --command="SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
if [ "$tables" != "0" ]; then
    echo "$0: the target database already has $tables tables; restore into a new, empty one" >&2
    exit 1
fi
pg_restore --no-owner --no-privileges --exit-on-error --jobs="$jobs" --dbname="$url" "$dump"
psql --no-psqlrc --quiet --dbname="$url" --command="ANALYZE"
echo "$0: restored $dump; now run: IDP_DATABASE_URL=<this database> idp audit verify"
