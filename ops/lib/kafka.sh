# shellcheck shell=bash
# Apache Kafka (KRaft, single node: broker + controller) from Maven Central jars.
#
# The jars (kafka_2.13 + runtime deps, kafka-tools, slf4j-reload4j) are resolved by
#   mvn -f ops/pom.xml dependency:copy-dependencies -Dmaven.repo.local=$CACHE_DIR/m2 \
#       -DoutputDirectory=$CACHE_DIR/kafka/libs
# and the server runs as
#   java $KAFKA_HEAP -cp "$CACHE_DIR/kafka/libs/*" kafka.Kafka $STACK_DIR/kafka/server.properties
#
# The same classpath runs Kafka's tools, e.g. for a benchmark (or: ops/stack.sh kafka-class ...):
#   java -Xmx512m -Dlog4j.configuration=file:ops/config/kafka/tools-log4j.properties \
#     -cp "$CACHE_DIR/kafka/libs/*" org.apache.kafka.tools.ProducerPerformance \
#     --topic bench --num-records 200000 --record-size 512 --throughput -1 \
#     --producer-props bootstrap.servers=127.0.0.1:9092 acks=all linger.ms=5
#   java -Xmx512m -Dlog4j.configuration=file:ops/config/kafka/tools-log4j.properties \
#     -cp "$CACHE_DIR/kafka/libs/*" org.apache.kafka.tools.ConsumerPerformance \
#     --bootstrap-server 127.0.0.1:9092 --topic bench --messages 200000 --timeout 60000
#   (create the topic first: org.apache.kafka.tools.TopicCommand --bootstrap-server
#    127.0.0.1:9092 --create --topic bench --partitions 3; auto-creation is off)

KAFKA_VERSION=$(pom_property kafka.version)
KAFKA_HOME=$CACHE_DIR/kafka
KAFKA_LIBS=$KAFKA_HOME/libs
KAFKA_MARKER=$KAFKA_HOME/.complete-$KAFKA_VERSION
KAFKA_DIR=$STACK_DIR/kafka
KAFKA_DATA_DIR=$KAFKA_DIR/data

kafka_ports() { echo "KAFKA_PORT=$KAFKA_PORT KAFKA_CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT"; }

kafka_url() { echo "127.0.0.1:$KAFKA_PORT"; }

kafka_downloaded() { [[ -f $KAFKA_MARKER ]]; }

# Download protocol shared by kafka/elasticsearch/registry (driven by stack.sh):
#   X_downloaded      -> marker present?          X_pre_download -> clear partial state
#   X_download_goal   -> Maven goal to add to the single mvn run
#   X_unpack          -> check/unpack, then write the marker
kafka_pre_download() {
  # A version change or an interrupted copy must not leave stale jars on the classpath.
  rm -rf "$KAFKA_LIBS" "$KAFKA_HOME"/.complete-*
  mkdir -p "$KAFKA_LIBS"
}

kafka_download_goal() { echo "dependency:copy-dependencies@kafka"; }

kafka_unpack() {
  [[ -f $KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar && -f $KAFKA_LIBS/kafka-tools-$KAFKA_VERSION.jar ]] ||
    fail_server kafka "kafka jars missing after download (see $LOG_DIR/maven.log)"
  touch "$KAFKA_MARKER"
}

# Kafka speaks its own binary protocol: send an ApiVersions v0 request over bash's
# /dev/tcp and check the reply (correlation id 7, error code 0). The broker answers only
# once startup is complete, so this is a real readiness check and costs no JVM.
kafka_health() {
  local reply
  # size=14 | api_key=18 (ApiVersions) | version=0 | correlation_id=7 | client_id="ping"
  reply=$(timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$KAFKA_PORT || exit 1
    printf '\x00\x00\x00\x0e\x00\x12\x00\x00\x00\x00\x00\x07\x00\x04ping' >&3
    head -c 10 <&3" 2>/dev/null | od -An -tx1 | tr -d ' \n') || true
  [[ ${reply:8:12} == 000000070000 ]]
}

kafka_prepare() {
  require_java kafka
  mkdir -p "$KAFKA_DATA_DIR"
  render "$CONFIG_DIR/kafka/server.properties" "$KAFKA_DIR/server.properties"
  # Format the metadata log on first start only; later starts keep topics and offsets.
  if [[ ! -f $KAFKA_DATA_DIR/meta.properties ]]; then
    local cluster_id=""
    read_line cluster_id "$KAFKA_DIR/cluster.id" || true
    if [[ ! $cluster_id =~ ^[A-Za-z0-9_-]{22}$ ]]; then
      cluster_id=$(kafka_class kafka.tools.StorageTool random-uuid 2>>"$(server_log kafka)") ||
        fail_server kafka "StorageTool random-uuid failed"
      echo "$cluster_id" >"$KAFKA_DIR/cluster.id"
    fi
    say "kafka: formatting $KAFKA_DATA_DIR (cluster id $cluster_id)"
    kafka_class kafka.tools.StorageTool format -t "$cluster_id" \
      -c "$KAFKA_DIR/server.properties" >>"$(server_log kafka)" 2>&1 ||
      fail_server kafka "StorageTool format failed"
  fi
}

kafka_launch() {
  local heap
  read -ra heap <<<"$KAFKA_HEAP"
  launch kafka "$KAFKA_DIR" "$JAVA" "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
    -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$CONFIG_DIR/kafka/log4j.properties" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_DIR/server.properties"
}

kafka_stop() { stop_server kafka TERM; }

# Any Kafka tool on the broker's classpath, logging warnings to stderr only
# (`ops/stack.sh kafka-class CLASS ARGS...`; also StorageTool above).
kafka_class() {
  kafka_downloaded || die "Kafka jars not downloaded yet: run ops/stack.sh up first"
  require_java kafka
  local heap
  read -ra heap <<<"${KAFKA_TOOL_HEAP:--Xmx512m}"
  "$JAVA" "${heap[@]}" \
    -Dlog4j.configuration="file:$CONFIG_DIR/kafka/tools-log4j.properties" \
    -cp "$KAFKA_LIBS/*" "$@"
}
