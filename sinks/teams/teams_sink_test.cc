// The Teams card (golden) and its delivery against a real HTTP server.
#include "sinks/teams/teams_sink.h"

#include <cstdio>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sinks/alert_text.h"
#include "sinks/testing/golden.h"
#include "sinks/testing/http_receiver.h"
#include "sinks/testing/make_sink.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::SampleAlert;
using testing::SampleResolvedAlert;

TEST(TeamsBodyTest, IsAnAdaptiveCardWithTheFactsAndTheEvidence) {
  const std::string firing = TeamsBody(SampleAlert());
  testing::ExpectGolden("sinks/teams/testdata/teams_firing.json", firing + "\n");
  EXPECT_THAT(firing, HasSubstr("\"contentType\":\"application/vnd.microsoft.card.adaptive\""));
  EXPECT_THAT(firing, HasSubstr("\"title\":\"Host\",\"value\":\"" + SampleAlert().host()));
  EXPECT_THAT(firing, HasSubstr("\"fontType\":\"Monospace\""));
  const std::string resolved = TeamsBody(SampleResolvedAlert());
  testing::ExpectGolden("sinks/teams/testdata/teams_resolved.json", resolved + "\n");
  EXPECT_THAT(resolved, HasSubstr("\"color\":\"Good\""));
  EXPECT_THAT(resolved, HasSubstr("Resolved: "));
}

TEST(TeamsSinkTest, PostsTheCardAndAResolutionToTheWebhook) {
  auto receiver = testing::WebhookReceiver::Start();
  ASSERT_NE(receiver, nullptr) << "python3 webhook receiver did not start";
  auto sink = testing::MakeSink("teams", TeamsSink::Config::Schema(), &TeamsSink::Create,
                                {{"url", receiver->url("/workflows/abc/triggers/manual")}});
  ASSERT_TRUE(sink.ok()) << sink.status();
  for (const Alert& a : {SampleAlert(), SampleResolvedAlert()}) {
    const Alert* batch[] = {&a};
    ASSERT_TRUE((*sink)->Deliver(batch).ok());
  }
  const auto requests = receiver->Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].path, "/workflows/abc/triggers/manual");
  EXPECT_EQ(requests[0].body, TeamsBody(SampleAlert()));
  EXPECT_EQ(requests[0].headers.at("idempotency-key"), IdempotencyKey(SampleAlert()));
  EXPECT_EQ(requests[1].body, TeamsBody(SampleResolvedAlert()));
}

TEST(TeamsSinkTest, NeedsAUrlAndNeverEchoesIt) {
  auto none = testing::MakeSink("teams", TeamsSink::Config::Schema(), &TeamsSink::Create, {});
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("sinks[0].url: required"));
  auto bad = testing::MakeSink("teams", TeamsSink::Config::Schema(), &TeamsSink::Create,
                               {{"url", "example.webhook.office.com/webhookb2/s3cr3t"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), Not(HasSubstr("s3cr3t")));
}

TEST(TeamsSinkTest, AUrlFileThatCannotBeReadIsOneProblem) {
  const std::string missing = ::testing::TempDir() + "/teams_no_such_url_file";
  std::remove(missing.c_str());
  auto sink = testing::MakeSink("teams", TeamsSink::Config::Schema(), &TeamsSink::Create,
                                {{"url_file", missing}});
  ASSERT_FALSE(sink.ok());
  EXPECT_THAT(std::string(sink.status().message()), HasSubstr("url_file: cannot read " + missing));
  EXPECT_THAT(std::string(sink.status().message()), Not(HasSubstr("sinks[0].url:")))
      << "not a second problem about the URL that was not read";
}

}  // namespace
}  // namespace faultline
