# shellcheck shell=bash
# Elasticsearch 8.19 from Maven Central's integ-test-zip distribution:
# org.elasticsearch.distribution.integ-test-zip:elasticsearch:<ver>:zip. It has no bundled
# JDK (ES_JAVA_HOME = our Java 17) and only the transport-netty4, x-pack-core/security and
# apm modules: no `GET /` (health is /_cluster/health), no painless, no analysis-common.
# dense_vector + top-level `knn` are core. It refuses root, so it runs as $STACK_USER.
#
# The launcher JVM (bin/elasticsearch, ~100 MB) stays in the foreground and supervises the
# server JVM; its pid is the one we record. SIGTERM to it stops the server gracefully, and
# the server's console output arrives on its stdout (-> $STACK_DIR/logs/elasticsearch.log).

ES_VERSION=$(pom_property elasticsearch.version)
ES_HOME=$STACK_USER_CACHE_DIR/elasticsearch-$ES_VERSION
ES_ARCHIVE=$CACHE_DIR/downloads/elasticsearch-$ES_VERSION.zip
ES_DIR=$STACK_USER_DIR/elasticsearch
ES_CONF_DIR=$ES_DIR/config
ES_DATA_DIR=$ES_DIR/data
# ES's own files (server json log, gc.log, slow logs) - must be writable by the stack user.
ES_SERVER_LOG_DIR=$STACK_USER_DIR/logs/elasticsearch

elasticsearch_ports() { echo "ES_PORT=$ES_PORT ES_TRANSPORT_PORT=$ES_TRANSPORT_PORT"; }

elasticsearch_url() { echo "http://127.0.0.1:$ES_PORT"; }

elasticsearch_health() {
  local body
  body=$(curl -fsS -m 3 "http://127.0.0.1:$ES_PORT/_cluster/health" 2>/dev/null) || return 1
  [[ $body == *'"cluster_name":"microcred"'* && $body =~ \"status\":\"(green|yellow)\" ]]
}

elasticsearch_downloaded() { [[ -f $ES_HOME/.complete ]]; }

elasticsearch_pre_download() { rm -f "$ES_ARCHIVE"; }

elasticsearch_download_goal() { echo "dependency:copy@elasticsearch"; }

elasticsearch_unpack() {
  [[ -s $ES_ARCHIVE ]] || fail_server elasticsearch "$ES_ARCHIVE missing after download (see $LOG_DIR/maven.log)"
  say "elasticsearch: unpacking $ES_VERSION"
  unpack_archive "$ES_ARCHIVE" "$ES_HOME.tmp"
  # The zip holds one top-level folder elasticsearch-<ver>/.
  rm -rf "$ES_HOME"
  mv "$ES_HOME.tmp/elasticsearch-$ES_VERSION" "$ES_HOME"
  rm -rf "$ES_HOME.tmp" "$ES_ARCHIVE"
  touch "$ES_HOME/.complete"
}

elasticsearch_prepare() {
  require_java elasticsearch
  check_stack_user_can_read elasticsearch "$ES_HOME/lib"
  stack_user_dir "$ES_DIR" "$ES_SERVER_LOG_DIR"
  stack_user_dir "$ES_CONF_DIR" "$ES_DATA_DIR"
  check_stack_user_can_read elasticsearch "$ES_DATA_DIR"
  # ES_PATH_CONF must hold the whole config folder; the keystore ES creates there is kept.
  cp -r "$ES_HOME/config/." "$ES_CONF_DIR/"
  render "$CONFIG_DIR/elasticsearch/elasticsearch.yml" "$ES_CONF_DIR/elasticsearch.yml"
  mkdir -p "$ES_CONF_DIR/jvm.options.d"
  render "$CONFIG_DIR/elasticsearch/jvm-heap.options" "$ES_CONF_DIR/jvm.options.d/heap.options"
  if is_root; then chown -R "$STACK_USER:$STACK_USER" "$ES_CONF_DIR"; fi
}

elasticsearch_launch() {
  # env -u: the launcher warns about (and ignores) JAVA_HOME/JAVA_TOOL_OPTIONS anyway.
  launch elasticsearch "$ES_DIR" env -u JAVA_HOME -u JAVA_TOOL_OPTIONS -u _JAVA_OPTIONS \
    HOME="$ES_DIR" ES_JAVA_HOME="$JAVA_HOME" ES_PATH_CONF="$ES_CONF_DIR" \
    "${AS_STACK_USER[@]}" "$ES_HOME/bin/elasticsearch"
}

elasticsearch_stop() { stop_server elasticsearch TERM; }
