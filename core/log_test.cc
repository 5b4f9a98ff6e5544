#include "core/log.h"

#include <string>

#include "gtest/gtest.h"

namespace faultline {
namespace {

// What a log line quotes comes from outside (a host or pool name in a broker's or a sink's
// error text): it is one line, escaped, whatever it holds.
TEST(LogTest, ALoggedMessageIsOneLineWithWhatCouldDriveATerminalEscaped) {
  testing::internal::CaptureStderr();
  LogError(std::string("sink hook: WEB1\n[critical] forged \x1b[2J\xe2\x80\xae") + "gnp.exe");
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_EQ(out,
            "faultline error: sink hook: WEB1\\x0A[critical] forged \\x1B[2J\\u{202E}gnp.exe\n");
}

TEST(LogTest, LevelsBelowTheSetOneAreNotWritten) {
  SetLogLevel(LogLevel::kWarning);
  testing::internal::CaptureStderr();
  LogInfo("not shown");
  LogWarning("shown");
  const std::string out = testing::internal::GetCapturedStderr();
  SetLogLevel(LogLevel::kInfo);
  EXPECT_EQ(out, "faultline warning: shown\n");
}

}  // namespace
}  // namespace faultline
