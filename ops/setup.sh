#!/usr/bin/env bash
# Makes a clean clone runnable: system packages, node modules (the Kafka client builds
# librdkafka from its bundled sources, offline), a local secrets file, and the build.
# Idempotent and quiet when there is nothing to do. Sourced by start.sh and test.sh.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export STACK_DIR="${STACK_DIR:-$REPO_ROOT/.stack}"
export CACHE_DIR="${CACHE_DIR:-$REPO_ROOT/.cache}"
mkdir -p "$STACK_DIR" "$CACHE_DIR"

say() { printf '\033[1m[microcred]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[microcred] %s\033[0m\n' "$*" >&2; exit 1; }

setup_system() {
  bash "$REPO_ROOT/ops/install-system-deps.sh" || die "installing system packages failed (see the message above)"
}

setup_node_modules() {
  command -v node >/dev/null || die "node is not installed: install Node.js 20"
  local major; major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || die "Node.js 20 or newer is required, found $(node --version)"
  local stamp="$REPO_ROOT/node_modules/.microcred-lock-hash"
  local want; want="$(sha256sum "$REPO_ROOT/package-lock.json" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  say "installing node modules (first time: builds librdkafka, about 2 minutes)"
  # Headers for native modules come from the local Node install, never from the network.
  local nodedir=/usr; [ -f /usr/include/node/node.h ] || nodedir="$(dirname "$(dirname "$(command -v node)")")"
  (cd "$REPO_ROOT" && CKJS_LINKING=dynamic npm_config_nodedir="$nodedir" npm_config_cache="$CACHE_DIR/npm" \
    npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed; see the output above"
  echo "$want" >"$stamp"
}

# Local-only secrets, generated once, never committed (.stack is git-ignored). Production
# sets these through its own environment.
setup_secrets() {
  local file="$STACK_DIR/secrets.env"
  if [ ! -f "$file" ]; then
    # Only this file is private: a umask set here would leak into every later mkdir.
    (
      umask 077
      {
        echo "JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')"
        echo "BOOTSTRAP_ADMIN_EMAIL=admin@microcred.local"
        echo "BOOTSTRAP_ADMIN_PASSWORD=a1$(head -c 18 /dev/urandom | base64 | tr -d '\n/+=')"
        echo "DEMO_STUDENT_EMAIL=student@microcred.local"
        echo "DEMO_STUDENT_PASSWORD=s1$(head -c 12 /dev/urandom | base64 | tr -d '\n/+=')"
      } >"$file"
    )
  fi
  set -a
  # shellcheck disable=SC1090
  . "$file"
  set +a
}

build() {
  (cd "$REPO_ROOT" && npx --no-install tsc -p tsconfig.json) || die "TypeScript build failed"
}

setup_all() {
  setup_system
  setup_node_modules
  setup_secrets
  build
}
