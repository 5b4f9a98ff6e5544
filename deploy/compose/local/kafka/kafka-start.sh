#!/bin/bash
# The local Kafka image's broker, configured as the apache/kafka image is: every KAFKA_* variable
# but the JVM's is a server property (KAFKA_LOG_DIRS -> log.dirs; `__` stands for `_` and `___`
# for `-`), CLUSTER_ID formats the storage on the first start, KAFKA_HEAP_OPTS sizes the heap.
set -euo pipefail
config=/opt/kafka/config/server.properties
: >"${config}"
while IFS= read -r var; do
  case "${var}" in
    KAFKA_HEAP_OPTS | KAFKA_OPTS | KAFKA_JVM_PERFORMANCE_OPTS | KAFKA_LOG4J_OPTS | KAFKA_JMX_OPTS | \
      KAFKA_GC_LOG_OPTS | KAFKA_VERSION) continue ;;
    KAFKA_*) ;;
    *) continue ;;
  esac
  name="${var#KAFKA_}"
  name="${name,,}"
  name="${name//___/-}"
  name="${name//__/@}"
  name="${name//_/.}"
  name="${name//@/_}"
  printf '%s=%s\n' "${name}" "${!var}" >>"${config}"
done < <(compgen -e)
grep -q '^process\.roles=' "${config}" || { echo "kafka-start.sh: KAFKA_PROCESS_ROLES is not set" >&2; exit 2; }
log_dir="$(sed -n 's/^log\.dirs=//p' "${config}")"
log_dir="${log_dir%%,*}"
if [[ ! -f "${log_dir:-/tmp/kraft-combined-logs}/meta.properties" ]]; then
  : "${CLUSTER_ID:?CLUSTER_ID is needed to format the storage}"
  KAFKA_HEAP_OPTS=-Xmx128m /opt/kafka/bin/kafka-storage.sh format -t "${CLUSTER_ID}" -c "${config}" \
    --ignore-formatted
fi
# shellcheck disable=SC2086 # the JVM options hold several options each
exec java ${KAFKA_HEAP_OPTS:--Xmx1g -Xms1g} -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
  -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError \
  -Djava.awt.headless=true ${KAFKA_OPTS:-} \
  -Dlog4j.configuration=file:/opt/kafka/etc/log4j.properties -Dkafka.logs.dir=/var/lib/kafka \
  -cp '/opt/kafka/libs/*' kafka.Kafka "${config}"
