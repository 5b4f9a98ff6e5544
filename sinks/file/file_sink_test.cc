#include "sinks/file/file_sink.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sinks/testing/golden.h"
#include "sinks/testing/make_sink.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;
using testing::SampleAlert;

std::string Render(FileSink::Format format, const Alert& alert) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  {
    FileSink sink(format, f);
    const Alert* batch[] = {&alert};
    EXPECT_TRUE(sink.Deliver(batch).ok());
  }
  std::fclose(f);
  std::string out(buf, len);
  std::free(buf);
  return out;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Spec {
  std::string type;
  std::map<std::string, testing::OptionValue> options;
};

absl::StatusOr<std::unique_ptr<Sink>> Make(const Spec& spec, const SinkContext& ctx = {}) {
  if (spec.type == "file") {
    return testing::MakeSink(spec.type, FileSink::FileConfig::Schema(), &FileSink::CreateFile,
                             spec.options, ctx);
  }
  return testing::MakeSink(spec.type, FileSink::StdoutConfig::Schema(), &FileSink::CreateStdout,
                           spec.options);
}

TEST(FileSinkTest, WritesTheStableJsonShapeOnOneLine) {
  testing::ExpectGolden("sinks/file/testdata/alert.json",
                        Render(FileSink::Format::kJson, SampleAlert()));
}

TEST(FileSinkTest, WritesAReadableTextForm) {
  testing::ExpectGolden("sinks/file/testdata/alert.txt",
                        Render(FileSink::Format::kText, SampleAlert()));
}

TEST(FileSinkTest, TheTextFormShowsNoControlCharacterFromAnEvent) {
  // A host name that would forge a line of its own, clear the screen and turn text red, a pool
  // name reversed by a right-to-left override, a detail with a bell and an 8-bit CSI.
  Alert a = SampleAlert();
  a.set_host("WEB1\n[critical] iis_app_pool_disabled firing  host=DC01\x1b[2J\x1b[31m");
  a.set_app_pool("Shop\xe2\x80\xaelooPtluaf");
  a.set_summary("worker of Shop\r\n[critical] forged");
  a.mutable_evidence(0)->set_detail(
      "C:\\app\\x.dll\x07\xc2\x9b"
      "2J");
  const std::string text = Render(FileSink::Format::kText, a);
  const std::string plain = Render(FileSink::Format::kText, SampleAlert());
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'),
            std::count(plain.begin(), plain.end(), '\n'))
      << "no line of the event's own";
  for (unsigned char c : text) {
    EXPECT_TRUE(c == '\n' || (c >= 0x20 && c != 0x7F)) << "a raw control character: " << int{c};
  }
  EXPECT_EQ(text.find("\xe2\x80\xae"), std::string::npos) << "no right-to-left override";
  EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos) << "no 8-bit CSI";
  EXPECT_THAT(text, ::testing::HasSubstr("host=WEB1\\x0A[critical] iis_app_pool_disabled firing"));
  EXPECT_THAT(text, ::testing::HasSubstr("app_pool=Shop\\u{202E}looPtluaf"));
  EXPECT_THAT(text, ::testing::HasSubstr("\\x1B[2J\\x1B[31m"));
}

TEST(FileSinkTest, RejectsUnknownOptionsAndFormatsNamingThem) {
  auto bad_option = Make({.type = "stdout", .options = {{"colour", "red"}}});
  ASSERT_FALSE(bad_option.ok());
  EXPECT_THAT(std::string(bad_option.status().message()),
              HasSubstr("sinks[0].colour: unknown key (known: type, name, queue_capacity, on_full, "
                        "retry_backoff, retry_backoff_max, format)"));
  auto bad_format = Make({.type = "stdout", .options = {{"format", "xml"}}});
  ASSERT_FALSE(bad_format.ok());
  EXPECT_THAT(std::string(bad_format.status().message()),
              HasSubstr("sinks[0].format: must be json, text; got \"xml\""));
  auto no_path = Make({.type = "file", .options = {{"max_files", "0"}}});
  ASSERT_FALSE(no_path.ok());
  EXPECT_THAT(std::string(no_path.status().message()), HasSubstr("path: required"));
  EXPECT_THAT(std::string(no_path.status().message()), HasSubstr("max_files: must be a whole"));
}

TEST(FileSinkTest, ReportsAWriteFailureAsRetryable) {
  std::FILE* full = std::fopen("/dev/full", "w");
  ASSERT_NE(full, nullptr);
  FileSink sink(FileSink::Format::kJson, full);
  const Alert alert = SampleAlert();
  const Alert* batch[] = {&alert};
  const absl::Status s = sink.Deliver(batch);
  std::fclose(full);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(IsRetryable(s));
}

TEST(FileSinkTest, AFailedBatchLeavesNoTornLineAndTheRetryWritesItWhole) {
  // The disk fills in the middle of a batch: the file-size limit (RLIMIT_FSIZE) stands for it.
  const std::string dir = ::testing::TempDir() + "/file_sink_full";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/alerts.jsonl";
  auto sink = Make({.type = "file", .options = {{"path", path}}});
  ASSERT_TRUE(sink.ok()) << sink.status();
  const Alert alert = SampleAlert();
  const size_t line = AlertToJson(alert).size() + 1;
  const Alert* batch[] = {&alert, &alert, &alert};
  ASSERT_TRUE((*sink)->Deliver({batch, 1}).ok());

  struct rlimit saved;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  std::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails (EFBIG) instead of killing
  struct rlimit limit = saved;
  limit.rlim_cur = line * 2 + line / 2;  // room for one and a half more lines
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);
  const absl::Status failed = (*sink)->Deliver(batch);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
  std::signal(SIGXFSZ, SIG_DFL);
  EXPECT_TRUE(IsRetryable(failed)) << failed;
  EXPECT_EQ(std::filesystem::file_size(path), line) << "cut back to where the batch began";

  ASSERT_TRUE((*sink)->Deliver(batch).ok());
  const std::string expected = AlertToJson(alert) + "\n";
  EXPECT_EQ(ReadAll(path), expected + expected + expected + expected);
}

TEST(FileSinkTest, AppendsJsonLinesAndRotatesBySize) {
  const std::string dir = ::testing::TempDir() + "/file_sink_rotation";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/alerts.jsonl";
  const size_t line = AlertToJson(SampleAlert()).size() + 1;
  // Room for two lines per file, two rotated files kept.
  auto sink =
      Make({.type = "file",
            .options = {
                {"path", path}, {"max_bytes", std::to_string(2 * line + 10)}, {"max_files", "2"}}});
  ASSERT_TRUE(sink.ok()) << sink.status();
  Alert alerts[7];
  for (int i = 0; i < 7; ++i) {
    alerts[i] = SampleAlert();
    alerts[i].set_sequence(i + 1);
    const Alert* batch[] = {&alerts[i]};
    ASSERT_TRUE((*sink)->Deliver(batch).ok());
  }
  auto sequences = [](const std::string& text) {
    std::vector<int> out;
    for (size_t at = text.find("\"sequence\":"); at != std::string::npos;
         at = text.find("\"sequence\":", at + 1)) {
      out.push_back(std::atoi(text.c_str() + at + 11));
    }
    return out;
  };
  EXPECT_EQ(sequences(ReadAll(path)), (std::vector<int>{7}));
  EXPECT_EQ(sequences(ReadAll(path + ".1")), (std::vector<int>{5, 6}));
  EXPECT_EQ(sequences(ReadAll(path + ".2")), (std::vector<int>{3, 4}));
  EXPECT_FALSE(std::filesystem::exists(path + ".3")) << "the oldest two were deleted";
}

TEST(FileSinkTest, ContinuesAnExistingFile) {
  const std::string path = ::testing::TempDir() + "/file_sink_append.jsonl";
  std::ofstream(path) << "{\"earlier\":true}\n";
  auto sink = Make({.type = "file", .options = {{"path", path}}});
  ASSERT_TRUE(sink.ok()) << sink.status();
  const Alert alert = SampleAlert();
  const Alert* batch[] = {&alert};
  ASSERT_TRUE((*sink)->Deliver(batch).ok());
  EXPECT_EQ(ReadAll(path), "{\"earlier\":true}\n" + AlertToJson(alert) + "\n");
}

TEST(FileSinkTest, CheckConfigRefusesAPathThatCannotBeOpenedNamingItAndWhy) {
  const std::string path = ::testing::TempDir() + "/file_sink_no_such_dir/alerts.jsonl";
  std::filesystem::remove_all(::testing::TempDir() + "/file_sink_no_such_dir");
  auto sink =
      Make({.type = "file", .options = {{"path", path}}}, {.dry_run = true, .check_paths = true});
  ASSERT_FALSE(sink.ok());
  EXPECT_EQ(sink.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(sink.status().message()),
              HasSubstr("path: cannot open " + path + ": " + std::strerror(ENOENT)));

  const std::string dir = ::testing::TempDir() + "/file_sink_a_directory";
  std::filesystem::create_directories(dir);
  auto directory =
      Make({.type = "file", .options = {{"path", dir}}}, {.dry_run = true, .check_paths = true});
  ASSERT_FALSE(directory.ok());
  EXPECT_THAT(std::string(directory.status().message()),
              HasSubstr("cannot open " + dir + ": " + std::strerror(EISDIR)));
}

// run's check before it builds its sinks does not ask (a path the host refuses now it may allow
// later), and run starts a sink whose file cannot be opened yet: each delivery fails (the queue
// retries it, nothing acknowledged) until it can be, then the file holds every alert.
TEST(FileSinkTest, RunStartsOnAPathThatCannotBeOpenedYetAndWritesOnceItCan) {
  const std::string dir = ::testing::TempDir() + "/file_sink_not_mounted";
  std::filesystem::remove_all(dir);
  const std::string path = dir + "/alerts.jsonl";
  auto checked = Make({.type = "file", .options = {{"path", path}}}, {.dry_run = true});
  EXPECT_TRUE(checked.ok()) << checked.status();
  auto sink = Make({.type = "file", .options = {{"path", path}}});
  ASSERT_TRUE(sink.ok()) << sink.status();
  const Alert alert = SampleAlert();
  const Alert* batch[] = {&alert};
  const absl::Status failed = (*sink)->Deliver(batch);
  EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable) << "retried by its queue";
  EXPECT_THAT(std::string(failed.message()), HasSubstr(path));
  std::filesystem::create_directories(dir);
  ASSERT_TRUE((*sink)->Deliver(batch).ok());
  EXPECT_EQ(ReadAll(path), AlertToJson(alert) + "\n");
}

TEST(FileSinkTest, CheckConfigNeitherCreatesNorTruncatesTheFile) {
  const std::string dir = ::testing::TempDir() + "/file_sink_check_config";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string fresh = dir + "/new.jsonl";
  auto created =
      Make({.type = "file", .options = {{"path", fresh}}}, {.dry_run = true, .check_paths = true});
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_FALSE(std::filesystem::exists(fresh));
  const std::string existing = dir + "/existing.jsonl";
  std::ofstream(existing) << "{\"earlier\":true}\n";
  auto kept = Make({.type = "file", .options = {{"path", existing}}},
                   {.dry_run = true, .check_paths = true});
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(ReadAll(existing), "{\"earlier\":true}\n");
}

}  // namespace
}  // namespace faultline
