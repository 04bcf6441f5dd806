#!/usr/bin/env bash
# `npm test`: installs what is missing, brings the local stack up, runs the whole suite
# against the real servers. Extra arguments go to jest (e.g. `npm test -- domain`).
set -euo pipefail
. "$(dirname "$0")/setup.sh"
setup_all

bash "$REPO_ROOT/ops/stack.sh" up

cd "$REPO_ROOT"
export NODE_ENV=test
exec npx --no-install jest "$@"
