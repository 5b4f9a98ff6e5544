// The Opsgenie requests (golden) and the create / close exchange against a real HTTP server.
#include "sinks/opsgenie/opsgenie_sink.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sinks/testing/golden.h"
#include "sinks/testing/http_receiver.h"
#include "sinks/testing/make_sink.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;
using testing::OptionValue;
using testing::SampleAlert;
using testing::SampleResolvedAlert;

TEST(OpsgenieRequestTest, CreatesWhileFiringAndClosesByAliasWhenResolved) {
  const OpsgenieRequest create = OpsgenieRequestFor(SampleAlert(), {"exchange"});
  EXPECT_EQ(create.path, "/v2/alerts");
  testing::ExpectGolden("sinks/opsgenie/testdata/create.json", create.body + "\n");
  EXPECT_THAT(create.body, HasSubstr("\"alias\":\"" + SampleAlert().fingerprint() + "\""));
  const OpsgenieRequest close = OpsgenieRequestFor(SampleResolvedAlert(), {"exchange"});
  EXPECT_EQ(close.path,
            "/v2/alerts/" + SampleResolvedAlert().fingerprint() + "/close?identifierType=alias");
  testing::ExpectGolden("sinks/opsgenie/testdata/close.json", close.body + "\n");
}

TEST(OpsgenieRequestTest, PriorityFollowsSeverityAndTheMessageFitsOpsgeniesLimit) {
  Alert a = SampleAlert();
  a.set_severity("critical");
  a.set_summary(std::string(300, 'x'));
  OpsgenieRequest r = OpsgenieRequestFor(a, {});
  EXPECT_THAT(r.body, HasSubstr("\"priority\":\"P1\""));
  EXPECT_THAT(r.body, HasSubstr("\"message\":\"" + std::string(127, 'x') + "...\""));
  a.set_severity("warning");
  EXPECT_THAT(OpsgenieRequestFor(a, {}).body, HasSubstr("\"priority\":\"P3\""));
  a.set_severity("info");
  EXPECT_THAT(OpsgenieRequestFor(a, {}).body, HasSubstr("\"priority\":\"P5\""));
}

TEST(OpsgenieSinkTest, SendsTheKeyAndFindsTheAlertAgainByItsAlias) {
  auto receiver = testing::WebhookReceiver::Start();
  ASSERT_NE(receiver, nullptr) << "python3 webhook receiver did not start";
  auto sink = testing::MakeSink("opsgenie", OpsgenieSink::Config::Schema(), &OpsgenieSink::Create,
                                {{"api_key", "K3Y"},
                                 {"url", receiver->url("/")},
                                 {"tags", OptionValue::List({"exchange", "prod"})}});
  ASSERT_TRUE(sink.ok()) << sink.status();
  for (const Alert& a : {SampleAlert(), SampleResolvedAlert()}) {
    const Alert* batch[] = {&a};
    ASSERT_TRUE((*sink)->Deliver(batch).ok());
  }
  const auto requests = receiver->Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].path, "/v2/alerts");
  EXPECT_EQ(requests[0].headers.at("authorization"), "GenieKey K3Y");
  EXPECT_EQ(requests[0].body, OpsgenieRequestFor(SampleAlert(), {"exchange", "prod"}).body);
  EXPECT_EQ(requests[1].path,
            "/v2/alerts/" + SampleAlert().fingerprint() + "/close?identifierType=alias");
}

TEST(OpsgenieSinkTest, NeedsTheApiKey) {
  auto sink =
      testing::MakeSink("opsgenie", OpsgenieSink::Config::Schema(), &OpsgenieSink::Create, {});
  ASSERT_FALSE(sink.ok());
  EXPECT_THAT(std::string(sink.status().message()),
              HasSubstr("sinks[0].api_key: required (or api_key_file / api_key_env)"));
}

}  // namespace
}  // namespace faultline
