#!/usr/bin/env bash
# Installs the Debian packages microcred needs, only those missing (idempotent, quiet).
#   bash ops/install-system-deps.sh            # everything below
#   bash ops/install-system-deps.sh PKG...     # just these (ops/stack.sh uses it for postgresql-15)
#
# - postgresql-15: the stack's database server (ops/stack.sh runs its own cluster).
# - libcurl4-openssl-dev libssl-dev zlib1g-dev libzstd-dev libsasl2-dev liblz4-dev: build
#   deps of the librdkafka binding @confluentinc/kafka-javascript (built with
#   CKJS_LINKING=dynamic); without them its build tries to download sources and fails offline.
# - curl, unzip: ops/stack.sh health checks and Elasticsearch unpacking.
# Java 17 and Maven are expected on the machine already (ops/stack.sh says so if not).
set -euo pipefail

DEFAULT_PACKAGES=(
  postgresql-15
  libcurl4-openssl-dev libssl-dev zlib1g-dev libzstd-dev libsasl2-dev liblz4-dev
  curl unzip
)

die() {
  printf '[system-deps] ERROR: %s\n' "$*" >&2
  exit 1
}

installed() {
  [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

main() {
  local packages=("$@") missing=() p
  ((${#packages[@]})) || packages=("${DEFAULT_PACKAGES[@]}")
  command -v dpkg-query >/dev/null || die "not a Debian/Ubuntu system (no dpkg-query); install by hand: ${packages[*]}"

  for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
  if ((${#missing[@]} == 0)); then
    echo "[system-deps] all present: ${packages[*]}"
    return 0
  fi

  local sudo=()
  if [[ $EUID -ne 0 ]]; then
    command -v sudo >/dev/null || die "need root to install: ${missing[*]} (re-run as root)"
    sudo=(sudo)
  fi

  # Debian's postgresql package would create and start its own "main" cluster on port 5432,
  # which would take the port from the stack's own PostgreSQL (ops/stack.sh). Opt out first.
  if [[ " ${missing[*]} " == *" postgresql-15 "* ]]; then
    "${sudo[@]}" mkdir -p /etc/postgresql-common/createcluster.d
    echo 'create_main_cluster = false' |
      "${sudo[@]}" tee /etc/postgresql-common/createcluster.d/microcred.conf >/dev/null
  fi

  local log
  log=$(mktemp /tmp/microcred-apt.XXXXXX.log)
  echo "[system-deps] installing: ${missing[*]} (log: $log)"
  export DEBIAN_FRONTEND=noninteractive
  # Once per run: package lists on a fresh machine are empty or stale.
  "${sudo[@]}" apt-get update -qq >>"$log" 2>&1 ||
    { tail -n 20 "$log" >&2; die "apt-get update failed (network? see $log)"; }
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1 ||
    { tail -n 20 "$log" >&2; die "apt-get install failed for: ${missing[*]} (see $log)"; }

  for p in "${missing[@]}"; do installed "$p" || die "$p still not installed after apt-get (see $log)"; done
  echo "[system-deps] installed: ${missing[*]}"
  rm -f "$log"
}

main "$@"
