#include "ingest/file/file_source.h"

#include <cstdio>
#include <fstream>
#include <vector>

#include "core/testing/fake_clock.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

class Collect : public MessageHandler {
 public:
  std::shared_ptr<const DeliveryTicket> OnMessage(const Message& m) override {
    payloads.emplace_back(m.payload);
    lines.push_back(m.origin.offset);
    return nullptr;
  }
  bool Saturated() const override { return saturated_for > 0; }
  void Drain() override { ++drains; }
  std::vector<std::string> payloads;
  std::vector<int64_t> lines;
  int saturated_for = 0;  // polls of Saturated() that answer true
  int drains = 0;
};

// Saturated for a while after the first message; each wait the source does moves the clock.
class SaturatedOnce : public Collect {
 public:
  explicit SaturatedOnce(FakeClock* clock) : clock_(clock) {}
  bool Saturated() const override {
    if (payloads.size() != 1) return false;
    return clock_->TimeNow() < until_;
  }
  std::shared_ptr<const DeliveryTicket> OnMessage(const Message& m) override {
    if (payloads.empty()) until_ = clock_->TimeNow() + absl::Seconds(3);
    waited_before_second = payloads.size() == 1 ? clock_->TimeNow() - start_ : waited_before_second;
    return Collect::OnMessage(m);
  }
  absl::Duration waited_before_second;

 private:
  FakeClock* clock_;
  absl::Time start_ = clock_->TimeNow();
  absl::Time until_;
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
  EXPECT_EQ(c.drains, 1) << "in-flight work is finished even when stopped";
  std::remove(path.c_str());
}

TEST(FileSourceTest, WaitsWhileTheHandlerIsSaturatedThenReadsOn) {
  const std::string path = WriteTemp("{\"a\":1}\n{\"b\":2}\n");
  FakeClock clock;
  auto source = FileSource::Create({path}, clock);
  ASSERT_TRUE(source.ok());
  SaturatedOnce c(&clock);
  std::atomic<bool> stop{false};
  ASSERT_TRUE((*source)->Run(c, stop).ok());
  EXPECT_EQ(c.payloads.size(), 2u) << "nothing skipped";
  EXPECT_GE(c.waited_before_second, absl::Seconds(3)) << "the second line waited";
  EXPECT_EQ(c.drains, 1);
  std::remove(path.c_str());
}


// A line far over the limit is read past, not held: its reader sees its first max + 1 bytes, and
// the next line comes whole.
TEST(LineReaderTest, ReadsPastALineOverTheLimitWithoutHoldingIt) {
  const std::string path = ::testing::TempDir() + "/long_line.jsonl";
  {
    std::ofstream out(path, std::ios::binary);
    out << "first\n";
    const std::string block(1 << 20, 'x');
    for (int i = 0; i < 48; ++i) out << block;  // 48 MiB on one line
    out << "\nlast";                           // and a last line without a newline
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  ASSERT_NE(f, nullptr);
  constexpr size_t kMax = 4096;
  LineReader reader(::fileno(f), kMax);
  std::string_view line;
  ASSERT_TRUE(reader.Next(&line));
  EXPECT_EQ(line, "first");
  ASSERT_TRUE(reader.Next(&line));
  EXPECT_EQ(line.size(), kMax + 1) << "cut one byte past the limit: seen as too large";
  EXPECT_EQ(line.find_first_not_of('x'), std::string_view::npos);
  EXPECT_LE(reader.held_bytes(), kMax + 1 + (size_t{64} << 10) + 4096) << "not the 48 MiB";
  ASSERT_TRUE(reader.Next(&line));
  EXPECT_EQ(line, "last");
  EXPECT_FALSE(reader.Next(&line));
  EXPECT_EQ(reader.error(), 0);
  std::fclose(f);
  std::remove(path.c_str());
}

TEST(FileSourceTest, HandsOnALineOverTheLimitCutForItsRejection) {
  const std::string path = ::testing::TempDir() + "/over.jsonl";
  std::ofstream(path) << "{\"a\":1}\n" << std::string(10000, 'y') << "\n{\"b\":2}\r\n";
  auto source = FileSource::Create({path}, RealClock::Get(), /*max_line_bytes=*/100);
  ASSERT_TRUE(source.ok()) << source.status();
  Collect c;
  std::atomic<bool> stop{false};
  ASSERT_TRUE((*source)->Run(c, stop).ok());
  ASSERT_EQ(c.payloads.size(), 3u);
  EXPECT_EQ(c.payloads[1].size(), 101u);
  EXPECT_EQ(c.payloads[2], "{\"b\":2}");
  EXPECT_EQ(c.lines, (std::vector<int64_t>{1, 2, 3}));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace faultline
