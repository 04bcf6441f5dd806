# shellcheck shell=bash
# Shared helpers for ops/stack.sh: paths, ports, logging, pid files, waits, downloads.
# Sourced, never run. Every server module (ops/lib/<server>.sh) builds on these.

# ---------------------------------------------------------------------------
# Paths and settings (all overridable from the environment)
# ---------------------------------------------------------------------------
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OPS_DIR=$REPO_ROOT/ops
CONFIG_DIR=$OPS_DIR/config

# Absolute paths: they end up in server configs and in the process command lines
# that identify our processes (see server_pid).
STACK_DIR=$(realpath -m "${STACK_DIR:-$REPO_ROOT/.stack}")
CACHE_DIR=$(realpath -m "${CACHE_DIR:-$REPO_ROOT/.cache}")
LOG_DIR=$STACK_DIR/logs
RUN_DIR=$STACK_DIR/run

KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
SCHEMA_REGISTRY_PORT=${SCHEMA_REGISTRY_PORT:-8081}
# Quarkus serves health/metrics on a separate "management" port; keep it off 9000 (often taken).
SCHEMA_REGISTRY_MANAGEMENT_PORT=${SCHEMA_REGISTRY_MANAGEMENT_PORT:-8091}
ES_PORT=${ES_PORT:-9200}
ES_TRANSPORT_PORT=${ES_TRANSPORT_PORT:-9300}
PGPORT=${PGPORT:-5432}

KAFKA_HEAP=${KAFKA_HEAP:--Xms256m -Xmx1g}
ES_HEAP=${ES_HEAP:-1g}
REGISTRY_HEAP=${REGISTRY_HEAP:--Xms128m -Xmx512m}

# Elasticsearch and PostgreSQL refuse to run as root: when we are root they run as this
# system user (created on demand, no login shell).
STACK_USER=${STACK_USER:-microcred}

# Where the stack user's files live (PostgreSQL's and Elasticsearch's data, config and logs,
# and the unpacked Elasticsearch). It must reach them through every parent directory: not so
# for a clone under a private directory (`mktemp -d`, /root). Then they live under
# /var/lib/microcred instead, one folder per stack (named after STACK_DIR's path) - rather than
# loosening the permissions of the user's own directories.
world_searchable() { # PATH: can any user traverse to PATH (its existing part)?
  local p=$1 perms
  while [[ $p != / ]]; do
    if [[ -e $p ]]; then
      perms=$(stat -c %A "$p")
      [[ ${perms:9:1} == [xt] ]] || return 1
    fi
    p=$(dirname "$p")
  done
}
STACK_USER_HOME=${STACK_USER_HOME:-/var/lib/microcred}
if [[ $EUID -eq 0 ]] && ! world_searchable "$STACK_DIR"; then
  STACK_USER_DIR=$STACK_USER_HOME/stacks/$(printf '%s' "$STACK_DIR" | sha1sum | cut -c1-12)
else
  STACK_USER_DIR=$STACK_DIR
fi
if [[ $EUID -eq 0 ]] && ! world_searchable "$CACHE_DIR"; then
  STACK_USER_CACHE_DIR=$STACK_USER_HOME/cache
else
  STACK_USER_CACHE_DIR=$CACHE_DIR
fi

# Deadlines (seconds). Every wait has one; `up` must fail rather than hang.
STACK_START_TIMEOUT=${STACK_START_TIMEOUT:-110}   # launch -> healthy, all servers together
STACK_STOP_TIMEOUT=${STACK_STOP_TIMEOUT:-30}      # SIGTERM -> SIGKILL
STACK_DOWNLOAD_TIMEOUT=${STACK_DOWNLOAD_TIMEOUT:-600} # one Maven run (~300 MB on a cold cache)

# Java for Kafka and Elasticsearch: STACK_JAVA_HOME, else Debian's Java 17 (what Kafka 3.9
# and ES 8.19 are run on here; a developer's JAVA_HOME pointing at a newer JDK, e.g. 25,
# would not be used by accident), else JAVA_HOME, else `java` on PATH.
# (The registry needs Java 21+ and picks its own JDK: ops/lib/registry.sh.)
if [[ -n ${STACK_JAVA_HOME:-} ]]; then
  JAVA_HOME=$STACK_JAVA_HOME
elif [[ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ]]; then
  JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
fi
JAVA_HOME=${JAVA_HOME:-}
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/java}
JAVA=${JAVA:-$(command -v java || true)}
# Elasticsearch wants a JDK home (ES_JAVA_HOME), not a binary.
if [[ -z $JAVA_HOME && -n $JAVA ]]; then
  JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$JAVA")")")
fi

# Start order matters only for the registry (its storage is PostgreSQL).
SERVERS=(postgres kafka elasticsearch registry)

# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------
say() { printf '[stack] %s\n' "$*" >&2; }
die() {
  printf '[stack] ERROR: %s\n' "$*" >&2
  exit 1
}

# Last lines of a log, indented, for failure messages.
log_tail() {
  local file=$1 n=${2:-25}
  [[ -s $file ]] || return 0
  printf '[stack] --- last %s lines of %s ---\n' "$n" "$file" >&2
  tail -n "$n" "$file" | sed 's/^/    /' >&2
}

server_log() { echo "$LOG_DIR/$1.log"; }

# ---------------------------------------------------------------------------
# Versions: ops/pom.xml is the single source of truth.
# ---------------------------------------------------------------------------
pom_property() {
  sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$OPS_DIR/pom.xml" | head -n1
}

# ---------------------------------------------------------------------------
# Service user (only when root)
# ---------------------------------------------------------------------------
is_root() { [[ $EUID -eq 0 ]]; }

ensure_stack_user() {
  is_root || return 0
  id -u "$STACK_USER" >/dev/null 2>&1 && return 0
  say "creating system user '$STACK_USER' (Elasticsearch and PostgreSQL refuse to run as root)"
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$STACK_USER" ||
    die "could not create system user '$STACK_USER' (useradd failed)"
}

# Command prefix that runs the rest of a command line as the stack user when we are root,
# else as us. setpriv execs (unlike su/runuser it leaves no parent behind), so the pid we
# record is the server's own.
if is_root; then
  AS_STACK_USER=(setpriv --reuid="$STACK_USER" --regid="$STACK_USER" --init-groups --)
else
  AS_STACK_USER=()
fi
as_stack_user() { "${AS_STACK_USER[@]}" "$@"; }

# mkdir + hand over to the stack user (recursively only when ownership is wrong, e.g. a
# tree copied from another machine).
stack_user_dir() {
  local dir
  for dir in "$@"; do
    mkdir -p "$dir"
    if is_root && [[ $(stat -c %U "$dir") != "$STACK_USER" ]]; then
      chown -R "$STACK_USER:$STACK_USER" "$dir"
    fi
  done
}

# The stack user must be able to reach its files (not so for a repo under /root).
# usage: check_stack_user_can_read SERVER PATH
check_stack_user_can_read() {
  is_root || return 0
  as_stack_user test -r "$2" ||
    fail_server "$1" "user '$STACK_USER' cannot read $2: make its parent directories world-executable (chmod o+x) or set STACK_DIR/CACHE_DIR elsewhere"
}

# ---------------------------------------------------------------------------
# Pid files and processes
# ---------------------------------------------------------------------------
# read_line VAR FILE: first line of FILE into VAR; returns 1 if unreadable. (Unlike
# $(<file), a vanished file - e.g. /proc/<pid> of a process that just exited - is not
# fatal under `set -e`.)
read_line() {
  local -n _var=$1
  _var=""
  { IFS= read -r _var <"$2"; } 2>/dev/null || [[ -n $_var ]]
}

pid_file() { echo "$RUN_DIR/$1.pid"; }

# Prints the pid of our running server, or nothing. A pid counts as ours only if the
# process is alive AND carries our mark: its command line mentions STACK_DIR (every server
# gets a path under STACK_DIR) or its environment has MICROCRED_STACK_DIR=STACK_DIR (set by
# launch; covers launcher scripts before they exec java). So a recycled pid never makes us
# signal a stranger.
server_pid() {
  local file pid cmdline environ
  file=$(pid_file "$1")
  [[ -r $file ]] || return 0
  read_line pid "$file"
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 0
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 0
  environ=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null) || true
  if [[ $cmdline == *"$STACK_DIR"* || $'\n'$environ$'\n' == *$'\n'"MICROCRED_STACK_DIR=$STACK_DIR"$'\n'* ]]; then
    echo "$pid"
  fi
}

# Alive = exists and is not a zombie (a server that died while `up` still runs stays a
# zombie child of ours until reaped, and kill -0 would call it alive).
pid_alive() {
  local stat
  [[ -n $1 ]] && read_line stat "/proc/$1/stat" || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# Launches a server detached from this shell: own session (so Ctrl-C on the caller or the
# caller's exit does not reach it; its process group id == its pid), stdin from /dev/null,
# stdout/stderr appended to its log, our lock fd closed. Writes the pid file.
# usage: launch NAME WORKDIR CMD...
launch() {
  local name=$1 workdir=$2
  shift 2
  local log
  log=$(server_log "$name")
  printf '\n===== %s: starting %s =====\n' "$(date -Is)" "$name" >>"$log"
  (cd "$workdir" && exec setsid env MICROCRED_STACK_DIR="$STACK_DIR" "$@" </dev/null >>"$log" 2>&1 9>&-) &
  echo $! >"$(pid_file "$name")"
  STARTED+=("$name")
}

# SIGTERM (or the server's preferred signal) to the pid from our pid file, wait, then
# SIGKILL its whole process group (launch() made pgid == pid) after STACK_STOP_TIMEOUT.
stop_server() {
  local name=$1 signal=${2:-TERM} pid deadline
  pid=$(server_pid "$name")
  if [[ -z $pid ]]; then
    rm -f "$(pid_file "$name")"
    return 0
  fi
  say "$name: stopping (pid $pid, SIG$signal)"
  kill "-$signal" "$pid" 2>/dev/null || true
  deadline=$((SECONDS + STACK_STOP_TIMEOUT))
  while pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.3; done
  if pid_alive "$pid"; then
    say "$name: still running after ${STACK_STOP_TIMEOUT}s, sending SIGKILL to process group $pid"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
  fi
  # A child left behind in the group (e.g. the Elasticsearch server under its launcher).
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$(pid_file "$name")"
}

# ---------------------------------------------------------------------------
# Ports
# ---------------------------------------------------------------------------
port_in_use() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# "python3 pid 1234" when ss can tell (root sees every process), else "another process".
port_owner() {
  local users
  users=$(ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'users:(([^)]*' | head -n1 || true)
  if [[ $users =~ \"([^\"]+)\",pid=([0-9]+) ]]; then
    echo "${BASH_REMATCH[1]} pid ${BASH_REMATCH[2]}"
  else
    echo "another process"
  fi
}

# usage: require_free_port SERVER PORT VARNAME
require_free_port() {
  local name=$1 port=$2 var=$3
  if port_in_use "$port"; then
    fail_server "$name" "port $port on 127.0.0.1 is in use by $(port_owner "$port"): stop it or set $var to a free port"
  fi
}

# Prints a failure naming the server, its log and a likely fix, then exits non-zero
# (the EXIT trap of `up` stops whatever this invocation started).
fail_server() {
  local name=$1 msg=$2 log
  log=$(server_log "$name")
  log_tail "$log"
  printf '[stack] ERROR: %s failed to start: %s\n[stack]        log: %s\n' "$name" "$msg" "$log" >&2
  exit 1
}

# ---------------------------------------------------------------------------
# Downloads (Maven Central, via ops/pom.xml). Each artifact set has a marker file
# written only after success, so an interrupted download or unpack is simply redone.
# ---------------------------------------------------------------------------
maven() {
  command -v mvn >/dev/null || die "mvn not found: install Maven (apt-get install maven)"
  local log=$LOG_DIR/maven.log
  printf '\n===== %s: mvn %s =====\n' "$(date -Is)" "$*" >>"$log"
  if ! timeout "$STACK_DOWNLOAD_TIMEOUT" mvn -B -q -f "$OPS_DIR/pom.xml" \
    -Dmaven.repo.local="$CACHE_DIR/m2" "$@" >>"$log" 2>&1; then
    log_tail "$log" 15
    return 1
  fi
}

# Unpacks a .zip or .tar.gz into DEST (replaced atomically-ish via a temp dir).
unpack_archive() {
  local archive=$1 dest=$2 tmp
  mkdir -p "$(dirname "$dest")"
  tmp=$(mktemp -d "$(dirname "$dest")/.unpack.XXXXXX")
  case $archive in
    *.zip) unzip -q "$archive" -d "$tmp" ;;
    *.tar.gz) tar -xzf "$archive" -C "$tmp" ;;
    *) die "unknown archive type: $archive" ;;
  esac
  rm -rf "$dest"
  mv "$tmp" "$dest"
}

# Renders a template from ops/config: every @NAME@ is replaced by the value of $NAME.
render() {
  local template=$1 out=$2 content name
  content=$(<"$template")
  while [[ $content =~ @([A-Z_][A-Z0-9_]*)@ ]]; do
    name=${BASH_REMATCH[1]}
    [[ -v $name ]] || die "template $template uses @$name@ but \$$name is not set"
    content=${content//@$name@/${!name}}
  done
  printf '%s\n' "$content" >"$out"
}

java_major() {
  "$1" -XshowSettings:properties -version 2>&1 |
    sed -n 's/.*java.specification.version = \([0-9]*\).*/\1/p' | head -n1
}

# The JDK home with the lowest major version >= MIN among $JAVA_HOME and /usr/lib/jvm/*
# (prints nothing if none). Lowest, because it is the one a server was most likely tested on.
find_java_home() {
  local min=$1 home major best="" best_major=999
  for home in ${JAVA_HOME:+"$JAVA_HOME"} /usr/lib/jvm/*; do
    [[ -x $home/bin/java && ! -L $home ]] || continue
    major=$(java_major "$home/bin/java")
    if [[ -n $major ]] && ((major >= min && major < best_major)); then
      best=$home best_major=$major
    fi
  done
  echo "$best"
}

# usage: require_java SERVER [JAVA_BIN] [MIN_MAJOR] [HOW_TO_FIX]
require_java() {
  local name=$1 java=${2:-$JAVA} min=${3:-17} fix=${4:-"install openjdk-17-jre-headless or set STACK_JAVA_HOME"}
  [[ -n $java && -x $java ]] || fail_server "$name" "no Java $min+ found: $fix"
  local major
  major=$(java_major "$java")
  ((${major:-0} >= min)) || fail_server "$name" "$java is Java ${major:-?}, need $min or newer: $fix"
}
