# shellcheck shell=bash
# Schema registry: Apicurio Registry 3.x from Maven Central
# (io.apicurio:apicurio-registry-app:<ver>:tar.gz:all, a Quarkus fast-jar:
# `java -jar quarkus-run.jar`). Storage in the stack's PostgreSQL (database apicurio).
# Clients use the Confluent-compatible API: http://127.0.0.1:$SCHEMA_REGISTRY_PORT/apis/ccompat/v7
# Settings and why: ops/config/registry/application.properties.
#
# Apicurio 3.3 is compiled for Java 21 (class file 65): it cannot run on the stack's Java 17.
# It runs on the lowest JDK >= 21 found in $JAVA_HOME or /usr/lib/jvm (this machine kind
# ships Temurin 25 there), or on REGISTRY_JAVA_HOME when set.

REGISTRY_VERSION=$(pom_property apicurio.version)
REGISTRY_HOME=$CACHE_DIR/apicurio-registry-$REGISTRY_VERSION
REGISTRY_ARCHIVE=$CACHE_DIR/downloads/apicurio-registry-app-$REGISTRY_VERSION-all.tar.gz
REGISTRY_DIR=$STACK_DIR/registry
REGISTRY_JAVA_MIN=21

# Sets REGISTRY_JAVA, or fails. Resolved lazily (probing JDKs costs a JVM start each).
registry_require_java() {
  if [[ -z ${REGISTRY_JAVA:-} ]]; then
    [[ -n ${REGISTRY_JAVA_HOME:-} ]] || REGISTRY_JAVA_HOME=$(find_java_home "$REGISTRY_JAVA_MIN")
    REGISTRY_JAVA=${REGISTRY_JAVA_HOME:+$REGISTRY_JAVA_HOME/bin/java}
  fi
  require_java registry "$REGISTRY_JAVA" "$REGISTRY_JAVA_MIN" \
    "Apicurio Registry $REGISTRY_VERSION needs Java $REGISTRY_JAVA_MIN+: install a JDK $REGISTRY_JAVA_MIN+ under /usr/lib/jvm or set REGISTRY_JAVA_HOME"
}

registry_ports() {
  echo "SCHEMA_REGISTRY_PORT=$SCHEMA_REGISTRY_PORT SCHEMA_REGISTRY_MANAGEMENT_PORT=$SCHEMA_REGISTRY_MANAGEMENT_PORT"
}

registry_url() { echo "http://127.0.0.1:$SCHEMA_REGISTRY_PORT/apis/ccompat/v7"; }

# The ccompat API itself answers only when storage (PostgreSQL) works.
registry_health() {
  local body
  body=$(curl -fsS -m 3 "$(registry_url)/subjects" 2>/dev/null) || return 1
  [[ $body == \[* ]]
}

registry_downloaded() { [[ -f $REGISTRY_HOME/.complete ]]; }

registry_pre_download() { rm -f "$REGISTRY_ARCHIVE"; }

registry_download_goal() { echo "dependency:copy@apicurio"; }

registry_unpack() {
  [[ -s $REGISTRY_ARCHIVE ]] || fail_server registry "$REGISTRY_ARCHIVE missing after download (see $LOG_DIR/maven.log)"
  say "registry: unpacking Apicurio Registry $REGISTRY_VERSION"
  unpack_archive "$REGISTRY_ARCHIVE" "$REGISTRY_HOME"
  [[ -f $REGISTRY_HOME/quarkus-run.jar ]] || fail_server registry "quarkus-run.jar not found in $REGISTRY_ARCHIVE"
  rm -f "$REGISTRY_ARCHIVE"
  touch "$REGISTRY_HOME/.complete"
}

registry_prepare() {
  registry_require_java
  mkdir -p "$REGISTRY_DIR/config" "$REGISTRY_DIR/tmp"
  render "$CONFIG_DIR/registry/application.properties" "$REGISTRY_DIR/config/application.properties"
}

registry_launch() {
  local heap
  read -ra heap <<<"$REGISTRY_HEAP"
  # -Dmicrocred.stack.dir marks the command line as ours (see server_pid).
  launch registry "$REGISTRY_DIR" "$REGISTRY_JAVA" "${heap[@]}" -XX:+UseG1GC \
    -Djava.io.tmpdir="$REGISTRY_DIR/tmp" -Dmicrocred.stack.dir="$STACK_DIR" \
    -jar "$REGISTRY_HOME/quarkus-run.jar"
}

registry_stop() { stop_server registry TERM; }
