// Service with several workers against the real broker (the CTest fixture `kafka`).
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <set>
#include <thread>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "app/config.h"
#include "app/demo/demo.h"
#include "app/kafka_publish.h"
#include "app/service.h"
#include "core/strings.h"
#include "core/testing/kafka_env.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

// The demo incident on hosts EXCH01..EXCH0<hosts>, each keyed by its host, in a topic of four
// partitions of the real broker, consumed with `workers` workers and a pool topic to the end: the
// (rule, host, fingerprint) of every alert, and the summary. (librdkafka 2.0.2's mock cluster
// once left two of three members waiting on a JoinGroup for minutes here: its group coordinator
// is not the peer this test is about.)
struct WorkersRun {
  absl::Status status;
  std::set<std::tuple<std::string, std::string, std::string>> alerts;
  size_t lines = 0;
  std::string summary;
  bool timed_out = false;  // the watchdog stopped it: it did not end by itself
};
WorkersRun RunWorkers(const std::string& brokers, int workers, int hosts) {
  WorkersRun r;
  const std::string events = testing::UniqueName("workers-events");
  const std::string pools = testing::UniqueName("workers-pools");
  for (const auto& [topic, partitions] : {std::pair{events, 4}, std::pair{pools, 2}}) {
    if (absl::Status s = testing::CreateTopic(brokers, topic, partitions); !s.ok()) {
      r.status = s;
      return r;
    }
  }
  std::vector<KafkaRecord> records;
  for (int h = 1; h <= hosts; ++h) {
    const std::string host = absl::StrCat("EXCH0", h);
    for (KafkaRecord& record :
         SplitLines(absl::StrReplaceAll(ToAbsl(kDemoIncidentJsonl), {{"EXCH01", host}}), host)) {
      records.push_back(std::move(record));
    }
  }
  // Kafka timestamps as Winlogbeat sets them (the event's time), moved to end a minute ago so
  // that the broker's 24-hour retention keeps them.
  StampWithEventTimes(records);
  absl::Time last = absl::InfinitePast();
  for (const KafkaRecord& record : records) last = std::max(last, record.timestamp);
  for (KafkaRecord& record : records) record.timestamp += absl::Now() - absl::Minutes(1) - last;
  if (absl::Status s = testing::Publish(brokers, events, records); !s.ok()) {
    r.status = s;
    return r;
  }
  Config config;
  config.kafka.brokers = brokers;
  config.kafka.topics = {events};
  config.kafka.group_id = testing::UniqueName("workers");
  config.kafka.stop_at_end = true;
  config.kafka.commit_interval = absl::Milliseconds(200);
  config.kafka.workers = workers;
  config.ingest.pool_topic = pools;
  config.detect.max_event_age = absl::ZeroDuration();  // the demo happened months ago
  std::FILE* out = std::tmpfile();
  auto service = Service::Create(config, {.stdout_stream = out});
  if (!service.ok()) {
    r.status = service.status();
    std::fclose(out);
    return r;
  }
  std::atomic<bool> stop{false}, done{false};
  std::thread watchdog([&] {  // bounded, whatever the group does
    for (int i = 0; i < 1200 && !done.load(); ++i) absl::SleepFor(absl::Milliseconds(100));
    if (!done.load()) r.timed_out = true;
    stop.store(true);
  });
  r.status = (*service)->Run(stop);
  done.store(true);
  watchdog.join();
  r.summary = (*service)->SummaryJson();
  std::rewind(out);
  char line[1 << 16];
  while (std::fgets(line, sizeof(line), out) != nullptr) {
    ++r.lines;
    const std::string text(line);
    auto field = [&text](const std::string& name) {
      const std::string key = "\"" + name + "\":\"";
      const size_t at = text.find(key);
      if (at == std::string::npos) return std::string();
      return text.substr(at + key.size(), text.find('"', at + key.size()) - at - key.size());
    };
    r.alerts.insert({field("rule"), field("host"), field("fingerprint")});
  }
  std::fclose(out);
  return r;
}

TEST(ServiceWorkersTest, ThreeWorkersRaiseWhatOneRaisesAndStopTogetherAtTheEnd) {
  // Four partitions, three busy ones at most (three hosts), three workers: one may hold none.
  FAULTLINE_REQUIRE_KAFKA(brokers);
  const WorkersRun one = RunWorkers(brokers, 1, 3);
  ASSERT_TRUE(one.status.ok()) << one.status;
  const WorkersRun three = RunWorkers(brokers, 3, 3);
  ASSERT_TRUE(three.status.ok()) << three.status;
  EXPECT_FALSE(one.timed_out);
  EXPECT_FALSE(three.timed_out) << "the workers did not stop together at the end";
  // Three alerts per host, and the pool failing on the three hosts at once: a fleet incident,
  // whose hosts' failures met in the pool topic whichever workers read them.
  size_t fleet = 0;
  for (const auto& [rule, host, fingerprint] : one.alerts)
    fleet += rule == "fleet_app_pool_failures";
  EXPECT_EQ(one.alerts.size() - fleet, 9u) << one.summary;
  EXPECT_GE(fleet, 1u);
  EXPECT_EQ(three.alerts, one.alerts);
  EXPECT_EQ(three.lines, one.lines) << "nothing sent twice";
  // Every message read; some perhaps twice (a partition that moved between workers while they
  // joined, before its commit: read again, deduplicated, raising nothing new).
  const size_t at = three.summary.find("\"events\":");
  ASSERT_NE(at, std::string::npos) << three.summary;
  EXPECT_GE(std::stoul(three.summary.substr(at + 9)), 21u) << three.summary;
}

}  // namespace
}  // namespace faultline
