#include "sinks/spool/spool.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/spool_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
  }
  static std::vector<Spool::Record> Alerts(uint32_t from, uint32_t to) {
    std::vector<Spool::Record> out;
    for (uint32_t i = from; i <= to; ++i) {
      auto a = std::make_shared<Alert>();
      a->set_fingerprint("fp");
      a->set_sequence(i);
      out.push_back({.alert = a});
    }
    return out;
  }
  static std::vector<uint32_t> Sequences(const std::vector<Spool::Record>& records) {
    std::vector<uint32_t> out;
    for (const Spool::Record& r : records) out.push_back(r.alert->sequence());
    return out;
  }
  std::vector<std::string> Segments() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      const std::string name = e.path().filename();
      if (name.rfind("segment-", 0) == 0) out.push_back(name);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string dir_;
};

TEST_F(SpoolTest, ReturnsWhatEachSinkHadNotDeliveredAfterAReopen) {
  {
    auto spool = Spool::Open(dir_, {"hook", "file"});
    ASSERT_TRUE(spool.ok()) << spool.status();
    auto records = Alerts(1, 5);
    ASSERT_TRUE((*spool)->Append(records).ok());
    EXPECT_EQ(records[0].seq, 1u);
    EXPECT_EQ(records[4].seq, 5u);
    (*spool)->Delivered(0, 2);  // hook delivered 1-2
    (*spool)->Delivered(1, 5);  // file delivered everything
    ASSERT_TRUE((*spool)->Checkpoint().ok());
  }
  auto spool = Spool::Open(dir_, {"hook", "file"});
  ASSERT_TRUE(spool.ok()) << spool.status();
  EXPECT_THAT(Sequences((*spool)->Pending(0)), ElementsAre(3, 4, 5));
  EXPECT_TRUE((*spool)->Pending(1).empty());
  EXPECT_EQ((*spool)->stats().recovered.load(), 3u);
  auto more = Alerts(6, 6);
  ASSERT_TRUE((*spool)->Append(more).ok());
  EXPECT_EQ(more[0].seq, 6u) << "numbering continues";
}

TEST_F(SpoolTest, ASinkAddedLaterStartsWithNewAlertsOnly) {
  {
    auto spool = Spool::Open(dir_, {"hook"});
    auto records = Alerts(1, 3);
    ASSERT_TRUE((*spool)->Append(records).ok());
    ASSERT_TRUE((*spool)->Checkpoint().ok());
  }
  auto spool = Spool::Open(dir_, {"hook", "slack"});
  ASSERT_TRUE(spool.ok());
  EXPECT_EQ((*spool)->Pending(0).size(), 3u);
  EXPECT_TRUE((*spool)->Pending(1).empty()) << "no history for a new sink";
}

TEST_F(SpoolTest, CutsATornRecordAtTheEndAndKeepsWhatCameBefore) {
  {
    auto spool = Spool::Open(dir_, {"hook"});
    auto records = Alerts(1, 2);
    ASSERT_TRUE((*spool)->Append(records).ok());
    ASSERT_TRUE((*spool)->Checkpoint().ok());
  }
  const std::vector<std::string> segments = Segments();
  ASSERT_FALSE(segments.empty());
  // A crash in the middle of the next append.
  std::ofstream(dir_ + "/" + segments.back(), std::ios::app | std::ios::binary)
      << std::string("\x30\x00\x00\x00\x01\x02", 6);
  auto spool = Spool::Open(dir_, {"hook"});
  ASSERT_TRUE(spool.ok()) << spool.status();
  EXPECT_THAT(Sequences((*spool)->Pending(0)), ElementsAre(1, 2));
  EXPECT_EQ((*spool)->stats().corrupt.load(), 1u);
}

TEST_F(SpoolTest, SkipsDamageInAnOlderSegmentWithoutCuttingIt) {
  {
    auto spool = Spool::Open(dir_, {"hook"}, /*segment_bytes=*/30);
    for (uint32_t i = 1; i <= 4; ++i) {
      auto r = Alerts(i, i);
      ASSERT_TRUE((*spool)->Append(r).ok());
    }
    ASSERT_TRUE((*spool)->Checkpoint().ok());
  }
  const std::vector<std::string> segments = Segments();
  ASSERT_GE(segments.size(), 2u);
  const std::string first = dir_ + "/" + segments.front();
  const auto size = std::filesystem::file_size(first);
  {
    std::fstream f(first, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size - 1));
    f.put('\x7f');  // flips the last byte of its last record: its crc no longer matches
  }
  auto spool = Spool::Open(dir_, {"hook"});
  ASSERT_TRUE(spool.ok()) << spool.status();
  EXPECT_THAT(Sequences((*spool)->Pending(0)), ElementsAre(1, 3, 4))
      << "record 2 lost, the next segment read on";
  EXPECT_EQ(std::filesystem::file_size(first), size) << "kept as it is for whoever looks";
}

TEST_F(SpoolTest, KeepsTheCursorsOfSimilarlyNamedSinksApart) {
  {
    auto spool = Spool::Open(dir_, {"x", "x.tmp"});
    auto records = Alerts(1, 3);
    ASSERT_TRUE((*spool)->Append(records).ok());
    (*spool)->Delivered(0, 3);
    (*spool)->Delivered(1, 1);
    ASSERT_TRUE((*spool)->Checkpoint().ok());
  }
  auto spool = Spool::Open(dir_, {"x", "x.tmp"});
  EXPECT_TRUE((*spool)->Pending(0).empty());
  EXPECT_THAT(Sequences((*spool)->Pending(1)), ElementsAre(2, 3));
}

TEST_F(SpoolTest, DeletesSegmentsEverySinkHasPassed) {
  auto spool = Spool::Open(dir_, {"a", "b"}, /*segment_bytes=*/30);
  ASSERT_TRUE(spool.ok());
  for (uint32_t i = 1; i <= 6; ++i) {
    auto r = Alerts(i, i);
    ASSERT_TRUE((*spool)->Append(r).ok());
  }
  const size_t before = Segments().size();
  EXPECT_GE(before, 3u) << "small segments: several files";
  (*spool)->Delivered(0, 6);
  ASSERT_TRUE((*spool)->Checkpoint().ok());
  EXPECT_EQ(Segments().size(), before) << "sink b still needs them";
  (*spool)->Delivered(1, 6);
  ASSERT_TRUE((*spool)->Checkpoint().ok());
  EXPECT_EQ(Segments().size(), 1u) << "only the segment being written is left";
  EXPECT_EQ((*spool)->stats().segments.load(), 1u);
}

TEST_F(SpoolTest, ADirectoryItCannotCreateIsAnIOFailureNotABadArgument) {
  std::ofstream(dir_) << "a regular file where the spool's parent should be";
  auto spool = Spool::Open(dir_ + "/spool", {"hook"});
  ASSERT_FALSE(spool.ok());
  EXPECT_EQ(spool.status().code(), absl::StatusCode::kUnavailable) << spool.status();
  EXPECT_THAT(std::string(spool.status().message()),
              HasSubstr(dir_ + "/spool: " + std::strerror(ENOTDIR)));
}

TEST_F(SpoolTest, RefusesASinkNameThatIsNoFileName) {
  auto spool = Spool::Open(dir_, {"../etc"});
  ASSERT_FALSE(spool.ok());
  EXPECT_EQ(spool.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace faultline
