#include "core/settings.h"

#include <cstdlib>
#include <fstream>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "core/settings_doc.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline::settings {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Item {
  std::string host = "*";
  std::optional<int> limit;
};

struct Toy {
  int count = 3;
  absl::Duration window = absl::Minutes(5);
  bool enabled = true;
  std::string name;
  std::vector<std::string> topics;
  std::vector<uint32_t> ids = {7031};
  std::map<std::string, std::string> labels;
  std::vector<std::pair<std::string, std::string>> properties;
  std::string token;
  bool drop = false;
  std::vector<Item> items;
};

const Schema<Toy>& ToySchema() {
  static const auto* item = &(*new Schema<Item>("An item"))
                                 .Glob("host", &Item::host, "A pattern.")
                                 .Integer("limit", &Item::limit, 1, 10, "A bound.");
  static const auto* schema =
      &(*new Schema<Toy>("A toy section"))
           .Integer("count", &Toy::count, 1, 100, "How many.")
           .Duration("window", &Toy::window, Bound::kPositive, "How long.")
           .Bool("enabled", &Toy::enabled, "On or off.")
           .String("name", &Toy::name, "Its name.", /*required=*/true)
           .StringList("topics", &Toy::topics, "Topics.")
           .IntegerList("ids", &Toy::ids, 1, 65535, "Event ids.", /*min_items=*/1)
           .StringMap("labels", &Toy::labels, "Labels.")
           .StringMap("properties", &Toy::properties, "Client properties.",
                      MapValues::kInlineFileOrEnv)
           .Secret("token", &Toy::token, "A credential.")
           .Choice(
               "on_full", &Toy::drop,
               std::vector<std::pair<std::string, bool>>{{"backpressure", false}, {"drop", true}},
               "Policy.")
           .List("items", &Toy::items, *item, "Items.")
           .Check([](const Toy& t, Checker& c) {
             if (t.count > 50 && t.enabled) c.Error("count", "more than 50 needs enabled: false");
           });
  return *schema;
}

absl::StatusOr<Toy> Read(const std::string& yaml) {
  Problems problems;
  YAML::Node root = LoadYaml(yaml, problems);
  Toy toy;
  if (problems.empty()) ReadMapping(root, "toy", {{&ToySchema(), &toy}}, problems);
  if (absl::Status s = problems.ToStatus("f.yaml"); !s.ok()) return s;
  return toy;
}

TEST(SettingsTest, ReadsEveryKindAndKeepsDefaultsForWhatIsAbsent) {
  absl::StatusOr<Toy> t = Read(R"(
name: edge
window: 90s
topics: winlogbeat
labels: {team: web}
on_full: drop
items:
  - host: "WEB*"
    limit: 4
)");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->count, 3) << "the struct's own default";
  EXPECT_EQ(t->window, absl::Seconds(90));
  EXPECT_EQ(t->topics, std::vector<std::string>{"winlogbeat"}) << "a scalar is a list of one";
  EXPECT_EQ(t->ids, std::vector<uint32_t>{7031});
  EXPECT_EQ(t->labels.at("team"), "web");
  EXPECT_TRUE(t->drop);
  ASSERT_EQ(t->items.size(), 1u);
  EXPECT_EQ(t->items[0].host, "WEB*");
  EXPECT_EQ(t->items[0].limit, 4);
}

TEST(SettingsTest, ReportsEveryProblemInOnePassWithLineColumnAndPath) {
  absl::StatusOr<Toy> t = Read(R"(count: 0
window: 5
colour: red
ids: []
enabled: yes please
items:
  - host: "["
    limit: 11
  - {}
on_full: sometimes
count: 4
)");
  ASSERT_FALSE(t.ok());
  const std::string m(t.status().message());
  EXPECT_THAT(m,
              HasSubstr("f.yaml:1:8: toy.count: must be a whole number from 1 to 100, got \"0\""));
  EXPECT_THAT(m, HasSubstr("f.yaml:2:9: toy.window: must be a duration more than 0 such as 90s"));
  EXPECT_THAT(m, HasSubstr("f.yaml:3:1: toy.colour: unknown key (known: count, window,"));
  EXPECT_THAT(m, HasSubstr("f.yaml:4:6: toy.ids: must not be empty"));
  EXPECT_THAT(m, HasSubstr("f.yaml:5:10: toy.enabled: must be true or false"));
  EXPECT_THAT(m, HasSubstr("f.yaml:7:11: toy.items[0].host: must be a name or a pattern"));
  EXPECT_THAT(m, HasSubstr("f.yaml:8:12: toy.items[0].limit: must be a whole number from 1 to 10"));
  EXPECT_THAT(
      m, HasSubstr("f.yaml:10:10: toy.on_full: must be backpressure, drop; got \"sometimes\""));
  EXPECT_THAT(m, HasSubstr("f.yaml:11:1: toy.count: given twice (first on line 1)"));
  EXPECT_THAT(m, HasSubstr("toy.name: required"));
  // One line per problem, in file order.
  EXPECT_EQ(std::count(m.begin(), m.end(), '\n'), 9) << m;
}

TEST(SettingsTest, RunsChecksAcrossKeysAtTheKeyTheyAreAbout) {
  absl::StatusOr<Toy> t = Read("name: x\ncount: 60\n");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()),
              HasSubstr("f.yaml:2:8: toy.count: more than 50 needs enabled: false"));
  EXPECT_TRUE(Read("name: x\ncount: 60\nenabled: false\n").ok());
}

TEST(SettingsTest, ReadsASecretInlineFromAFileOrFromTheEnvironmentAndNeverShowsIt) {
  const std::string file = ::testing::TempDir() + "/token";
  std::ofstream(file) << "from-file\n";
  setenv("FAULTLINE_SETTINGS_TEST_TOKEN", "from-env", 1);
  EXPECT_EQ(Read("name: x\ntoken: inline\n")->token, "inline");
  EXPECT_EQ(Read("name: x\ntoken_file: " + file + "\n")->token, "from-file");
  EXPECT_EQ(Read("name: x\ntoken_env: FAULTLINE_SETTINGS_TEST_TOKEN\n")->token, "from-env");
  // A path that is no secret file is refused, not read without end.
  for (const char* wrong : {"/dev/zero", "/nonexistent/token", "/tmp"}) {
    absl::StatusOr<Toy> r = Read(absl::StrCat("name: x\ntoken_file: ", wrong, "\n"));
    EXPECT_FALSE(r.ok()) << wrong;
  }
  EXPECT_THAT(std::string(Read("name: x\ntoken_file: /dev/zero\n").status().message()),
              HasSubstr("/dev/zero is larger than 64 KiB: not a secret"));

  absl::StatusOr<Toy> both = Read("name: x\ntoken: s3cr3t-value\ntoken_env: HOME\n");
  ASSERT_FALSE(both.ok());
  EXPECT_THAT(std::string(both.status().message()),
              HasSubstr("give only one of token, token_file, token_env"));
  EXPECT_THAT(std::string(both.status().message()), Not(HasSubstr("s3cr3t")));
  absl::StatusOr<Toy> unset = Read("name: x\ntoken_env: FAULTLINE_NO_SUCH_VARIABLE\n");
  ASSERT_FALSE(unset.ok());
  EXPECT_THAT(std::string(unset.status().message()),
              HasSubstr("environment variable FAULTLINE_NO_SUCH_VARIABLE is not set"));
}

TEST(SettingsTest, AStringMapTakesAValueFromAFileOrTheEnvironmentAndNeverShowsIt) {
  const std::string file = ::testing::TempDir() + "/sasl-password";
  std::ofstream(file) << "pw-from-file\n";
  setenv("FAULTLINE_SETTINGS_TEST_KEY_PASSWORD", "pw-from-env", 1);
  absl::StatusOr<Toy> t = Read(absl::StrCat(
      "name: x\nproperties:\n  security.protocol: sasl_ssl\n  sasl.password_file: ", file,
      "\n  ssl.key.password_env: FAULTLINE_SETTINGS_TEST_KEY_PASSWORD\n"));
  ASSERT_TRUE(t.ok()) << t.status();
  using Pair = std::pair<std::string, std::string>;
  EXPECT_THAT(t->properties, ::testing::ElementsAre(Pair{"security.protocol", "sasl_ssl"},
                                                    Pair{"sasl.password", "pw-from-file"},
                                                    Pair{"ssl.key.password", "pw-from-env"}));
  // Only where the schema allows it: labels keep such keys as they are.
  EXPECT_EQ(Read("name: x\nlabels: {team_env: prod}\n")->labels.count("team_env"), 1u);

  absl::StatusOr<Toy> both =
      Read("name: x\nproperties:\n  sasl.password: s3cr3t-value\n  sasl.password_env: HOME\n");
  ASSERT_FALSE(both.ok());
  EXPECT_THAT(std::string(both.status().message()),
              HasSubstr("toy.properties.sasl.password_env: give only one of sasl.password, "
                        "sasl.password_file, sasl.password_env"));
  EXPECT_THAT(std::string(both.status().message()), Not(HasSubstr("s3cr3t")));
  absl::StatusOr<Toy> unset =
      Read("name: x\nproperties: {sasl.password_env: FAULTLINE_NO_SUCH_VARIABLE}\n");
  ASSERT_FALSE(unset.ok());
  EXPECT_THAT(std::string(unset.status().message()),
              HasSubstr("environment variable FAULTLINE_NO_SUCH_VARIABLE is not set"));
  EXPECT_THAT(
      std::string(
          Read("name: x\nproperties: {ssl.key.password_file: /dev/zero}\n").status().message()),
      HasSubstr("/dev/zero is larger than 64 KiB: not a secret"));
}

TEST(SettingsTest, NamesYamlSyntaxErrorsWithTheirLine) {
  absl::StatusOr<Toy> t = Read("name: x\ncount: [1, 2\n");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("f.yaml:3:"));
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("not valid YAML"));
}

TEST(SettingsTest, AnEmptySectionKeepsTheDefaultsAndAWrongShapeIsNamed) {
  EXPECT_FALSE(Read("").ok()) << "name is required";
  absl::StatusOr<Toy> list = Read("- a\n- b\n");
  ASSERT_FALSE(list.ok());
  EXPECT_THAT(std::string(list.status().message()),
              HasSubstr("toy: must be a mapping, got a list"));
}

TEST(SettingsTest, AnEmptyListEntryIsRefusedNotReadAsMatchEverything) {
  absl::StatusOr<Toy> t = Read("name: x\nitems:\n  -\n  - {host: \"A*\", limit: 2}\n");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("toy.items[0]: must be a mapping"));
}

TEST(SettingsTest, ReadsYaml12BooleansAndHexOrOctalIntegers) {
  absl::StatusOr<Toy> t = Read("name: x\nenabled: False\ncount: 0x10\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_FALSE(t->enabled);
  EXPECT_EQ(t->count, 16);
  EXPECT_EQ(Read("name: x\ncount: 0o20\n")->count, 16);
  EXPECT_FALSE(Read("name: x\nenabled: yes\n").ok()) << "YAML 1.1's yes is not a boolean in 1.2";
  EXPECT_FALSE(Read("name: x\ncount: 0x\n").ok());
}

TEST(SettingsTest, ARequiredStringMustNotBeEmpty) {
  absl::StatusOr<Toy> t = Read("name: \"\"\n");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("toy.name: must not be empty"));
}

TEST(SettingsTest, RedactsUrlsToSchemeAndHost) {
  EXPECT_EQ(RedactUrl("https://alice:s3cr#et/x@am.example/api"), "https://am.example");
  EXPECT_EQ(RedactUrl("https://hooks.slack.com/services/T000/B000/XXXX"),
            "https://hooks.slack.com");
  EXPECT_EQ(RedactUrl("http://user:pw@am.local:9093/api?token=1"), "http://am.local:9093");
  EXPECT_EQ(RedactUrl("hooks.slack.com/x"), "<not a URL>");
}

TEST(SettingsTest, ControlCharactersInAValueNeverReachTheMessage) {
  absl::StatusOr<Toy> t = Read("name: x\ncount: \"1\\u001b[2J\"\n");
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), Not(HasSubstr("\x1b")));
}

TEST(AnySettingsTest, IsReadBackOnlyAsTheTypeOfTheSchemaThatMadeIt) {
  const Schema<Item> other("Another toy");
  const AnySettings defaults(ToySchema());
  ASSERT_NE(defaults.As(ToySchema()), nullptr);
  EXPECT_EQ(defaults.As(ToySchema())->count, 3);
  EXPECT_EQ(defaults.As(other), nullptr) << "made by another schema: no cast";
  EXPECT_EQ(AnySettings().As(ToySchema()), nullptr);
}

TEST(SettingsDocTest, TheReferenceAndTheJsonSchemaComeFromTheSchema) {
  const std::string md = MarkdownReference(ToySchema(), "# Toy\n\n");
  EXPECT_THAT(md, HasSubstr("| `count` | integer 1..100 | `3` | How many. |"));
  EXPECT_THAT(md, HasSubstr("| `window` | duration, more than 0 | `5m` | How long. |"));
  EXPECT_THAT(md, HasSubstr("| `name` | string | required | Its name. |"));
  EXPECT_THAT(md, HasSubstr("secret (or `token_file`, `token_env`)"));
  EXPECT_THAT(md, HasSubstr("| `on_full` | backpressure \\| drop | `backpressure` |"));
  EXPECT_THAT(md, HasSubstr("## `items[]`"));
  const std::string json = JsonSchema(ToySchema(), "toy");
  EXPECT_THAT(json, HasSubstr("\"additionalProperties\": false"));
  EXPECT_THAT(json, HasSubstr("\"count\": {\"description\": \"How many.\", \"type\": \"integer\", "
                              "\"minimum\": 1, \"maximum\": 100, \"default\": 3}"));
  EXPECT_THAT(json, HasSubstr("\"token_env\""));
  EXPECT_THAT(json, HasSubstr("\"required\": [\"name\"]"));
}

}  // namespace
}  // namespace faultline::settings
