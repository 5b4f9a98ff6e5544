#include "core/exit_codes.h"

#include "gtest/gtest.h"

namespace faultline {
namespace {

TEST(DescribeExitCodeTest, ExplainsEveryStackOverflowSpelling) {
  EXPECT_EQ(DescribeExitCode(0x800703E9), "stack overflow");
  EXPECT_EQ(DescribeExitCode(0xC00000FD), "stack overflow");
  EXPECT_EQ(DescribeExitCode(0xE053534F), "stack overflow");
}

TEST(DescribeExitCodeTest, ExplainsWasKillsAndDotNetExceptions) {
  EXPECT_EQ(DescribeExitCode(0xFFFFFFFD), "killed by WAS (ping or time limit)");
  EXPECT_EQ(DescribeExitCode(0xE0434352), "unhandled .NET exception");
  EXPECT_EQ(DescribeExitCode(0xC0000005), "access violation in native code");
}

TEST(DescribeExitCodeTest, LeavesUnknownCodesUnexplained) {
  EXPECT_EQ(DescribeExitCode(0x12345678), "");
}

TEST(FormatCodeTest, WritesEightUppercaseHexDigits) {
  EXPECT_EQ(FormatCode(0x800703e9), "0x800703E9");
  EXPECT_EQ(FormatCode(0x80), "0x00000080");
}

}  // namespace
}  // namespace faultline
