// The webhook transport against a real HTTP/1.1 server (sinks/testing/webhook_receiver.py).
#include "sinks/webhook/webhook_sink.h"

#include <cstdio>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sinks/alert_text.h"
#include "sinks/testing/golden.h"
#include "sinks/testing/http_receiver.h"
#include "sinks/testing/make_sink.h"

namespace faultline {
namespace {

using testing::OptionValue;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::SampleAlert;
using testing::SampleResolvedAlert;
using testing::WebhookReceiver;

class WebhookSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    receiver_ = WebhookReceiver::Start();
    ASSERT_NE(receiver_, nullptr) << "python3 webhook receiver did not start";
  }
  std::unique_ptr<Sink> Make(const std::string& type, std::map<std::string, OptionValue> options) {
    using Config = WebhookSink::Config;
    auto sink =
        type == "pagerduty" ? testing::MakeSink(type, Config::PagerDutySchema(),
                                                &WebhookSink::CreatePagerDuty, options)
        : type == "slack"
            ? testing::MakeSink(type, Config::SlackSchema(), &WebhookSink::CreateSlack, options)
            : testing::MakeSink(type, Config::WebhookSchema(), &WebhookSink::Create, options);
    EXPECT_TRUE(sink.ok()) << sink.status();
    return sink.ok() ? std::move(*sink) : nullptr;
  }
  static absl::Status Deliver(Sink& sink, const Alert& alert) {
    const Alert* batch[] = {&alert};
    return sink.Deliver(batch);
  }
  std::unique_ptr<WebhookReceiver> receiver_;
};

TEST_F(WebhookSinkTest, PostsTheAlertWithIdempotencyKeySignatureAndHeaders) {
  auto sink = Make("webhook", {{"url", receiver_->url("/alerts")},
                               {"secret", "s3cret"},
                               {"headers", OptionValue::Map({{"X-Team", "messaging"}})}});
  ASSERT_NE(sink, nullptr);
  const Alert alert = SampleAlert();
  ASSERT_TRUE(Deliver(*sink, alert).ok());
  const auto requests = receiver_->Requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& r = requests[0];
  EXPECT_EQ(r.path, "/alerts");
  EXPECT_EQ(r.body, AlertToJson(alert));
  EXPECT_EQ(r.headers.at("content-type"), "application/json");
  EXPECT_EQ(r.headers.at("idempotency-key"), "3e8a92279cfaa532-firing-1");
  EXPECT_EQ(r.headers.at("x-faultline-signature-256"), "sha256=" + HmacSha256Hex("s3cret", r.body))
      << "a receiver recomputes the HMAC of the body it got";
  EXPECT_EQ(r.headers.at("x-team"), "messaging");
  EXPECT_THAT(r.headers.at("user-agent"), HasSubstr("faultline/"));
}

TEST_F(WebhookSinkTest, KeepsTheConnectionAlive) {
  auto sink = Make("webhook", {{"url", receiver_->url()}});
  ASSERT_NE(sink, nullptr);
  const Alert a = SampleAlert();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Deliver(*sink, a).ok());
  const auto requests = receiver_->Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].client_port, requests[0].client_port) << "one TCP connection";
  EXPECT_EQ(requests[2].client_port, requests[0].client_port);
}

TEST_F(WebhookSinkTest, TellsRetryableFailuresFromRefusals) {
  auto sink = Make("webhook", {{"url", receiver_->url()}, {"timeout", "500ms"}});
  ASSERT_NE(sink, nullptr);
  receiver_->Script(R"({"responses": [
      {"status": 503, "retry_after": "7", "times": 1},
      {"status": 429, "times": 1},
      {"status": 404, "body": "no such hook", "times": 1},
      {"status": 200, "delay": 2, "times": 1}]})");
  const Alert a = SampleAlert();
  const absl::Status unavailable = Deliver(*sink, a);
  EXPECT_TRUE(IsRetryable(unavailable)) << unavailable;
  EXPECT_EQ(RetryAfter(unavailable), absl::Seconds(7));
  EXPECT_TRUE(IsRetryable(Deliver(*sink, a)));
  const absl::Status refused = Deliver(*sink, a);
  EXPECT_FALSE(IsRetryable(refused));
  EXPECT_THAT(std::string(refused.message()), HasSubstr("HTTP 404 from http://127.0.0.1:"));
  EXPECT_THAT(std::string(refused.message()), HasSubstr("no such hook"));
  const absl::Status slow = Deliver(*sink, a);
  EXPECT_EQ(slow.code(), absl::StatusCode::kDeadlineExceeded) << slow;
}

TEST_F(WebhookSinkTest, ReportsAReceiverThatIsDownAsRetryable) {
  auto sink = Make("webhook", {{"url", "http://127.0.0.1:1/hook"}});
  ASSERT_NE(sink, nullptr);
  const absl::Status s = Deliver(*sink, SampleAlert());
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("POST http://127.0.0.1:1: "));
}

TEST_F(WebhookSinkTest, BatchesIntoOneArrayWithOneKey) {
  auto sink = Make("webhook", {{"url", receiver_->url()}, {"batch_size", "10"}});
  ASSERT_NE(sink, nullptr);
  EXPECT_EQ(sink->max_batch(), 10u);
  const Alert a = SampleAlert(), b = SampleResolvedAlert();
  const Alert* batch[] = {&a, &b};
  ASSERT_TRUE(sink->Deliver(batch).ok());
  const auto requests = receiver_->Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].body, "[" + AlertToJson(a) + "," + AlertToJson(b) + "]");
  EXPECT_THAT(requests[0].headers.at("idempotency-key"), HasSubstr("batch-"));
}

TEST_F(WebhookSinkTest, SendsPagerDutyEventsAndSlackMessagesOverTheSameTransport) {
  auto pd = Make("pagerduty", {{"url", receiver_->url("/v2/enqueue")}, {"routing_key", "RK"}});
  ASSERT_NE(pd, nullptr);
  auto slack = Make("slack", {{"url", receiver_->url("/services/T0/B0/X")}});
  ASSERT_NE(slack, nullptr);
  ASSERT_TRUE(Deliver(*pd, SampleAlert()).ok());
  ASSERT_TRUE(Deliver(*pd, SampleResolvedAlert()).ok());
  ASSERT_TRUE(Deliver(*slack, SampleAlert()).ok());
  const auto requests = receiver_->Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].body, PagerDutyBody(SampleAlert(), "RK"));
  EXPECT_EQ(requests[1].body, PagerDutyBody(SampleResolvedAlert(), "RK"));
  EXPECT_EQ(requests[2].path, "/services/T0/B0/X");
  EXPECT_EQ(requests[2].body, SlackBody(SampleAlert()));
}

TEST_F(WebhookSinkTest, RendersATemplateFromAFile) {
  const std::string path = ::testing::TempDir() + "/webhook_template.json";
  std::ofstream(path) << R"({"msg": "{{summary}}", "id": "{{idempotency_key}}"})";
  auto sink =
      Make("webhook", {{"url", receiver_->url()}, {"format", "template"}, {"template_file", path}});
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(Deliver(*sink, SampleAlert()).ok());
  const auto requests = receiver_->Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].body,
            "{\"msg\": \"IIS rapid-fail protection disabled application pool "
            "'MSExchangeOWAAppPool'.\", \"id\": \"3e8a92279cfaa532-firing-1\"}");
}

TEST(WebhookSinkOptionsTest, NamesAnUnreadableCaFile) {
  auto sink = testing::MakeSink(
      "webhook", WebhookSink::Config::WebhookSchema(), &WebhookSink::Create,
      {{"url", "https://hooks.example.com/x"}, {"ca_file", "/nonexistent/ca.pem"}});
  ASSERT_FALSE(sink.ok());
  EXPECT_THAT(std::string(sink.status().message()),
              HasSubstr("ca_file: cannot read /nonexistent/ca.pem"));
}

TEST(WebhookSinkOptionsTest, ReportsEveryBadOption) {
  auto sink =
      testing::MakeSink("webhook", WebhookSink::Config::WebhookSchema(), &WebhookSink::Create,
                        {{"url", "hooks.example.com"},
                         {"format", "template"},
                         {"template", "{{nope}}"},
                         {"timeout", "0s"}});
  ASSERT_FALSE(sink.ok());
  const std::string m(sink.status().message());
  EXPECT_THAT(m, HasSubstr("sinks[0].url: must be an http:// or https:// URL"));
  EXPECT_THAT(m, HasSubstr("sinks[0].template: unknown placeholder {{nope}}"));
  EXPECT_THAT(m, HasSubstr("sinks[0].timeout: must be a duration more than 0"));
  EXPECT_THAT(m, Not(HasSubstr("hooks.example.com"))) << "a URL is never echoed";
}

// The problems the configuration reader finds in a `sinks:` list written in YAML, each as
// "path: message".
std::vector<std::string> ProblemsIn(const std::string& yaml) {
  using Config = WebhookSink::Config;
  SinkRegistry registry;
  registry.Register("webhook", Config::WebhookSchema(), &WebhookSink::Create);
  registry.Register("pagerduty", Config::PagerDutySchema(), &WebhookSink::CreatePagerDuty);
  registry.Register("slack", Config::SlackSchema(), &WebhookSink::CreateSlack);
  std::vector<SinkSpec> specs;
  settings::Problems problems;
  registry.ReadList(YAML::Load(yaml), "sinks", &specs, problems);
  std::vector<std::string> out;
  for (const settings::Problem& p : problems.list()) out.push_back(p.path + ": " + p.message);
  return out;
}

TEST(WebhookSinkOptionsTest, AUrlFileThatCannotBeReadIsOneProblem) {
  const std::string missing = ::testing::TempDir() + "/webhook_no_such_url_file";
  std::remove(missing.c_str());
  const std::string problem = "sinks[0].url_file: cannot read " + missing + ", or it is empty";
  EXPECT_THAT(ProblemsIn("- type: webhook\n  url_file: " + missing), ElementsAre(problem));
  EXPECT_THAT(ProblemsIn("- type: slack\n  url_file: " + missing), ElementsAre(problem));
  EXPECT_THAT(ProblemsIn("- type: pagerduty\n  routing_key: RK\n  url_file: " + missing),
              ElementsAre(problem));
  EXPECT_THAT(ProblemsIn("- type: webhook\n  url_env: FAULTLINE_TEST_NO_SUCH_VARIABLE"),
              ElementsAre("sinks[0].url_env: environment variable "
                          "FAULTLINE_TEST_NO_SUCH_VARIABLE is not set"));
}

TEST(WebhookSinkOptionsTest, AnEmptyUrlGivenInlineIsStillRefused) {
  EXPECT_THAT(ProblemsIn("- type: webhook\n  url: ''"),
              ElementsAre(::testing::StartsWith("sinks[0].url: ")));
}

}  // namespace
}  // namespace faultline
