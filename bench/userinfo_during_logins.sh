#!/usr/bin/env bash
# Userinfo while sign-ins run: does hashing starve the protocol endpoints?
#
#   bench/userinfo_during_logins.sh <harness dir> <adapter.json> [<adapter.json> ...]
#
# For each running OP (adapters without "launch", or with the server started by hand, pinned to
# one core: `taskset -c 1 ...`), the shared harness's driver runs the login scenario at c=8 for
# 26 s and, from its 8th second, userinfo at c=8 for 12 s, both drivers on CPU 0. Prints each
# OP's userinfo and login lines; alternate the OPs over several rounds and compare in one run.
set -euo pipefail
harness="$1"; shift
out="$(mktemp -d -t userinfo-during-logins-XXXXXX)"
for op in "$@"; do
  name="$(basename "$op" .json)"
  "$harness/.venv/bin/python" "$harness/drive.py" --op "$op" --scenarios login --concurrency 8 \
    --duration 26 --warmup 1 --cpu 0 > "$out/login-$name.txt" 2>&1 &
  logins=$!
  sleep 8
  "$harness/.venv/bin/python" "$harness/drive.py" --op "$op" --scenarios userinfo \
    --concurrency 8 --duration 12 --warmup 1 --cpu 0 > "$out/userinfo-$name.txt" 2>&1
  wait "$logins"
  echo "$name userinfo during logins: $(grep -m1 'ok/s' "$out/userinfo-$name.txt")"
  echo "$name logins (whole 26 s):     $(grep -m1 'ok/s' "$out/login-$name.txt")"
done
echo "driver output in $out"
