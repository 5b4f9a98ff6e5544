// A child process for tests (faultline itself, a Python HTTP receiver, Alertmanager,
// Prometheus): its stdout readable through a pipe, killed when the test ends early. Waits are
// bounded, on the real clock.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "core/clock.h"

namespace faultline::testing {

class ChildProcess {
 public:
  // Runs argv[0] (a path) with `env` ("NAME=value") added to the environment. stderr is left
  // to the test's own stderr unless `stderr_path` names a file to write it to.
  explicit ChildProcess(const std::vector<std::string>& argv,
                        const std::vector<std::string>& env = {},
                        const std::string& stderr_path = "") {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
      if (!stderr_path.empty()) {
        const int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (err >= 0) dup2(err, STDERR_FILENO);
      }
      setpgid(0, 0);  // its own group: a kill reaches its children (a shell's) too
      for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fds[0];
  }
  ~ChildProcess() {
    if (pid_ > 0) {
      kill(-pid_, SIGKILL);
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Reads stdout until it holds `lines` lines or `timeout` passes; returns all read so far.
  std::string ReadLines(int lines, absl::Duration timeout) {
    const absl::Time deadline = Now() + timeout;
    while (std::count(output_.begin(), output_.end(), '\n') < lines && Now() < deadline) {
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      char buf[4096];
      const ssize_t n = read(out_, buf, sizeof(buf));
      if (n <= 0) break;
      output_.append(buf, n);
    }
    return output_;
  }

  // Reads stdout until the child closes it or `timeout` passes; returns all read so far.
  std::string ReadAll(absl::Duration timeout) {
    const absl::Time deadline = Now() + timeout;
    while (Now() < deadline) {
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      char buf[65536];
      const ssize_t n = read(out_, buf, sizeof(buf));
      if (n <= 0) break;
      output_.append(buf, n);
    }
    return output_;
  }

  // Waits up to `timeout` for the exit status (as SignalAndWait, sending nothing).
  int Wait(absl::Duration timeout) { return SignalAndWait(0, timeout); }

  // Sends `signal` and waits up to `timeout` for the exit status (-1 if it did not exit; a
  // signal's death reads as 128 + the signal).
  int SignalAndWait(int signal, absl::Duration timeout) {
    if (pid_ <= 0) return -1;
    kill(pid_, signal);
    const absl::Time deadline = Now() + timeout;
    while (Now() < deadline) {
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      RealClock::Get().SleepFor(absl::Milliseconds(50));
    }
    return -1;
  }

  bool running() const { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }
  pid_t pid() const { return pid_; }

 private:
  static absl::Time Now() { return RealClock::Get().TimeNow(); }
  pid_t pid_ = -1;
  int out_ = -1;
  std::string output_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
inline int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace faultline::testing
