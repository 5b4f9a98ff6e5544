#include "sinks/webhook/formats.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "sinks/testing/golden.h"
#include "sinks/webhook/webhook_sink.h"

namespace faultline {
namespace {

using testing::ExpectGolden;
using ::testing::HasSubstr;
using testing::SampleAlert;
using testing::SampleResolvedAlert;

// Every body must be JSON a receiver can parse.
void ExpectValidJson(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(body).get(doc), simdjson::SUCCESS) << body;
}

TEST(WebhookFormatsTest, JsonIsTheStableShapeAndAnArrayWhenBatching) {
  const Alert a = SampleAlert(), b = SampleResolvedAlert();
  const Alert* one[] = {&a};
  const Alert* two[] = {&a, &b};
  EXPECT_EQ(JsonBody(one, /*as_array=*/false), AlertToJson(a));
  EXPECT_EQ(JsonBody(one, /*as_array=*/true), "[" + AlertToJson(a) + "]");
  const std::string batch = JsonBody(two, /*as_array=*/true);
  ExpectValidJson(batch);
  EXPECT_EQ(batch, "[" + AlertToJson(a) + "," + AlertToJson(b) + "]");
}

TEST(WebhookFormatsTest, PagerDutyTriggersWithTheFingerprintAsDedupKey) {
  const std::string body = PagerDutyBody(SampleAlert(), "R0UTINGKEY");
  ExpectValidJson(body);
  ExpectGolden("sinks/webhook/testdata/pagerduty_trigger.json", body + "\n");
}

TEST(WebhookFormatsTest, PagerDutyResolvesByDedupKeyOnly) {
  const std::string body = PagerDutyBody(SampleResolvedAlert(), "R0UTINGKEY");
  EXPECT_EQ(body,
            "{\"routing_key\":\"R0UTINGKEY\",\"event_action\":\"resolve\","
            "\"dedup_key\":\"3e8a92279cfaa532\"}");
}

TEST(WebhookFormatsTest, SlackIsAReadableBlockMessage) {
  const std::string firing = SlackBody(SampleAlert());
  ExpectValidJson(firing);
  ExpectGolden("sinks/webhook/testdata/slack_firing.json", firing + "\n");
  const std::string resolved = SlackBody(SampleResolvedAlert());
  ExpectValidJson(resolved);
  ExpectGolden("sinks/webhook/testdata/slack_resolved.json", resolved + "\n");
}

TEST(WebhookFormatsTest, SlackEscapesItsControlCharacters) {
  Alert a = SampleAlert();
  a.set_summary("pool <Default> & \"friends\"");
  const std::string body = SlackBody(a);
  ExpectValidJson(body);
  EXPECT_THAT(body, HasSubstr("pool &lt;Default&gt; &amp; \\\"friends\\\""));
}

TEST(WebhookFormatsTest, ChatMessagesShowNoControlCharacterFromAnEvent) {
  Alert a = SampleAlert();
  a.set_host("WEB1\n*[critical]* \xe2\x80\xae\x1b[2J");
  a.set_summary("failing on WEB1\n*forged*");
  for (const std::string& body : {SlackBody(a), PagerDutyBody(a, "key")}) {
    ExpectValidJson(body);
    EXPECT_EQ(body.find("\\n*[critical]*"), std::string::npos) << body;
    EXPECT_EQ(body.find("\\u001b"), std::string::npos) << body;
    EXPECT_EQ(body.find("\xe2\x80\xae"), std::string::npos) << body;
  }
  EXPECT_THAT(SlackBody(a), HasSubstr("WEB1\\\\x0A*[critical]* \\\\u{202E}\\\\x1B[2J"));
}

TEST(WebhookFormatsTest, CutsLongTextAtACharacterBoundary) {
  Alert a = SampleAlert();
  std::string summary;
  // Two-byte characters only: a cut at an odd byte count splits one.
  while (summary.size() < 4000) summary += "\xc3\xa4";  // ä
  a.set_summary(summary);
  const std::string body = SlackBody(a);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(body).get(doc), simdjson::SUCCESS) << "valid UTF-8 (simdjson checks)";
  std::string_view text;
  ASSERT_EQ(doc["blocks"].at(1)["text"]["text"].get_string().get(text), simdjson::SUCCESS);
  EXPECT_LE(text.size(), 3000u);
  EXPECT_EQ(text.substr(text.size() - 3), "...");
  const std::string pd = PagerDutyBody(a, "RK");
  EXPECT_EQ(parser.parse(pd).get(doc), simdjson::SUCCESS);
}

TEST(WebhookFormatsTest, TemplateFillsPlaceholdersEscapedForJson) {
  auto t = BodyTemplate::Parse(
      R"({"text": "{{ rule }} on {{host}}: {{summary}}", "key": "{{idempotency_key}}", )"
      R"("team": "{{labels.team}}", "evidence": "{{evidence}}", "raw": {{alert}}})",
      /*json_escape=*/true);
  ASSERT_TRUE(t.ok()) << t.status();
  Alert a = SampleAlert();
  a.set_summary("line one\nline \"two\"");
  const std::string body = t->Render(a);
  ExpectValidJson(body);
  ExpectGolden("sinks/webhook/testdata/template.json", body + "\n");
}

TEST(WebhookFormatsTest, TemplateRefusesUnknownPlaceholdersAndUnclosedBraces) {
  auto unknown = BodyTemplate::Parse("{{hostname}}", true);
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(std::string(unknown.status().message()),
              HasSubstr("unknown placeholder {{hostname}} (known: rule, severity"));
  auto unclosed = BodyTemplate::Parse("text {{host", true);
  ASSERT_FALSE(unclosed.ok());
  EXPECT_THAT(std::string(unclosed.status().message()), HasSubstr("never closed"));
}

TEST(WebhookFormatsTest, TemplateLeavesValuesAloneForPlainText) {
  auto t = BodyTemplate::Parse("{{status}}: \"{{summary}}\"", /*json_escape=*/false);
  ASSERT_TRUE(t.ok());
  Alert a = SampleAlert();
  a.set_summary("a \"quoted\" word");
  EXPECT_EQ(t->Render(a), "firing: \"a \"quoted\" word\"");
}

TEST(HmacTest, MatchesTheRfc4231TestVector) {
  // RFC 4231, test case 2.
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace faultline
