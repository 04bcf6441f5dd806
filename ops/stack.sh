#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Native local infrastructure for microcred: Apache Kafka (KRaft), Apicurio Registry
# (Confluent-compatible schema registry), Elasticsearch and PostgreSQL, all on 127.0.0.1,
# no Docker needed. docker-compose.yml describes the same stack for machines with Docker.
#
#   ops/stack.sh up              start what is not running (idempotent), wait until healthy
#   ops/stack.sh down            stop our servers (pid files only; SIGTERM, then SIGKILL)
#   ops/stack.sh status          one line per server; exit 1 unless all are ok
#   ops/stack.sh logs [server]   tail logs (follows on a terminal); server: postgres, kafka,
#                                elasticsearch (es), registry (schema-registry)
#   ops/stack.sh reset           down, then delete all data under STACK_DIR (not the cache)
#   ops/stack.sh env             print the connection variables the apps use
#   ops/stack.sh kafka-class CLASS [ARGS]   run a Kafka tool with the broker's classpath,
#                                e.g. org.apache.kafka.tools.ProducerPerformance (ops/lib/kafka.sh)
#
# Settings (environment): STACK_DIR (default <repo>/.stack: data, logs/, run/),
# CACHE_DIR (default <repo>/.cache: Maven repo, unpacked distributions), KAFKA_PORT 9092,
# KAFKA_CONTROLLER_PORT 9093, SCHEMA_REGISTRY_PORT 8081, SCHEMA_REGISTRY_MANAGEMENT_PORT 8091,
# ES_PORT 9200, ES_TRANSPORT_PORT 9300, PGPORT 5432, KAFKA_HEAP, ES_HEAP, REGISTRY_HEAP,
# STACK_START_TIMEOUT (s), STACK_STOP_TIMEOUT (s), STACK_JAVA_HOME (Kafka/ES, Java 17),
# REGISTRY_JAVA_HOME (Apicurio, Java 21+), STACK_USER (runs ES/PostgreSQL when root).
# Versions live in ops/pom.xml. First `up` downloads ~330 MB from Maven Central.
set -euo pipefail
# Directories the unprivileged server user must traverse are created world-readable,
# whatever umask the caller runs with.
umask 022

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/lib" && pwd)
# shellcheck source=lib/common.sh
source "$LIB_DIR/common.sh"
# shellcheck source=lib/postgres.sh
source "$LIB_DIR/postgres.sh"
# shellcheck source=lib/kafka.sh
source "$LIB_DIR/kafka.sh"
# shellcheck source=lib/elasticsearch.sh
source "$LIB_DIR/elasticsearch.sh"
# shellcheck source=lib/registry.sh
source "$LIB_DIR/registry.sh"

usage() {
  sed -n '3,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

# One `up`/`down`/`reset` at a time (parallel test runners may all call `up`).
acquire_lock() {
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  exec 9>"$RUN_DIR/stack.lock"
  flock -w 300 9 || die "another ops/stack.sh still holds $RUN_DIR/stack.lock after 300 s"
}

require_tools() {
  local tool missing=()
  for tool in curl unzip tar flock timeout setsid; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  if is_root; then command -v setpriv >/dev/null || missing+=(setpriv); fi
  ((${#missing[@]} == 0)) || die "missing tools: ${missing[*]} (run: bash ops/install-system-deps.sh)"
}

canonical_server() {
  case ${1:-} in
    postgres | pg | postgresql) echo postgres ;;
    kafka) echo kafka ;;
    elasticsearch | es) echo elasticsearch ;;
    registry | schema-registry | apicurio) echo registry ;;
    *) die "unknown server '${1:-}' (postgres, kafka, elasticsearch, registry)" ;;
  esac
}

contains() {
  local x=$1
  shift
  local y
  for y in "$@"; do [[ $x == "$y" ]] && return 0; done
  return 1
}

# ---------------------------------------------------------------------------
# up
# ---------------------------------------------------------------------------
STARTED=()  # servers launched by this invocation: the only ones a failed `up` stops
UP_OK=0

# EXIT trap of `up`: on failure leave no half-started stack behind.
on_up_exit() {
  local rc=$?
  ((UP_OK)) && return 0
  set +e # clean up as much as possible whatever fails
  if ((${#STARTED[@]})); then
    say "up failed: stopping what this run started (${STARTED[*]})"
    local i
    for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
      "${STARTED[i]}_stop" || true
    done
  fi
  exit $((rc == 0 ? 1 : rc))
}

# One Maven run fetches every missing distribution; then each is unpacked and marked.
fetch_artifacts() {
  local s goals=() need=()
  for s in "$@"; do
    [[ $s == postgres ]] && continue
    "${s}_downloaded" && continue
    "${s}_pre_download"
    goals+=("$("${s}_download_goal")")
    need+=("$s")
  done
  ((${#goals[@]})) || return 0
  say "downloading from Maven Central: ${need[*]} (first run only, ~330 MB in all; log: $LOG_DIR/maven.log)"
  mkdir -p "$CACHE_DIR/downloads"
  if ! maven -Dstack.kafka.libs="$KAFKA_LIBS" -Dstack.downloads="$CACHE_DIR/downloads" "${goals[@]}"; then
    die "${need[*]}: download from Maven Central failed or timed out (${STACK_DOWNLOAD_TIMEOUT}s); is the network/proxy up? log: $LOG_DIR/maven.log"
  fi
  for s in "${need[@]}"; do "${s}_unpack"; done
}

# Likely fix for a server that died during startup, from well-known log lines.
startup_hint() {
  local log
  log=$(server_log "$1")
  if grep -qiE 'address already in use|BindException|could not bind' "$log" 2>/dev/null; then
    echo "a port is in use by another process ($("$1"_ports)): free it or change those variables"
  elif grep -qiE 'Invalid (initial|maximum) heap size|Invalid heap size' "$log" 2>/dev/null; then
    echo "invalid heap setting: check KAFKA_HEAP / ES_HEAP / REGISTRY_HEAP"
  elif grep -qiE 'OutOfMemoryError|Could not reserve enough space|Cannot allocate memory' "$log" 2>/dev/null; then
    echo "not enough memory: lower KAFKA_HEAP / ES_HEAP / REGISTRY_HEAP or free memory"
  elif grep -qiE 'Invalid cluster.id|InconsistentClusterIdException|meta.properties|corrupt' "$log" 2>/dev/null; then
    echo "its data looks inconsistent: ops/stack.sh reset (deletes all stack data)"
  else
    echo "process exited during startup; see the log (ops/stack.sh reset wipes data if it is corrupt)"
  fi
}

# Waits until every named server is healthy, failing fast if one exits, and at the shared
# deadline (START_DEADLINE, SECONDS-based) at the latest.
wait_healthy() {
  local pending=("$@") still s pid
  while ((${#pending[@]})); do
    still=()
    for s in "${pending[@]}"; do
      read_line pid "$(pid_file "$s")" || true
      if "${s}_health"; then
        say "$s: healthy (pid $pid, ${SECONDS}s)"
      elif ! pid_alive "$pid"; then
        fail_server "$s" "$(startup_hint "$s")"
      else
        still+=("$s")
      fi
    done
    pending=("${still[@]+"${still[@]}"}")
    ((${#pending[@]})) || break
    if ((SECONDS >= START_DEADLINE)); then
      fail_server "${pending[0]}" "not healthy after ${STACK_START_TIMEOUT}s (still waiting for: ${pending[*]}); raise STACK_START_TIMEOUT on a slow machine"
    fi
    sleep 1
  done
}

cmd_up() {
  require_tools
  acquire_lock
  trap on_up_exit EXIT
  ensure_stack_user

  local s pid to_start=() waiting=()
  for s in "${SERVERS[@]}"; do
    pid=$(server_pid "$s")
    if [[ -z $pid ]]; then
      rm -f "$(pid_file "$s")"
      to_start+=("$s")
    elif "${s}_health"; then
      say "$s: already running (pid $pid)"
    else
      say "$s: running (pid $pid) but not healthy yet, waiting for it"
      waiting+=("$s")
    fi
  done
  if ((${#to_start[@]} == 0 && ${#waiting[@]} == 0)); then
    postgres_after_start # a stack started by an older checkout may lack a database this one uses
    UP_OK=1
    say "stack is up"
    return 0
  fi

  # Everything that can fail before a server is started fails first: ports, java, downloads.
  local kv
  for s in "${to_start[@]+"${to_start[@]}"}"; do
    for kv in $("${s}_ports"); do require_free_port "$s" "${kv#*=}" "${kv%%=*}"; done
    case $s in
      postgres) ;;
      registry) registry_require_java ;;
      *) require_java "$s" ;;
    esac
  done
  fetch_artifacts "${to_start[@]+"${to_start[@]}"}"

  START_DEADLINE=$((SECONDS + STACK_START_TIMEOUT))
  # PostgreSQL first: the registry keeps its schemas there.
  if contains postgres "${to_start[@]+"${to_start[@]}"}"; then
    postgres_prepare
    postgres_launch
    wait_healthy postgres
  elif contains postgres "${waiting[@]+"${waiting[@]}"}"; then
    wait_healthy postgres
  fi
  postgres_after_start

  # The others do not depend on each other: launch all, then wait for all.
  for s in kafka elasticsearch registry; do
    if contains "$s" "${to_start[@]+"${to_start[@]}"}"; then
      "${s}_prepare"
      "${s}_launch"
      waiting+=("$s")
    fi
  done
  local rest=()
  for s in "${waiting[@]+"${waiting[@]}"}"; do [[ $s == postgres ]] || rest+=("$s"); done
  wait_healthy "${rest[@]+"${rest[@]}"}"

  UP_OK=1
  say "stack is up (${SECONDS}s)"
  cmd_env
}

# ---------------------------------------------------------------------------
# down / reset
# ---------------------------------------------------------------------------
stop_all() {
  # Registry before PostgreSQL (its storage); Kafka and Elasticsearch in parallel with it.
  kafka_stop &
  local kafka_job=$!
  elasticsearch_stop &
  local es_job=$!
  registry_stop
  wait "$kafka_job" "$es_job" || true
  postgres_stop
}

cmd_down() {
  acquire_lock
  stop_all
  say "stack is down"
}

cmd_reset() {
  acquire_lock
  stop_all
  local s
  for s in "${SERVERS[@]}"; do
    [[ -z $(server_pid "$s") ]] || die "$s is still running; not deleting its data"
  done
  # Only the directories this script creates: a mistaken STACK_DIR never loses anything else.
  rm -rf "$PG_DIR" "$KAFKA_DIR" "$ES_DIR" "$REGISTRY_DIR" "$PG_SOCKET_DIR" "$ES_SERVER_LOG_DIR"
  say "stack data deleted under $STACK_DIR (cache $CACHE_DIR kept)"
}

# ---------------------------------------------------------------------------
# status / logs / env
# ---------------------------------------------------------------------------
cmd_status() {
  local s pid state rc=0 note
  for s in "${SERVERS[@]}"; do
    pid=$(server_pid "$s")
    note=""
    if [[ -z $pid ]]; then
      state=down
      # Something answers on our port but it is not ours: say so, it explains test failures.
      if "${s}_health"; then note=" (a server not started by this stack answers on its port)"; fi
    elif "${s}_health"; then
      state=ok
    else
      state=unhealthy
    fi
    [[ $state == ok ]] || rc=1
    printf '%-14s %-10s %-11s %s%s\n' "$s" "$state" "${pid:+pid $pid}" "$("${s}_url")" "$note"
  done
  return $rc
}

cmd_logs() {
  local files=() s
  if (($#)); then
    files=("$(server_log "$(canonical_server "$1")")")
  else
    for s in "${SERVERS[@]}"; do files+=("$(server_log "$s")"); done
  fi
  local existing=()
  for s in "${files[@]}"; do [[ -e $s ]] && existing+=("$s"); done
  ((${#existing[@]})) || die "no logs yet under $LOG_DIR"
  if [[ -t 1 ]]; then
    exec tail -n "${LOG_LINES:-100}" -F "${existing[@]}"
  else
    tail -n "${LOG_LINES:-100}" "${existing[@]}"
  fi
}

cmd_env() {
  cat <<EOF
KAFKA_BROKERS=$(kafka_url)
SCHEMA_REGISTRY_URL=$(registry_url)
ELASTICSEARCH_URL=$(elasticsearch_url)
DATABASE_URL=$(postgres_url)
EOF
}

main() {
  local cmd=${1:-}
  (($#)) && shift
  case $cmd in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    logs) cmd_logs "$@" ;;
    reset) cmd_reset ;;
    env) cmd_env ;;
    kafka-class)
      (($#)) || die "usage: ops/stack.sh kafka-class CLASS [ARGS...]"
      kafka_class "$@"
      ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
