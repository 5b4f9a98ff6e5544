#include "app/metrics_endpoint.h"

#include <atomic>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sinks/testing/http_receiver.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;
using testing::HttpGet;

class OneCounter final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily f =
        Family("faultline_test_total", "A counter for the test.", prometheus::MetricType::Counter);
    AddSample(&f, 42, {{"kind", "x"}});
    prometheus::MetricFamily h = Family("faultline_test_seconds", "A histogram for the test.",
                                        prometheus::MetricType::Histogram);
    AddHistogram(&h, {0.1, 1}, {1, 3, 4}, 7.5);
    return {f, h};
  }
};

TEST(MetricsEndpointTest, ServesMetricsAndBothHealthChecksOnOneListener) {
  std::atomic<bool> ready{false};
  auto endpoint = MetricsEndpoint::Start(
      "127.0.0.1:0", std::make_shared<OneCounter>(), [](std::string*) { return true; },
      [&](std::string* why) {
        if (!ready.load()) *why = "not in the consumer group yet";
        return ready.load();
      });
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  ASSERT_GT((*endpoint)->port(), 0) << "port 0 picks a free port and reports it";
  const std::string base = absl::StrCat("http://127.0.0.1:", (*endpoint)->port());

  const auto [status, metrics] = HttpGet(base + "/metrics");
  EXPECT_EQ(status, 200);
  EXPECT_THAT(metrics, HasSubstr("# TYPE faultline_test_total counter\n"
                                 "faultline_test_total{kind=\"x\"} 42\n"));
  EXPECT_THAT(metrics, HasSubstr("faultline_test_seconds_bucket{le=\"+Inf\"} 4\n"));
  EXPECT_THAT(metrics, HasSubstr("faultline_test_seconds_sum 7.5\n"));

  EXPECT_EQ(HttpGet(base + "/healthz"), std::make_pair(200L, std::string("ok\n")));
  EXPECT_EQ(HttpGet(base + "/readyz"),
            std::make_pair(503L, std::string("not in the consumer group yet\n")));
  ready.store(true);
  EXPECT_EQ(HttpGet(base + "/readyz"), std::make_pair(200L, std::string("ready\n")));
  EXPECT_EQ(HttpGet(base + "/nothing").first, 404);
}

TEST(MetricsEndpointTest, RefusesAnAddressItCannotBind) {
  auto first = MetricsEndpoint::Start(
      "127.0.0.1:0", std::make_shared<OneCounter>(), [](std::string*) { return true; },
      [](std::string*) { return true; });
  ASSERT_TRUE(first.ok());
  auto second = MetricsEndpoint::Start(
      absl::StrCat("127.0.0.1:", (*first)->port()), std::make_shared<OneCounter>(),
      [](std::string*) { return true; }, [](std::string*) { return true; });
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("metrics.listen: cannot listen"));
}

}  // namespace
}  // namespace faultline
