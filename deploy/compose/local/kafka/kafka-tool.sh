#!/bin/bash
# The Kafka command-line tools of the local image, by the names the Kafka distribution gives them
# (one script, linked under each name): runs the tool's class on the image's jars.
#   kafka-run-class.sh CLASS [ARG...]   any class
# The JVM's heap is KAFKA_HEAP_OPTS (default -Xmx256m), as with kafka-run-class.sh.
set -euo pipefail
case "$(basename "$0")" in
  kafka-run-class.sh) class="${1:?kafka-run-class.sh CLASS [ARG...]}"; shift ;;
  kafka-topics.sh) class=org.apache.kafka.tools.TopicCommand ;;
  kafka-console-producer.sh) class=kafka.tools.ConsoleProducer ;;
  kafka-console-consumer.sh) class=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
  kafka-consumer-groups.sh) class=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
  kafka-broker-api-versions.sh) class=kafka.admin.BrokerApiVersionsCommand ;;
  kafka-get-offsets.sh) class=org.apache.kafka.tools.GetOffsetShell ;;
  kafka-storage.sh) class=kafka.tools.StorageTool ;;
  *) echo "kafka-tool.sh: unknown tool name $(basename "$0")" >&2; exit 2 ;;
esac
# shellcheck disable=SC2086 # KAFKA_HEAP_OPTS holds several options
exec java ${KAFKA_HEAP_OPTS:--Xmx256m} -Djava.awt.headless=true \
  -Dlog4j.configuration=file:/opt/kafka/etc/tools-log4j.properties -cp '/opt/kafka/libs/*' \
  "${class}" "$@"
