#include "ingest/file/file_source.h"

#include <cstdio>
#include <fstream>
#include <vector>

#include "gtest/gtest.h"

namespace faultline {
namespace {

class Collect : public MessageHandler {
 public:
  void OnMessage(const Message& m) override {
    payloads.emplace_back(m.payload);
    lines.push_back(m.origin.offset);
  }
  std::vector<std::string> payloads;
  std::vector<int64_t> lines;
};

std::string WriteTemp(const std::string& content) {
  std::string path = ::testing::TempDir() + "/file_source_test_" +
                     std::to_string(reinterpret_cast<uintptr_t>(&content)) + ".jsonl";
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

TEST(FileSourceTest, DeliversEachNonEmptyLineWithItsLineNumber) {
  const std::string path = WriteTemp("{\"a\":1}\r\n\n{\"b\":2}\n{\"c\":3}");
  auto source = FileSource::Create({path});
  ASSERT_TRUE(source.ok());
  Collect c;
  std::atomic<bool> stop{false};
  ASSERT_TRUE((*source)->Run(c, stop).ok());
  EXPECT_EQ(c.payloads, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"}));
  EXPECT_EQ(c.lines, (std::vector<int64_t>{1, 3, 4}));
  std::remove(path.c_str());
}

TEST(FileSourceTest, RefusesAMissingFileBeforeReadingAnything) {
  auto source = FileSource::Create({"/nonexistent/events.jsonl"});
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(source.status().message().find("/nonexistent/events.jsonl"), absl::string_view::npos);
}

TEST(FileSourceTest, StopsWhenAsked) {
  const std::string path = WriteTemp("{}\n{}\n{}\n");
  auto source = FileSource::Create({path});
  ASSERT_TRUE(source.ok());
  Collect c;
  std::atomic<bool> stop{true};
  ASSERT_TRUE((*source)->Run(c, stop).ok());
  EXPECT_TRUE(c.payloads.empty());
  std::remove(path.c_str());
}

}  // namespace
}  // namespace faultline
