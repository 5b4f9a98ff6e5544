#!/usr/bin/env bash
# The kafka-init service of compose.yaml: waits for the broker, creates each topic given as
# NAME:PARTITIONS[:CONFIG=VALUE,...] unless it exists, and exits 0 (1 if the broker never
# answered or a creation failed). Runs in the Kafka image, with its /opt/kafka/bin tools.
#
#   create-topics.sh winlogbeat:12:message.timestamp.type=LogAppendTime faultline-alerts:3
#
# Environment: BOOTSTRAP_SERVER (default kafka:9092), WAIT_SECONDS (default 120).
set -euo pipefail

bootstrap="${BOOTSTRAP_SERVER:-kafka:9092}"
wait_seconds="${WAIT_SECONDS:-120}"
bin=/opt/kafka/bin
# The tools' JVMs need little; the broker's KAFKA_HEAP_OPTS is not theirs.
export KAFKA_HEAP_OPTS="-Xmx128m"
log() { printf 'create-topics: %s\n' "$*" >&2; }

(($# > 0)) || { log "error: no topic given (NAME:PARTITIONS[:CONFIG=VALUE,...])"; exit 2; }

deadline=$((SECONDS + wait_seconds))
until "${bin}/kafka-broker-api-versions.sh" --bootstrap-server "${bootstrap}" >/dev/null 2>&1; do
  if ((SECONDS >= deadline)); then
    log "error: ${bootstrap} did not answer within ${wait_seconds}s"
    exit 1
  fi
  sleep 2
done

for spec in "$@"; do
  IFS=: read -r name partitions configs <<<"${spec}"
  [[ -n "${name}" && "${partitions}" =~ ^[0-9]+$ ]] ||
    { log "error: '${spec}' is not NAME:PARTITIONS[:CONFIG=VALUE,...]"; exit 2; }
  args=(--bootstrap-server "${bootstrap}" --create --if-not-exists --topic "${name}"
        --partitions "${partitions}" --replication-factor 1)
  if [[ -n "${configs}" ]]; then
    IFS=, read -r -a pairs <<<"${configs}"
    for pair in "${pairs[@]}"; do args+=(--config "${pair}"); done
  fi
  "${bin}/kafka-topics.sh" "${args[@]}" >&2
done
"${bin}/kafka-topics.sh" --bootstrap-server "${bootstrap}" --describe >&2
log "topics ready on ${bootstrap}"
