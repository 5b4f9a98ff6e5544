// Delivery end to end: `faultline run` against the real broker, delivering to a real HTTP
// receiver (sinks/testing/webhook_receiver.py) that is down, then rate limiting, then healthy.
// Nothing is lost across the outage and a crash, nothing is committed past an alert that is
// neither delivered nor durably queued.
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "app/testing/test_pipeline.h"
#include "core/clock.h"
#include "core/kafka/producer.h"
#include "core/testing/child_process.h"
#include "core/testing/eventually.h"
#include "core/testing/kafka_env.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "sinks/testing/http_receiver.h"
#include "sinks/webhook/webhook_sink.h"
#include "tests/incident_stream.h"

namespace faultline {
namespace {

using testing::ChildProcess;
using ::testing::HasSubstr;
using testing::ReceivedRequest;
using testing::WebhookReceiver;

std::vector<KafkaRecord> Records(const std::vector<std::string>& lines, size_t from, size_t to) {
  std::vector<KafkaRecord> out;
  for (size_t i = from; i < to; ++i) out.push_back({.key = "iis", .value = lines[i]});
  return out;
}

// What the detectors raise for `lines`, computed in process: the reference the live run must
// deliver, notification for notification.
std::vector<std::string> ExpectedKeys(const std::vector<std::string>& lines) {
  TestPipeline t = MakeTestPipeline();
  for (const std::string& line : lines) t.pipeline->OnMessage(Message{.payload = line});
  t.pipeline->Drain();
  std::vector<std::string> keys;
  for (const Alert& a : t.sink->alerts()) {
    keys.push_back(absl::StrCat(a.fingerprint(), "-", a.status(), "-", a.sequence()));
  }
  return keys;
}

// The notification a delivered body carries, as its idempotency key.
std::string KeyOfBody(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS) return "unparsable";
  std::string_view fingerprint, status;
  uint64_t sequence = 0;
  if (doc["fingerprint"].get_string().get(fingerprint) != simdjson::SUCCESS ||
      doc["status"].get_string().get(status) != simdjson::SUCCESS ||
      doc["sequence"].get_uint64().get(sequence) != simdjson::SUCCESS) {
    return "incomplete";
  }
  return absl::StrCat(std::string(fingerprint), "-", std::string(status), "-", sequence);
}

std::string WriteConfig(const std::string& name, const std::string& brokers,
                        const std::string& topic, const std::string& group,
                        const std::string& delivery, const std::string& url) {
  const std::string path = ::testing::TempDir() + "/" + name + ".yaml";
  std::ofstream(path) << "kafka:\n  brokers: " << brokers << "\n  topics: [" << topic
                      << "]\n  group_id: " << group << "\n  commit_interval: 300ms\n"
                      << "detect:\n  max_event_age: 0s\n"  // incidents of last March, published now
                      << "delivery:\n"
                      << delivery << "sinks:\n  - type: webhook\n    url: " << url
                      << "\n    secret: s3cret\n    timeout: 2s\n";
  return path;
}

// How often the waits below look: each look is a broker round trip or an HTTP request.
constexpr absl::Duration kPoll = absl::Milliseconds(200);

ChildProcess StartFaultline(const std::string& config, const std::string& log,
                            const std::string& extra = "") {
  std::vector<std::string> argv = {std::string(FAULTLINE_BINARY_DIR) + "/faultline",
                                   "run",
                                   "--config",
                                   config,
                                   "--progress-every",
                                   "0"};
  for (absl::string_view a : absl::StrSplit(extra, ' ', absl::SkipEmpty())) {
    argv.emplace_back(a);
  }
  return ChildProcess(argv, {}, log);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The done-when of issue 5: the receiver is down for 60 s while events stream in, faultline
// crashes (SIGKILL) and restarts in the middle of it, then the receiver answers 429 with
// Retry-After for 10 s, then accepts. Every alert arrives, in order per fingerprint, never
// twice under different idempotency keys.
TEST(DeliveryEndToEndTest, AReceiverOutageAndACrashLoseNoAlert) {
  FAULTLINE_REQUIRE_KAFKA(brokers);
  const std::string topic = testing::UniqueName("outage");
  const std::string group = testing::UniqueName("faultline-outage");
  const std::string spool = ::testing::TempDir() + "/" + topic + "-spool";
  const std::vector<std::string> lines = testing::IncidentStream(10);
  const std::vector<std::string> expected = ExpectedKeys(lines);
  ASSERT_EQ(expected.size(), 60u) << "six notifications per incident";
  const size_t half = lines.size() / 2;

  const int port = testing::FreePort();
  const std::string config = WriteConfig(
      topic, brokers, topic, group,
      absl::StrCat("  spool_dir: ", spool,
                   "\n  retry_backoff: 200ms\n  retry_backoff_max: 2s\n  shutdown_timeout: 1s\n"),
      absl::StrCat("http://127.0.0.1:", port, "/hook"));
  const absl::Time outage_start = absl::Now();
  ASSERT_TRUE(testing::Publish(brokers, topic, Records(lines, 0, half)).ok());
  {
    ChildProcess first = StartFaultline(config, ::testing::TempDir() + "/" + topic + "-1.log");
    // The alerts are durable in the spool, so the commit may pass them though nothing was
    // delivered.
    ASSERT_TRUE(testing::Eventually(
        [&] {
          return testing::CommittedOffset(brokers, group, topic) == static_cast<int64_t>(half);
        },
        absl::Seconds(60), kPoll))
        << ReadFile(::testing::TempDir() + "/" + topic + "-1.log");
    EXPECT_EQ(first.SignalAndWait(SIGKILL, absl::Seconds(10)), 128 + SIGKILL) << "a crash";
  }
  ASSERT_TRUE(testing::Publish(brokers, topic, Records(lines, half, lines.size())).ok());
  const std::string second_log = ::testing::TempDir() + "/" + topic + "-2.log";
  ChildProcess second = StartFaultline(config, second_log);

  const absl::Duration down_for = absl::Now() - outage_start;
  if (down_for < absl::Seconds(60)) absl::SleepFor(absl::Seconds(60) - down_for);
  std::unique_ptr<WebhookReceiver> receiver = WebhookReceiver::Start(
      port, "", R"({"responses": [{"status": 429, "retry_after": "2", "seconds": 10}]})");
  ASSERT_NE(receiver, nullptr);

  auto accepted = [&] {
    std::set<std::string> keys;
    for (const ReceivedRequest& r : receiver->Requests()) {
      if (r.status == 200) keys.insert(r.headers.at("idempotency-key"));
    }
    return keys;
  };
  ASSERT_TRUE(testing::Eventually([&] { return accepted().size() >= expected.size(); },
                                  absl::Seconds(120), kPoll))
      << accepted().size() << " of " << expected.size() << " delivered\n"
      << ReadFile(second_log);
  EXPECT_EQ(second.SignalAndWait(SIGTERM, absl::Seconds(30)), 0) << ReadFile(second_log);

  const std::vector<ReceivedRequest> requests = receiver->Requests();
  // Every notification arrived, and nothing else did.
  EXPECT_EQ(accepted(), std::set<std::string>(expected.begin(), expected.end()));
  // The key names the notification in the body (so a receiver may drop a repeat), and a key is
  // never reused for another body.
  std::map<std::string, std::string> body_of_key;
  for (const ReceivedRequest& r : requests) {
    const std::string& key = r.headers.at("idempotency-key");
    EXPECT_EQ(KeyOfBody(r.body), key);
    auto [it, inserted] = body_of_key.emplace(key, r.body);
    EXPECT_TRUE(inserted || it->second == r.body) << "two bodies under " << key;
    EXPECT_EQ(r.headers.at("x-faultline-signature-256"),
              "sha256=" + HmacSha256Hex("s3cret", r.body));
  }
  // In order per fingerprint: each fingerprint's notifications first arrive by sequence.
  std::map<std::string, uint64_t> last_sequence;
  for (const ReceivedRequest& r : requests) {
    const std::string& key = r.headers.at("idempotency-key");
    const std::vector<std::string> parts = absl::StrSplit(key, '-');
    ASSERT_EQ(parts.size(), 3u) << key;
    uint64_t sequence = 0;
    ASSERT_TRUE(absl::SimpleAtoi(parts[2], &sequence));
    uint64_t& last = last_sequence[parts[0]];
    EXPECT_GE(sequence, last) << key << " arrived after a later notification";
    last = std::max(last, sequence);
  }
  // Retry-After was honoured: after each 429 the next request waited at least 2 s.
  int rate_limited = 0;
  for (size_t i = 0; i + 1 < requests.size(); ++i) {
    if (requests[i].status != 429) continue;
    ++rate_limited;
    EXPECT_GE(requests[i + 1].time - requests[i].time, 1.9) << "request " << i;
  }
  EXPECT_GT(rate_limited, 0) << "the receiver did rate limit";
  EXPECT_EQ(testing::CommittedOffset(brokers, group, topic), static_cast<int64_t>(lines.size()));
}

// Without a spool, an alert counts only once delivered: while the receiver is down, the commit
// stays on the message that raised the first alert, through a graceful stop too; the next start
// reads from there.
TEST(DeliveryEndToEndTest, TheCommitStopsAtTheFirstUndeliveredAlert) {
  FAULTLINE_REQUIRE_KAFKA(brokers);
  const std::string topic = testing::UniqueName("held-commit");
  const std::string group = testing::UniqueName("faultline-held");
  std::vector<KafkaRecord> records;
  {
    std::ifstream in(std::string(FAULTLINE_SOURCE_DIR) + "/app/demo/exchange_owa_incident.jsonl");
    for (std::string line; std::getline(in, line);) records.push_back({"EXCH01", line});
  }
  ASSERT_EQ(records.size(), 7u);
  ASSERT_TRUE(testing::Publish(brokers, topic, records).ok());
  // Offsets 0-2: Application Error 1000, WAS 5009, WAS 5011; offset 3, the third failure,
  // raises iis_worker_failure_burst.
  constexpr int64_t kFirstAlert = 3;

  const int port = testing::FreePort();
  const std::string metrics_port = absl::StrCat(testing::FreePort());
  const std::string config =
      WriteConfig(topic, brokers, topic, group, "  retry_backoff: 200ms\n  shutdown_timeout: 1s\n",
                  absl::StrCat("http://127.0.0.1:", port, "/hook"));
  const std::string log = ::testing::TempDir() + "/" + topic + ".log";
  {
    ChildProcess run = StartFaultline(config, log, "--metrics-listen 127.0.0.1:" + metrics_port);
    // Everything was read and processed (the endpoint says so), yet the receiver is down.
    ASSERT_TRUE(testing::Eventually(
        [&] {
          const auto [status, text] =
              testing::HttpGet("http://127.0.0.1:" + metrics_port + "/metrics");
          return text.find("faultline_events_consumed_total 7\n") != std::string::npos;
        },
        absl::Seconds(60), kPoll))
        << ReadFile(log);
    for (int i = 0; i < 5; ++i) {  // five commit intervals and more
      absl::SleepFor(absl::Milliseconds(400));
      EXPECT_EQ(testing::CommittedOffset(brokers, group, topic), kFirstAlert);
    }
    // The stop keeps its 1 s deadline with the receiver still down: a generous bound for the
    // commit and the group's leave around it, far below the 30 s an orchestrator waits.
    const absl::Time stopping = RealClock::Get().TimeNow();
    EXPECT_EQ(run.SignalAndWait(SIGTERM, absl::Seconds(30)), 0) << ReadFile(log);
    EXPECT_LT(RealClock::Get().TimeNow() - stopping, absl::Seconds(10)) << ReadFile(log);
  }
  EXPECT_EQ(testing::CommittedOffset(brokers, group, topic), kFirstAlert)
      << "the stop committed what was delivered, not more";
  EXPECT_THAT(ReadFile(log), HasSubstr("alert(s) not delivered within 1s; their events stay "
                                       "uncommitted and are read again at the next start"));

  // The receiver is back; the next start reads again from the held offset.
  std::unique_ptr<WebhookReceiver> receiver = WebhookReceiver::Start(port);
  ASSERT_NE(receiver, nullptr);
  {
    ChildProcess run = StartFaultline(config, log, "--exit-at-end");
    // Signal 0 sends nothing: this waits for `run` to finish by itself at the topic's end.
    EXPECT_EQ(run.SignalAndWait(0, absl::Seconds(90)), 0) << ReadFile(log);
  }
  EXPECT_EQ(testing::CommittedOffset(brokers, group, topic), 7);
  EXPECT_THAT(ReadFile(log), HasSubstr("{\"events\":4,")) << "offsets 3-6, read again";
  EXPECT_FALSE(receiver->Requests().empty());
}

}  // namespace
}  // namespace faultline
