// Fills a Kafka topic with JSON lines from stdin, each keyed by its host as a forwarder keys it
// (the first "computer_name", "Hostname" or "Computer" value of the line: Winlogbeat, NXLog,
// Fluent Bit), for the image test and for trying a peer on a file of events.
//   fill_topic BROKERS TOPIC PARTITIONS < events.jsonl
// Creates TOPIC with PARTITIONS partitions (an existing topic is an error: a benchmark reads
// exactly what it wrote), produces as fast as the broker takes it, prints a JSON summary.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/kafka/producer.h"
#include "librdkafka/rdkafka.h"

namespace {

std::string_view HostKey(std::string_view line) {
  for (std::string_view field : {"\"computer_name\":\"", "\"Hostname\":\"", "\"Computer\":\""}) {
    const size_t at = line.find(field);
    if (at == std::string_view::npos) continue;
    const size_t begin = at + field.size();
    const size_t end = line.find('"', begin);
    if (end != std::string_view::npos) return line.substr(begin, end - begin);
  }
  return {};
}

// Deliveries the broker refused for good (after librdkafka's retries).
uint64_t failed_deliveries = 0;
void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) ++failed_deliveries;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: fill_topic BROKERS TOPIC PARTITIONS < events.jsonl\n");
    return 2;
  }
  const char* topic = argv[2];
  const int partitions = std::atoi(argv[3]);
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [name, value] :
       {std::pair<const char*, const char*>{"bootstrap.servers", argv[1]},
        {"linger.ms", "20"},
        {"batch.size", "1000000"},
        {"compression.type", "lz4"},
        {"queue.buffering.max.kbytes", "1048576"}}) {
    if (rd_kafka_conf_set(conf, name, value, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      std::fprintf(stderr, "fill_topic: %s\n", err);
      return 2;
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, &OnDelivery);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) {
    std::fprintf(stderr, "fill_topic: %s\n", err);
    return 1;
  }
  if (absl::Status s = faultline::CreateKafkaTopic(rk, topic, partitions); !s.ok()) {
    std::fprintf(stderr, "fill_topic: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  faultline::Clock& clock = faultline::RealClock::Get();
  const absl::Time start = clock.TimeNow();
  uint64_t messages = 0, bytes = 0;
  std::ios::sync_with_stdio(false);
  for (std::string line; std::getline(std::cin, line);) {
    if (line.empty()) continue;
    const std::string_view key = HostKey(line);
    for (;;) {
      const rd_kafka_resp_err_t e =
          rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_KEY(key.data(), key.size()),
                            RD_KAFKA_V_VALUE(line.data(), line.size()), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        std::fprintf(stderr, "fill_topic: produce: %s\n", rd_kafka_err2str(e));
        return 1;
      }
      rd_kafka_poll(rk, 10);
    }
    ++messages;
    bytes += line.size();
    rd_kafka_poll(rk, 0);
  }
  if (rd_kafka_flush(rk, 120000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::fprintf(stderr, "fill_topic: %d message(s) not delivered within 120 s\n",
                 rd_kafka_outq_len(rk));
    return 1;
  }
  if (failed_deliveries > 0) {
    std::fprintf(stderr, "fill_topic: %llu message(s) not delivered\n",
                 static_cast<unsigned long long>(failed_deliveries));
    return 1;
  }
  const double seconds = absl::ToDoubleSeconds(clock.TimeNow() - start);
  std::printf(
      "{\"topic\":\"%s\",\"partitions\":%d,\"messages\":%llu,\"bytes\":%llu,\"seconds\":%.2f}\n",
      topic, partitions, static_cast<unsigned long long>(messages),
      static_cast<unsigned long long>(bytes), seconds);
  rd_kafka_destroy(rk);
  return 0;
}
