#!/usr/bin/env bash
# Launched by the shared OP harness (../shared/bench/run.py) through bench/postid-op.json:
# a fresh instance folder, the harness's client and account, then `idp serve` in the
# foreground (exec, so SIGTERM reaches gunicorn). Production password-hashing parameters.
set -euo pipefail
cd "$(dirname "$0")/.."
export IDP_ENV=development
export IDP_ISSUER="http://127.0.0.1:${PORT}"
export IDP_INSTANCE_PATH="${BENCH_INSTANCE:-$(mktemp -d -t postid-bench-XXXXXX)}"
# The harness logs in thousands of times from one address: lift the per-IP limit only.
export IDP_LOGIN_IP_LIMIT="1000000 per minute"
export IDP_LOG_LEVEL=WARNING
.venv/bin/python bench/prepare_op.py
exec .venv/bin/idp serve --host 127.0.0.1 --port "${PORT}" --workers "${WORKERS:-1}"
