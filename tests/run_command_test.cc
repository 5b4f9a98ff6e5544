// `faultline run` as a service, against the real broker: it consumes, alerts on stdout, and on
// SIGTERM stops fetching, flushes, commits and exits 0.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_split.h"
#include "app/kafka_publish.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/kafka_test_env.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;

// The child process, its stdout as a pipe; killed if the test ends early.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv) {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fds[0];
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(out_);
  }

  // Reads stdout until it holds `lines` lines or `timeout` passes.
  std::string ReadLines(int lines, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (std::count(output_.begin(), output_.end(), '\n') < lines && absl::Now() < deadline) {
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      char buf[4096];
      const ssize_t n = read(out_, buf, sizeof(buf));
      if (n <= 0) break;
      output_.append(buf, n);
    }
    return output_;
  }

  // Sends `signal` and waits up to `timeout` for the exit status (-1 if it did not exit).
  int SignalAndWait(int signal, absl::Duration timeout) {
    kill(pid_, signal);
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string output_;
};

TEST(RunCommandTest, AlertsThenStopsCleanlyOnSigtermWithOffsetsCommitted) {
  FAULTLINE_REQUIRE_KAFKA(brokers);
  const std::string topic = testing::UniqueName("run-command");
  const std::string group = testing::UniqueName("faultline-run");
  auto records = ReadLines(
      std::string(FAULTLINE_SOURCE_DIR) + "/app/demo/exchange_owa_incident.jsonl", "EXCH01");
  ASSERT_TRUE(records.ok());
  auto producer = NewProducer(brokers);
  ASSERT_TRUE(producer.ok());
  ASSERT_TRUE(PublishAll(*producer, topic, *records).ok());
  rd_kafka_destroy(*producer);

  const std::string config = ::testing::TempDir() + "/run_command_test." + topic + ".yaml";
  std::ofstream(config) << "kafka:\n  brokers: " << brokers << "\n  topics: [" << topic
                        << "]\n  group_id: " << group
                        << "\n  commit_interval: 1h\nsinks:\n  - type: stdout\n    format: json\n";
  // A commit interval of an hour: the commit seen below can only be the shutdown commit.
  Child child({std::string(FAULTLINE_BINARY_DIR) + "/faultline", "run", "--config", config,
               "--progress-every", "0", "--quiet"});
  const std::string out = child.ReadLines(3, absl::Seconds(60));
  const std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << out;
  EXPECT_THAT(lines[1], HasSubstr("iis_rapid_fail_imminent"));
  EXPECT_THAT(lines[2], HasSubstr("iis_app_pool_disabled"));

  EXPECT_EQ(child.SignalAndWait(SIGTERM, absl::Seconds(30)), 0);
  EXPECT_EQ(testing::CommittedOffset(brokers, group, topic), 7);
}

}  // namespace
}  // namespace faultline
