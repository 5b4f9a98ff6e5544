// The operations content of deploy/monitoring/ against a live faultline: every panel query of
// the Grafana dashboard (grafana/faultline.json) returns data from the real Prometheus (Debian's)
// scraping a `faultline run` fed by the real broker, and every alerting rule of
// prometheus/faultline-rules.yml loads, evaluates and selects only series faultline exports. The
// stream is the fleet's day of tests/fleet_stream.h (incidents of every rule, redeliveries, a
// host re-reading a ten-day-old log, hosts stamped a day ahead and in 2099, times before 1970,
// failures arriving half an hour late) plus a message that is not JSON and a record whose Kafka
// timestamp is an hour ahead; a webhook sink answers 503 twice and 400 once, so the sink
// failure series move too.
#include <curl/curl.h>

#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/clock.h"
#include "core/kafka/producer.h"
#include "core/testing/child_process.h"
#include "core/testing/eventually.h"
#include "core/testing/kafka_env.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "sinks/testing/http_receiver.h"
#include "sinks/testing/peer_process.h"
#include "tests/fleet_stream.h"
#include "tests/incident_stream.h"

namespace faultline {
namespace {

using ::testing::ElementsAre;
using testing::HttpGet;
using ::testing::IsEmpty;

const std::string kDashboard =
    std::string(FAULTLINE_SOURCE_DIR) + "/deploy/monitoring/grafana/faultline.json";
const std::string kRules =
    std::string(FAULTLINE_SOURCE_DIR) + "/deploy/monitoring/prometheus/faultline-rules.yml";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The vector selectors of a PromQL expression, each as written: a metric name and its label
// matchers (`faultline_sink_queue_depth{instance=~"x"}`). Not a PromQL parser, a lexer small
// enough to read: it skips strings, ranges and subqueries ("[5m]", "[1h:1m]"), numbers and
// durations, keywords, the label lists after by / without / on / ignoring / group_left /
// group_right, aggregation operators and names followed by "(" (functions); every other name is
// a metric. Braces without a name ({__name__="x"}) are a selector too.
std::vector<std::string> VectorSelectors(std::string_view expr) {
  static const std::set<std::string, std::less<>> kGrouping = {
      "by", "without", "on", "ignoring", "group_left", "group_right"};
  // Keywords, binary operators spelt as words, and aggregation operators (which may be followed
  // by "by (...)" rather than "(").
  static const std::set<std::string, std::less<>> kNotMetrics = {
      "and",    "or",    "unless", "bool",    "atan2",    "offset",      "inf",
      "nan",    "sum",   "min",    "max",     "avg",      "group",       "stddev",
      "stdvar", "count", "topk",   "bottomk", "quantile", "count_values"};
  const size_t n = expr.size();
  auto is_name = [](char c, bool first) {
    return absl::ascii_isalpha(c) || c == '_' || c == ':' || (!first && absl::ascii_isdigit(c));
  };
  auto skip_string = [&](size_t i) {
    const char quote = expr[i++];
    while (i < n && expr[i] != quote) i += expr[i] == '\\' && quote != '`' ? 2 : 1;
    return std::min(n, i + 1);
  };
  // From an opening bracket to after its closing one, brackets in strings not counted.
  auto skip_group = [&](size_t i) {
    const char open = expr[i];
    const char close = open == '(' ? ')' : open == '[' ? ']' : '}';
    for (int depth = 0; i < n;) {
      const char c = expr[i];
      if (c == '"' || c == '\'' || c == '`') {
        i = skip_string(i);
        continue;
      }
      ++i;
      if (c == open) ++depth;
      if (c == close && --depth == 0) return i;
    }
    return n;
  };
  auto skip_space = [&](size_t i) {
    while (i < n && absl::ascii_isspace(expr[i])) ++i;
    return i;
  };
  std::vector<std::string> out;
  for (size_t i = 0; i < n;) {
    const char c = expr[i];
    if (c == '"' || c == '\'' || c == '`') {
      i = skip_string(i);
    } else if (c == '[') {
      i = skip_group(i);
    } else if (c == '{') {
      const size_t end = skip_group(i);
      out.emplace_back(expr.substr(i, end - i));
      i = end;
    } else if (absl::ascii_isdigit(c) ||
               (c == '.' && i + 1 < n && absl::ascii_isdigit(expr[i + 1]))) {
      while (i < n && (absl::ascii_isalnum(expr[i]) || expr[i] == '.' || expr[i] == '_')) ++i;
    } else if (is_name(c, true)) {
      size_t end = i;
      while (end < n && is_name(expr[end], end == i)) ++end;
      const std::string name(expr.substr(i, end - i));
      const std::string lower = absl::AsciiStrToLower(name);
      const size_t next = skip_space(end);
      const char after = next < n ? expr[next] : '\0';
      if (kGrouping.count(lower) > 0) {
        i = after == '(' ? skip_group(next) : next;
      } else if (kNotMetrics.count(lower) > 0 || after == '(') {
        i = end;
      } else if (after == '{') {
        const size_t close = skip_group(next);
        out.push_back(name + std::string(expr.substr(next, close - next)));
        i = close;
      } else {
        out.push_back(name);
        i = end;
      }
    } else {
      ++i;
    }
  }
  return out;
}

// The metric name of a selector ("" for braces alone).
std::string MetricName(std::string_view selector) {
  return std::string(selector.substr(0, selector.find('{')));
}

// One query of a dashboard panel.
struct PanelQuery {
  std::string panel;  // its title
  std::string ref_id;
  std::string expr;
  bool instant = false;
};

// A string field, or "" when it is missing or not a string.
std::string String(simdjson::simdjson_result<simdjson::dom::element> e) {
  std::string_view s;
  return e.get_string().get(s) == simdjson::SUCCESS ? std::string(s) : "";
}
std::string String(simdjson::dom::element e) {
  return String(simdjson::simdjson_result<simdjson::dom::element>(std::move(e)));
}

// Every panel of the dashboard, the panels of collapsed rows included.
std::vector<simdjson::dom::element> Panels(simdjson::dom::element dashboard) {
  std::vector<simdjson::dom::element> out;
  simdjson::dom::array panels;
  if (dashboard["panels"].get_array().get(panels) != simdjson::SUCCESS) return out;
  for (simdjson::dom::element p : panels) {
    out.push_back(p);
    simdjson::dom::array nested;
    if (p["panels"].get_array().get(nested) == simdjson::SUCCESS) {
      for (simdjson::dom::element q : nested) out.push_back(q);
    }
  }
  return out;
}

std::vector<PanelQuery> DashboardQueries(simdjson::dom::element dashboard) {
  std::vector<PanelQuery> out;
  for (simdjson::dom::element p : Panels(dashboard)) {
    simdjson::dom::array targets;
    if (p["targets"].get_array().get(targets) != simdjson::SUCCESS) continue;
    for (simdjson::dom::element t : targets) {
      bool instant = false;
      if (t["instant"].get_bool().get(instant) != simdjson::SUCCESS) instant = false;
      out.push_back({String(p["title"]), String(t["refId"]), String(t["expr"]), instant});
    }
  }
  return out;
}

// The alert names in the rules file, in order (its `- alert: NAME` lines).
std::vector<std::string> RuleNames(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    absl::string_view rest = absl::StripLeadingAsciiWhitespace(line);
    if (absl::ConsumePrefix(&rest, "- alert:")) {
      out.emplace_back(absl::StripAsciiWhitespace(rest));
    }
  }
  return out;
}

TEST(MonitoringSelectorsTest, FindsTheSeriesAnExpressionSelects) {
  EXPECT_THAT(VectorSelectors("sum by (job, instance) (rate(faultline_events_rejected_total[5m])) "
                              "/ sum by (job, instance) (rate(faultline_events_consumed_total[5m]))"
                              " > 0.05"),
              ElementsAre("faultline_events_rejected_total", "faultline_events_consumed_total"));
  EXPECT_THAT(VectorSelectors(R"(absent(up{job="faultline"}))"),
              ElementsAre(R"(up{job="faultline"})"));
  EXPECT_THAT(VectorSelectors(R"(faultline_build_info{instance=~"a"} * on (instance) group_left ())"
                              R"( (process_start_time_seconds {instance=~"a"} * 1e3))"),
              ElementsAre(R"(faultline_build_info{instance=~"a"})",
                          R"(process_start_time_seconds{instance=~"a"})"));
  EXPECT_THAT(VectorSelectors(R"(histogram_quantile(0.99, sum without (x) (rate()"
                              R"(faultline_sink_delivery_seconds_bucket{le="0.5", y=~"by(}"})"
                              R"([1m:10s] offset 5m))) unless ignoring (a) b)"),
              ElementsAre(R"(faultline_sink_delivery_seconds_bucket{le="0.5", y=~"by(}"})", "b"));
  EXPECT_THAT(VectorSelectors("faultline_spool_bytes > 256 * 1024 and deriv(faultline_spool_bytes"
                              "[30m]) > 0"),
              ElementsAre("faultline_spool_bytes", "faultline_spool_bytes"));
  EXPECT_THAT(VectorSelectors(R"x(label_replace(up, "a", "$1", "b", "(.*)") or {__name__="x"})x"),
              ElementsAre("up", R"({__name__="x"})"));
  EXPECT_THAT(VectorSelectors("1e3 * NaN + Inf - 0x1f"), IsEmpty());
}

TEST(MonitoringDashboardTest, EveryPanelQueriesTheDatasourceVariable) {
  simdjson::dom::parser parser;
  simdjson::dom::element d;
  ASSERT_EQ(parser.load(kDashboard).get(d), simdjson::SUCCESS) << kDashboard;
  EXPECT_EQ(String(d["uid"]), "faultline");
  int64_t schema = 0;
  ASSERT_EQ(d["schemaVersion"].get_int64().get(schema), simdjson::SUCCESS);
  EXPECT_GE(schema, 36);
  std::map<std::string, simdjson::dom::element> variables;
  simdjson::dom::array list;
  ASSERT_EQ(d["templating"]["list"].get_array().get(list), simdjson::SUCCESS);
  for (simdjson::dom::element v : list) variables[String(v["name"])] = v;
  ASSERT_EQ(variables.count("datasource"), 1u);
  EXPECT_EQ(String(variables["datasource"]["type"]), "datasource");
  EXPECT_EQ(String(variables["datasource"]["query"]), "prometheus");
  ASSERT_EQ(variables.count("instance"), 1u);
  EXPECT_EQ(String(variables["instance"]["type"]), "query");
  EXPECT_EQ(String(variables["instance"]["datasource"]["uid"]), "${datasource}");

  std::set<int64_t> ids;
  int data_panels = 0;
  for (simdjson::dom::element p : Panels(d)) {
    const std::string title = String(p["title"]);
    int64_t id = 0;
    EXPECT_EQ(p["id"].get_int64().get(id), simdjson::SUCCESS) << title;
    EXPECT_TRUE(ids.insert(id).second) << title << ": id " << id << " used twice";
    int64_t x = 0, w = 0;
    EXPECT_EQ(p["gridPos"]["x"].get_int64().get(x), simdjson::SUCCESS) << title;
    EXPECT_EQ(p["gridPos"]["w"].get_int64().get(w), simdjson::SUCCESS) << title;
    EXPECT_LE(x + w, 24) << title;
    if (String(p["type"]) == "row") continue;
    ++data_panels;
    EXPECT_EQ(String(p["datasource"]["type"]), "prometheus") << title;
    EXPECT_EQ(String(p["datasource"]["uid"]), "${datasource}") << title;
    simdjson::dom::array targets;
    ASSERT_EQ(p["targets"].get_array().get(targets), simdjson::SUCCESS) << title;
    EXPECT_GT(targets.size(), 0u) << title;
    std::set<std::string> refs;
    for (simdjson::dom::element t : targets) {
      EXPECT_EQ(String(t["datasource"]["uid"]), "${datasource}") << title;
      EXPECT_NE(String(t["expr"]), "") << title;
      EXPECT_TRUE(refs.insert(String(t["refId"])).second) << title;
      EXPECT_TRUE(absl::StrContains(String(t["expr"]), "$instance"))
          << title << ": " << String(t["expr"]) << " ignores the instance variable";
    }
  }
  EXPECT_GT(data_panels, 20);
}

// Prometheus' HTTP API: `path` with the form `params` (values encoded here), parsed into
// `parser`; its "data", or an error naming what went wrong.
absl::StatusOr<simdjson::dom::element> Api(
    simdjson::dom::parser& parser, const std::string& base, const std::string& path,
    const std::vector<std::pair<std::string, std::string>>& params = {}) {
  std::string url = base + path;
  char sep = '?';
  for (const auto& [name, value] : params) {
    char* encoded = curl_easy_escape(nullptr, value.data(), static_cast<int>(value.size()));
    absl::StrAppend(&url, std::string(1, sep), name, "=", encoded);
    curl_free(encoded);
    sep = '&';
  }
  const auto [status, body] = HttpGet(url);
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS) {
    return absl::UnavailableError(absl::StrCat(path, ": HTTP ", status, ": ", body));
  }
  if (String(doc["status"]) != "success") {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", String(doc["errorType"]), ": ", String(doc["error"])));
  }
  simdjson::dom::element data;
  if (doc["data"].get(data) != simdjson::SUCCESS) {
    return absl::UnavailableError(absl::StrCat(path, ": no data in ", body));
  }
  return data;
}

// The values of a query answer (vector, matrix or scalar), as Prometheus printed them.
std::vector<std::string> Values(simdjson::dom::element data) {
  std::vector<std::string> out;
  const std::string type = String(data["resultType"]);
  if (type == "scalar") {
    out.push_back(String(data["result"].at(1)));
    return out;
  }
  simdjson::dom::array result;
  if (data["result"].get_array().get(result) != simdjson::SUCCESS) return out;
  for (simdjson::dom::element series : result) {
    if (type == "vector") out.push_back(String(series["value"].at(1)));
    simdjson::dom::array values;
    if (type == "matrix" && series["values"].get_array().get(values) == simdjson::SUCCESS) {
      for (simdjson::dom::element v : values) out.push_back(String(v.at(1)));
    }
  }
  return out;
}

// A time as Prometheus' API takes it, to the millisecond.
std::string UnixSeconds(absl::Time t) {
  const int64_t ms = absl::ToUnixMillis(t);
  return absl::StrFormat("%d.%03d", ms / 1000, ms % 1000);
}

bool AnyFinite(const std::vector<std::string>& values) {
  for (const std::string& v : values) {
    double d;
    if (absl::SimpleAtod(v, &d) && std::isfinite(d)) return true;
  }
  return false;
}

// The value of a one-sample instant query, or NaN.
double Scalar(const std::string& prometheus, const std::string& query) {
  simdjson::dom::parser parser;
  absl::StatusOr<simdjson::dom::element> data =
      Api(parser, prometheus, "/api/v1/query", {{"query", query}});
  if (!data.ok()) return NAN;
  const std::vector<std::string> values = Values(*data);
  double d = NAN;
  if (values.size() != 1 || !absl::SimpleAtod(values[0], &d)) return NAN;
  return d;
}

TEST(MonitoringEndToEndTest, EveryPanelAndRuleSelectsSeriesALiveFaultlineExports) {
  FAULTLINE_REQUIRE_KAFKA(brokers);
  FAULTLINE_REQUIRE_BINARY(testing::kPrometheusBinary);
  const absl::Time start = RealClock::Get().TimeNow();
  const std::string topic = testing::UniqueName("monitoring");
  ASSERT_TRUE(testing::CreateTopic(brokers, topic, 4).ok());
  // The fleet's live part ends two minutes ago, so that every Kafka timestamp is in the past.
  const testing::FleetStream fleet = testing::MakeFleetStream(start - absl::Minutes(2), /*seed=*/9);
  std::vector<KafkaRecord> records;
  for (const auto& line : fleet.lines) {
    records.push_back({.key = line.key, .value = line.value, .timestamp = line.arrival});
  }
  records.push_back({.key = "EXCH01", .value = "not json"});
  // A producer stamping with a clock an hour ahead: taken for no arrival (broker_time_ahead).
  records.push_back({.key = "STAMPED01",
                     .value = testing::WasEventJson(start - absl::Minutes(2), "STAMPED01",
                                                    "IdlePool", 5186, 4242, 1),
                     .timestamp = start + absl::Hours(1)});

  std::unique_ptr<testing::WebhookReceiver> webhook = testing::WebhookReceiver::Start(
      0, "", R"({"responses": [{"status": 503, "times": 2}, {"status": 400, "times": 1}]})");
  ASSERT_NE(webhook, nullptr);
  const std::string dir = testing::PeerDir(topic + "-faultline");
  const std::string config = dir + "/faultline.yaml";
  std::ofstream(config) << "kafka:\n  brokers: " << brokers << "\n  topics: [" << topic
                        << "]\n  group_id: " << testing::UniqueName("faultline-monitoring")
                        << "\ningest:\n  dead_letter_topic: " << topic << "-dead"
                        << "\ndelivery:\n  spool_dir: " << dir << "/spool\n  shutdown_timeout: 5s"
                        << "\nsinks:\n  - type: file\n    path: " << dir << "/alerts.jsonl"
                        << "\n  - type: webhook\n    name: tickets\n    url: " << webhook->url()
                        << "\n    retry_backoff: 100ms\n    retry_backoff_max: 100ms\n";
  const std::string listen = absl::StrCat("127.0.0.1:", testing::FreePort());

  // Prometheus first, so that it sees the counters move when the stream is consumed.
  testing::Prometheus prometheus = testing::StartPrometheus(topic, listen, {kRules});
  ASSERT_NE(prometheus.process, nullptr) << "Prometheus did not become ready";
  testing::ChildProcess run({std::string(FAULTLINE_BINARY_DIR) + "/faultline", "run", "--config",
                             config, "--metrics-listen", listen, "--progress-every", "0"},
                            {}, dir + "/faultline.log");
  ASSERT_TRUE(
      testing::Eventually([&] { return HttpGet("http://" + listen + "/readyz").first == 200; },
                          absl::Seconds(60), absl::Milliseconds(200)))
      << "never joined the group: " << ReadAll(dir + "/faultline.log");
  ASSERT_TRUE(testing::Eventually(
      [&] { return Scalar(prometheus.url, "faultline_events_consumed_total") == 0; },
      absl::Seconds(30), absl::Milliseconds(200)))
      << "Prometheus did not scrape faultline";

  const absl::Time published = RealClock::Get().TimeNow();
  ASSERT_TRUE(testing::Publish(brokers, topic, records).ok());
  // Consumed, every alert delivered or refused, every dead letter out, every partition committed.
  const std::string settled = absl::StrCat(
      "sum(faultline_events_consumed_total) == ", records.size(),
      " and sum(faultline_sink_queue_depth) == 0 and sum(faultline_kafka_consumer_lag) == 0",
      " and sum(faultline_dead_letters_delivered_total) == ", fleet.bad_time + 1,
      " and count(faultline_kafka_committed_offset) == 4",
      " and sum(faultline_kafka_uncommitted_messages_with_alerts) == 0");
  ASSERT_TRUE(testing::Eventually([&] { return !std::isnan(Scalar(prometheus.url, settled)); },
                                  absl::Seconds(60), absl::Milliseconds(250)))
      << settled << "\n"
      << HttpGet("http://" + listen + "/metrics").second;

  // What the stream holds, as Prometheus has it: the panels below show it.
  EXPECT_EQ(Scalar(prometheus.url, R"(faultline_events_rejected_total{reason="not_json"})"), 1);
  EXPECT_EQ(Scalar(prometheus.url, R"(faultline_events_rejected_total{reason="bad_time"})"),
            fleet.bad_time);
  EXPECT_EQ(Scalar(prometheus.url, "faultline_events_duplicate_total"), fleet.duplicates);
  EXPECT_EQ(Scalar(prometheus.url, "faultline_events_too_late_total"), fleet.too_late);
  EXPECT_EQ(Scalar(prometheus.url, "faultline_events_too_old_total"), fleet.too_old_run);
  EXPECT_EQ(Scalar(prometheus.url, "faultline_events_clock_ahead_total"), fleet.clock_ahead_run);
  EXPECT_EQ(Scalar(prometheus.url, "faultline_broker_time_ahead_total"), 1);
  for (const char* rule :
       {"iis_worker_failure_burst", "iis_rapid_fail_imminent", "iis_app_pool_disabled",
        "service_crash_loop", "fleet_app_pool_failures"}) {
    EXPECT_GT(
        Scalar(prometheus.url, absl::StrCat(R"(sum(faultline_alerts_total{status="firing", rule=")",
                                            rule, R"("}))")),
        0)
        << rule;
  }
  EXPECT_EQ(Scalar(prometheus.url, R"(faultline_sink_retries_total{sink="tickets"})"), 2);
  EXPECT_EQ(Scalar(prometheus.url, R"(faultline_sink_failed_total{sink="tickets"})"), 1);
  EXPECT_EQ(Scalar(prometheus.url, R"(faultline_sink_delivered_total{sink="tickets"})") + 1,
            Scalar(prometheus.url, R"(faultline_sink_delivered_total{sink="file"})"));

  // Range queries from before the stream to now, in 1 s steps ending now: a series that first
  // appeared in the last scrape (a commit) is in the last step.
  const absl::Time end = RealClock::Get().TimeNow();
  const int64_t seconds = absl::ToInt64Seconds(end - published) + 5;
  const absl::Time from = end - absl::Seconds(seconds);
  const std::string range = absl::StrCat(seconds, "s");
  // Grafana's variables as a dashboard on this Prometheus would set them: one instance, a rate
  // window of several 1 s scrapes.
  auto grafana = [&](std::string expr) {
    return absl::StrReplaceAll(expr, {{"$__rate_interval", "10s"},
                                      {"$__interval", "10s"},
                                      {"$__range", range},
                                      {"${instance}", listen},
                                      {"$instance", listen}});
  };
  simdjson::dom::parser parser;
  // Every selector of `expr` matches series Prometheus has from faultline (or `up`, its own).
  // This is what makes a query of a metric faultline does not export fail, whatever the
  // expression around it (`absent(x)` or `x or y` return data without x).
  auto expect_series = [&](const std::string& what, const std::string& expr) {
    const std::vector<std::string> selectors = VectorSelectors(expr);
    EXPECT_FALSE(selectors.empty()) << what << ": " << expr;
    for (const std::string& selector : selectors) {
      simdjson::dom::parser series_parser;
      absl::StatusOr<simdjson::dom::element> data =
          Api(series_parser, prometheus.url, "/api/v1/series",
              {{"match[]", selector}, {"start", UnixSeconds(start)}, {"end", UnixSeconds(end)}});
      ASSERT_TRUE(data.ok()) << what << ": " << selector << ": " << data.status();
      simdjson::dom::array series;
      EXPECT_TRUE(data->get_array().get(series) == simdjson::SUCCESS && series.size() > 0)
          << what << ": no series match " << selector << " (in " << expr << ")";
    }
  };

  // The dashboard: each panel query returns data with a number in it (a rate over a window with
  // the stream in it, a quantile of observations made), and selects only exported series.
  simdjson::dom::parser dashboard_parser;
  simdjson::dom::element dashboard;
  ASSERT_EQ(dashboard_parser.load(kDashboard).get(dashboard), simdjson::SUCCESS);
  const std::vector<PanelQuery> queries = DashboardQueries(dashboard);
  ASSERT_GT(queries.size(), 40u);
  std::set<std::string> on_dashboard;
  for (const PanelQuery& q : queries) {
    const std::string expr = grafana(q.expr);
    const std::string what = absl::StrCat("panel \"", q.panel, "\" ", q.ref_id);
    ASSERT_FALSE(absl::StrContains(expr, "$")) << what << ": a variable left in " << expr;
    absl::StatusOr<simdjson::dom::element> data =
        q.instant ? Api(parser, prometheus.url, "/api/v1/query",
                        {{"query", expr}, {"time", UnixSeconds(end)}})
                  : Api(parser, prometheus.url, "/api/v1/query_range",
                        {{"query", expr},
                         {"start", UnixSeconds(from)},
                         {"end", UnixSeconds(end)},
                         {"step", "1"}});
    ASSERT_TRUE(data.ok()) << what << ": " << data.status();
    const std::vector<std::string> values = Values(*data);
    EXPECT_TRUE(AnyFinite(values))
        << what << ": no data from " << expr << " (" << values.size() << " values, none a number)";
    expect_series(what, expr);
    for (const std::string& s : VectorSelectors(expr)) on_dashboard.insert(MetricName(s));
  }
  // The instance variable lists the instance.
  {
    absl::StatusOr<simdjson::dom::element> data =
        Api(parser, prometheus.url, "/api/v1/label/instance/values",
            {{"match[]", "faultline_build_info"}});
    ASSERT_TRUE(data.ok()) << data.status();
    std::vector<std::string> instances;
    simdjson::dom::array values;
    if (data->get_array().get(values) == simdjson::SUCCESS) {
      for (simdjson::dom::element v : values) instances.push_back(String(v));
    }
    EXPECT_THAT(instances, ElementsAre(listen));
  }
  // Every family faultline exports has a panel (a histogram by its _bucket or _count).
  {
    std::istringstream text(HttpGet("http://" + listen + "/metrics").second);
    int families = 0;
    for (std::string line; std::getline(text, line);) {
      std::vector<std::string> words = absl::StrSplit(line, ' ');
      if (words.size() < 4 || words[0] != "#" || words[1] != "TYPE") continue;
      const std::string& name = words[2];
      if (!absl::StartsWith(name, "faultline_")) continue;
      ++families;
      EXPECT_TRUE(on_dashboard.count(name) + on_dashboard.count(name + "_bucket") +
                      on_dashboard.count(name + "_count") >
                  0)
          << name << " (" << words[3] << ") is on no panel of " << kDashboard;
    }
    EXPECT_GT(families, 40);
  }

  // The rules: Prometheus loaded every rule of the file, evaluated each without an error, and
  // each selects only exported series. The file's alert names are its `- alert:` lines.
  const std::vector<std::string> names = RuleNames(ReadAll(kRules));
  ASSERT_GT(names.size(), 15u);
  struct Loaded {
    std::string query, health, last_error;
  };
  std::map<std::string, Loaded> loaded;
  std::string said;
  ASSERT_TRUE(testing::Eventually(
      [&] {
        loaded.clear();
        absl::StatusOr<simdjson::dom::element> data = Api(parser, prometheus.url, "/api/v1/rules");
        if (!data.ok()) return false;
        said = simdjson::to_string(*data);
        simdjson::dom::array groups;
        if ((*data)["groups"].get_array().get(groups) != simdjson::SUCCESS) return false;
        bool evaluated = true;
        for (simdjson::dom::element g : groups) {
          simdjson::dom::array rules;
          if (g["rules"].get_array().get(rules) != simdjson::SUCCESS) return false;
          for (simdjson::dom::element r : rules) {
            if (String(r["type"]) != "alerting") continue;
            loaded[String(r["name"])] = {String(r["query"]), String(r["health"]),
                                         String(r["lastError"])};
            evaluated &= String(r["health"]) != "unknown";
          }
        }
        return evaluated && loaded.size() == names.size();
      },
      absl::Seconds(30), absl::Milliseconds(250)))
      << said;
  for (const std::string& name : names) {
    ASSERT_EQ(loaded.count(name), 1u) << name << " not loaded: " << said;
    const Loaded& rule = loaded[name];
    EXPECT_EQ(rule.health, "ok") << name << ": " << rule.last_error;
    absl::StatusOr<simdjson::dom::element> data =
        Api(parser, prometheus.url, "/api/v1/query", {{"query", rule.query}});
    EXPECT_TRUE(data.ok()) << name << ": " << data.status();
    expect_series("rule " + name, rule.query);
  }

  EXPECT_EQ(run.SignalAndWait(SIGTERM, absl::Seconds(30)), 0) << ReadAll(dir + "/faultline.log");
}

}  // namespace
}  // namespace faultline
