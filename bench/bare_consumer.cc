// The limit of the end-to-end benchmark (bench/e2e.py): a bare librdkafka consumer that joins a
// group, reads every message of TOPIC from the beginning and only counts them and their bytes,
// with librdkafka's default settings, with PROPERTIES (name=value,...), or with "faultline": the
// fetch settings `faultline run` chooses on this librdkafka (ConsumerDefaults), so both read alike.
// It stops when every assigned partition has reached its end.
//   bare_consumer BROKERS TOPIC GROUP [faultline | NAME=VALUE,...]
// Prints one JSON line: messages, bytes, seconds (first message to the end), librdkafka and the
// settings it set.
#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_join.h"
#include "core/clock.h"
#include "ingest/kafka/kafka_source.h"
#include "librdkafka/rdkafka.h"

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: bare_consumer BROKERS TOPIC GROUP [NAME=VALUE,...]\n");
    return 2;
  }
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [name, value] :
       {std::pair<const char*, const char*>{"bootstrap.servers", argv[1]},
        {"group.id", argv[3]},
        {"auto.offset.reset", "earliest"},
        {"enable.auto.commit", "false"},
        {"enable.partition.eof", "true"}}) {
    if (rd_kafka_conf_set(conf, name, value, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      std::fprintf(stderr, "bare_consumer: %s\n", err);
      return 2;
    }
  }
  std::vector<std::pair<std::string, std::string>> settings;
  const std::string_view extra = argc == 5 ? argv[4] : "";
  if (extra == "faultline") {
    settings = faultline::ConsumerDefaults::Effective({}, rd_kafka_version());
  } else {
    for (std::string_view rest = extra; !rest.empty();) {
      const std::string_view item = rest.substr(0, rest.find(','));
      rest.remove_prefix(std::min(rest.size(), item.size() + 1));
      const size_t eq = item.find('=');
      settings.emplace_back(item.substr(0, eq),
                            eq == std::string_view::npos ? "" : item.substr(eq + 1));
    }
  }
  for (const auto& [name, value] : settings) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof(err)) !=
        RD_KAFKA_CONF_OK) {
      std::fprintf(stderr, "bare_consumer: %s\n", err);
      return 2;
    }
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (rk == nullptr) {
    std::fprintf(stderr, "bare_consumer: %s\n", err);
    return 1;
  }
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, argv[2], RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk, topics);
  rd_kafka_topic_partition_list_destroy(topics);

  uint64_t messages = 0, bytes = 0;
  std::set<int32_t> at_end;
  faultline::Clock& clock = faultline::RealClock::Get();
  absl::Time first;
  const absl::Time deadline = clock.TimeNow() + absl::Minutes(10);
  int assigned = -1;
  while (clock.TimeNow() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (assigned < 0) {
      rd_kafka_topic_partition_list_t* parts = nullptr;
      if (rd_kafka_assignment(rk, &parts) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (parts->cnt > 0) assigned = parts->cnt;
        rd_kafka_topic_partition_list_destroy(parts);
      }
    }
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      at_end.insert(m->partition);
    } else if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (messages == 0) first = clock.TimeNow();  // as faultline's summary counts "seconds"
      ++messages;
      bytes += m->len;
      at_end.erase(m->partition);
    } else {
      std::fprintf(stderr, "bare_consumer: %s\n", rd_kafka_message_errstr(m));
    }
    rd_kafka_message_destroy(m);
    if (assigned > 0 && static_cast<int>(at_end.size()) == assigned) break;
  }
  const double seconds = absl::ToDoubleSeconds(clock.TimeNow() - first);
  std::printf(
      "{\"librdkafka\":\"%s\",\"messages\":%llu,\"bytes\":%llu,\"seconds\":%.3f,"
      "\"settings\":\"%s\"}\n",
      rd_kafka_version_str(), static_cast<unsigned long long>(messages),
      static_cast<unsigned long long>(bytes), messages == 0 ? 0.0 : seconds,
      absl::StrJoin(settings, ",", absl::PairFormatter("=")).c_str());
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return assigned > 0 && static_cast<int>(at_end.size()) == assigned ? 0 : 1;
}
