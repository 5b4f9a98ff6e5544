#include "core/windows_events.h"

#include "gtest/gtest.h"

namespace faultline {
namespace {

TEST(ClassifyProviderTest, MapsManifestAndLegacyNamesToOneProvider) {
  EXPECT_EQ(ClassifyProvider("Microsoft-Windows-WAS"), Provider::kWas);
  EXPECT_EQ(ClassifyProvider("WAS"), Provider::kWas);
  EXPECT_EQ(ClassifyProvider("was"), Provider::kWas);
  EXPECT_EQ(ClassifyProvider("W3SVC"), Provider::kW3svc);
  EXPECT_EQ(ClassifyProvider("Application Error"), Provider::kApplicationError);
  EXPECT_EQ(ClassifyProvider("Service Control Manager"), Provider::kServiceControlManager);
  EXPECT_EQ(ClassifyProvider("EventLog"), Provider::kOther);
}

TEST(IsWorkerFailureTest, CoversWas5009To5013AndW3svc1009To1013Only) {
  EXPECT_FALSE(IsWorkerFailure(Provider::kWas, 5008));
  EXPECT_TRUE(IsWorkerFailure(Provider::kWas, 5009));
  EXPECT_TRUE(IsWorkerFailure(Provider::kWas, 5013));
  EXPECT_FALSE(IsWorkerFailure(Provider::kWas, 5014));
  EXPECT_TRUE(IsWorkerFailure(Provider::kW3svc, 1011));
  EXPECT_FALSE(IsWorkerFailure(Provider::kW3svc, 5011));
  EXPECT_FALSE(IsWorkerFailure(Provider::kOther, 5011));
}

}  // namespace
}  // namespace faultline
