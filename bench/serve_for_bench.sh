#!/usr/bin/env bash
# Launched by the shared OP harness (../shared/bench/run.py) through bench/postid-op.json (the
# embedded SQLite database) or bench/postid-op-postgres.json (BENCH_POSTGRES=1: a fresh
# PostgreSQL database per launch, dropped when the server stops, and Redis for the shared limits,
# as in production): the harness's client and account, then `idp serve` in the foreground.
# Production password-hashing parameters. The audit sealer is not run inside the requests: in
# production it is its own worker (`idp audit seal --loop`, docs/deployment.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"  # this checkout's code, whichever venv runs it
export IDP_ENV=development
export IDP_ISSUER="http://127.0.0.1:${PORT}"
export IDP_INSTANCE_PATH="${BENCH_INSTANCE:-$(mktemp -d -t postid-bench-XXXXXX)}"
export IDP_AUDIT_SEAL_IN_PROCESS=0
# The harness logs in thousands of times from one address: lift the per-IP limit only.
export IDP_LOGIN_IP_LIMIT="1000000 per minute"
export IDP_LOG_LEVEL=WARNING
py=.venv/bin/python

if [[ "${BENCH_POSTGRES:-0}" == 1 ]]; then
  pg="${BENCH_PG_URL:-postgresql://postgres@127.0.0.1:5432}"
  db="postid_bench_${PORT}_$$"
  psql "$pg/postgres" -qc "CREATE DATABASE \"$db\"" > /dev/null
  export IDP_DATABASE_URL="$pg/$db"
  export IDP_REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379/$((PORT % 16))}"
  $py bench/prepare_op.py
  $py -m idp serve --host 127.0.0.1 --port "${PORT}" --workers "${WORKERS:-1}" &
  server=$!
  trap 'kill -TERM "$server" 2> /dev/null || true' TERM INT
  wait "$server" || wait "$server" || true
  psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" > /dev/null || true
  exit 0
fi
$py bench/prepare_op.py
exec $py -m idp serve --host 127.0.0.1 --port "${PORT}" --workers "${WORKERS:-1}"
