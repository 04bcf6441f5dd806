#!/usr/bin/env bash
# `npm test`: installs what is missing, brings the local stack up, runs the whole suite
# against the real servers. Extra arguments go to jest (e.g. `npm test -- domain`).
set -euo pipefail
. "$(dirname "$0")/setup.sh"
setup_all

bash "$REPO_ROOT/ops/stack.sh" up

cd "$REPO_ROOT"
export NODE_ENV=test
# The suite's read models live in a database of their own: the users, roles and assessments the
# tests create never show in `npm start`'s system (topics and groups have per-test prefixes).
export DATABASE_URL="${DATABASE_URL:-postgres://microcred@127.0.0.1:${PGPORT:-5432}/microcred_test}"
exec npx --no-install jest "$@"
