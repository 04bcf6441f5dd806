#!/usr/bin/env bash
# Prints the path of a `promtool` (Prometheus's own checker for rule files and the metrics text
# format), fetching it once if needed. The suite checks docs/alerts/microcred.rules.yml and the
# `/metrics` output with it: someone else's implementation of both formats, not ours.
#
# Only the binary is taken: Debian's `prometheus` package is downloaded (apt-get download, no
# install, so no server is set up or started) and unpacked into $CACHE_DIR/promtool/.
# A promtool already on PATH (or in $PROMTOOL) is used as it is.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${CACHE_DIR:-$REPO_ROOT/.cache}"

if [ -n "${PROMTOOL:-}" ] && [ -x "$PROMTOOL" ]; then echo "$PROMTOOL"; exit 0; fi
if command -v promtool >/dev/null 2>&1; then command -v promtool; exit 0; fi
bin="$CACHE_DIR/promtool/usr/bin/promtool"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

command -v apt-get >/dev/null || { echo "promtool.sh: no promtool and no apt-get to fetch one (install Prometheus's promtool)" >&2; exit 1; }
debs="$CACHE_DIR/debs"
mkdir -p "$debs"
log=$(mktemp /tmp/microcred-promtool.XXXXXX.log)
fetch() { (cd "$debs" && apt-get download prometheus) >>"$log" 2>&1; }
# A fresh machine's package lists may be empty: refresh them once and try again.
if ! fetch; then
  apt-get update -qq >>"$log" 2>&1 || true
  fetch || { tail -n 5 "$log" >&2; echo "promtool.sh: could not download Debian's prometheus package (log: $log)" >&2; exit 1; }
fi
tmp=$(mktemp -d "$CACHE_DIR/.promtool.XXXXXX")
dpkg-deb -x "$(ls -t "$debs"/prometheus_*.deb | head -n1)" "$tmp"
[ -x "$tmp/usr/bin/promtool" ] || { echo "promtool.sh: the package held no usr/bin/promtool" >&2; exit 1; }
# Keep just the binary: the package's web assets and server are not needed.
mkdir -p "$tmp/keep/usr/bin" && mv "$tmp/usr/bin/promtool" "$tmp/keep/usr/bin/"
rm -rf "$CACHE_DIR/promtool" && mv "$tmp/keep" "$CACHE_DIR/promtool" && rm -rf "$tmp"
rm -f "$log"
echo "$bin"
