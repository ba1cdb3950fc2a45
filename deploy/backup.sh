#!/bin/sh
# Back up PostID's database: one pg_dump in custom format (compressed, restorable table by
# table, with pg_restore --jobs), taken from one consistent snapshot while the nodes keep
# serving. docs/operations.md ("Backup and restore") says what else must be kept: the
# key-encryption key, the secret key, the pairwise salt and the configuration are NOT in it.
#
# Usage: deploy/backup.sh OUTPUT_FILE [DATABASE_URL]
#   DATABASE_URL defaults to $IDP_DATABASE_URL (postgresql://... or postgresql+psycopg://...).
# Exit 0 with OUTPUT_FILE complete and readable; otherwise non-zero and no OUTPUT_FILE.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 OUTPUT_FILE [DATABASE_URL]" >&2
    exit 2
fi
output=$1
url=${2:-${IDP_DATABASE_URL:-}}
if [ -z "$url" ]; then
    echo "$0: no database URL (argument or IDP_DATABASE_URL)" >&2
    exit 2
fi
# libpq does not know SQLAlchemy's driver suffix.
url=$(printf '%s' "$url" | sed 's|^postgresql+psycopg://|postgresql://|')

partial="$output.partial"
trap 'rm -f "$partial"' EXIT
umask 077  # the dump holds personal data and password hashes
# --no-owner/--no-privileges: restorable by whichever role owns the new database.
pg_dump --format=custom --no-owner --no-privileges --file="$partial" --dbname="$url"
# A dump that pg_restore cannot list is no backup.
pg_restore --list "$partial" >/dev/null
mv "$partial" "$output"
trap - EXIT
echo "$0: wrote $output ($(wc -c <"$output") bytes)"
