#include "sinks/stdout/stdout_sink.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;

Alert SampleAlert() {
  Alert a;
  a.set_rule("iis_app_pool_disabled");
  a.set_severity("critical");
  a.set_status("firing");
  a.set_host("EXCH01");
  a.set_app_pool("MSExchangeOWAAppPool");
  a.set_count(2);
  a.set_window_seconds(300);
  *a.mutable_first_event_time() = ToProtoTime(absl::FromUnixSeconds(1773134043));
  *a.mutable_last_event_time() = ToProtoTime(absl::FromUnixSeconds(1773134155));
  a.set_fingerprint("3e8a92279cfaa532");
  a.set_summary("IIS rapid-fail protection disabled application pool 'MSExchangeOWAAppPool'.");
  Evidence* e = a.add_evidence();
  e->set_provider("Microsoft-Windows-WAS");
  e->set_event_id(5009);
  *e->mutable_time() = ToProtoTime(absl::FromUnixSeconds(1773134043));
  e->set_pid(4312);
  e->set_exit_code("0x800703E9");
  e->set_meaning("stack overflow");
  e->set_record_id(912340);
  e->set_kind("failure");
  Evidence* c = a.add_evidence();
  c->set_kind("context");
  c->set_provider(".NET Runtime");
  c->set_event_id(1026);
  *c->mutable_time() = ToProtoTime(absl::FromUnixSeconds(1773134044));
  c->set_detail("Application: w3wp.exe Exception Info: System.StackOverflowException");
  a.set_incident_id("5b1f0c2d9e8a7b64");
  (*a.mutable_labels())["team"] = "messaging";
  return a;
}

// Compares with sinks/stdout/testdata/NAME; FAULTLINE_UPDATE_GOLDEN=1 rewrites the file.
void ExpectGolden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(FAULTLINE_SOURCE_DIR) + "/sinks/stdout/testdata/" + name;
  if (std::getenv("FAULTLINE_UPDATE_GOLDEN") != nullptr) std::ofstream(path) << actual;
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing golden file " << path;
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(actual, expected.str()) << "golden " << name;
}

std::string Render(StdoutSink::Format format, const Alert& alert) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  StdoutSink sink(format, f);
  EXPECT_TRUE(sink.Send(alert).ok());
  std::fclose(f);
  std::string out(buf, len);
  std::free(buf);
  return out;
}

TEST(StdoutSinkTest, WritesTheStableJsonShapeOnOneLine) {
  ExpectGolden("alert.json", Render(StdoutSink::Format::kJson, SampleAlert()));
}

TEST(StdoutSinkTest, WritesAReadableTextForm) {
  ExpectGolden("alert.txt", Render(StdoutSink::Format::kText, SampleAlert()));
}

TEST(StdoutSinkTest, RejectsUnknownOptionsAndFormats) {
  SinkContext ctx;
  auto bad_option = StdoutSink::Create({.type = "stdout", .options = {{"colour", "red"}}}, ctx);
  ASSERT_FALSE(bad_option.ok());
  EXPECT_THAT(std::string(bad_option.status().message()), HasSubstr("unknown option \"colour\""));
  auto bad_format = StdoutSink::Create({.type = "stdout", .options = {{"format", "xml"}}}, ctx);
  ASSERT_FALSE(bad_format.ok());
  EXPECT_THAT(std::string(bad_format.status().message()), HasSubstr("json or text"));
}

TEST(StdoutSinkTest, ReportsAWriteFailure) {
  std::FILE* full = std::fopen("/dev/full", "w");
  ASSERT_NE(full, nullptr);
  StdoutSink sink(StdoutSink::Format::kJson, full);
  const absl::Status s = sink.Send(SampleAlert());
  std::fclose(full);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace faultline
