// Real peers for transport tests, started on loopback ports by the test and stopped with it:
// Alertmanager and Prometheus from Debian's packages (installed by `./dev.sh test`).
#pragma once

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/testing/child_process.h"
#include "simdjson.h"
#include "sinks/testing/http_receiver.h"

namespace faultline::testing {

class PeerProcess {
 public:
  // Runs `argv` and waits up to `timeout` until GET `ready_url` answers 200. Null if it did not
  // (the process's stderr is then in `log`).
  static std::unique_ptr<PeerProcess> Start(const std::vector<std::string>& argv,
                                            const std::string& ready_url, const std::string& log,
                                            absl::Duration timeout = absl::Seconds(30)) {
    std::unique_ptr<PeerProcess> p(new PeerProcess(argv, log));
    const absl::Time deadline = RealClock::Get().TimeNow() + timeout;
    while (RealClock::Get().TimeNow() < deadline) {
      if (HttpGet(ready_url).first == 200) return p;
      if (!p->child_.running()) return nullptr;
      RealClock::Get().SleepFor(absl::Milliseconds(100));
    }
    return nullptr;
  }

 private:
  PeerProcess(const std::vector<std::string>& argv, const std::string& log)
      : child_(argv, {}, log) {}
  ChildProcess child_;
};

// A scratch directory for one test's peer (config, storage), emptied first.
inline std::string PeerDir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/faultline-peer-" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Alertmanager (Debian's prometheus-alertmanager) on a free loopback port, no clustering, a
// receiver that notifies nobody: faultline's Alertmanager sink talks to its API.
struct Alertmanager {
  std::unique_ptr<PeerProcess> process;
  std::string url;  // http://127.0.0.1:PORT
};

inline const char* kAlertmanagerBinary = "/usr/bin/prometheus-alertmanager";

inline Alertmanager StartAlertmanager(const std::string& name) {
  const std::string dir = PeerDir(name);
  std::ofstream(dir + "/alertmanager.yml") << "route:\n  receiver: nobody\n"
                                              "receivers:\n  - name: nobody\n";
  const int port = FreePort();
  Alertmanager am;
  am.url = absl::StrCat("http://127.0.0.1:", port);
  am.process = PeerProcess::Start(
      {kAlertmanagerBinary, "--config.file=" + dir + "/alertmanager.yml", "--storage.path=" + dir,
       absl::StrCat("--web.listen-address=127.0.0.1:", port),
       "--cluster.listen-address=", "--log.level=warn"},
      am.url + "/-/ready", dir + "/alertmanager.log");
  return am;
}

// Prometheus (Debian's prometheus) scraping `target` (host:port) every second as job
// "faultline", on a free loopback port; it loads the rule files `rule_files` (absolute paths)
// and evaluates their rules every second.
struct Prometheus {
  std::unique_ptr<PeerProcess> process;
  std::string url;  // http://127.0.0.1:PORT
};

inline const char* kPrometheusBinary = "/usr/bin/prometheus";

inline Prometheus StartPrometheus(const std::string& name, const std::string& target,
                                  const std::vector<std::string>& rule_files = {}) {
  const std::string dir = PeerDir(name);
  {
    std::ofstream config(dir + "/prometheus.yml");
    config << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n";
    if (!rule_files.empty()) config << "rule_files:\n";
    for (const std::string& file : rule_files) config << "  - '" << file << "'\n";
    config << "scrape_configs:\n  - job_name: faultline\n    static_configs:\n"
              "      - targets: ['"
           << target << "']\n";
  }
  const int port = FreePort();
  Prometheus p;
  p.url = absl::StrCat("http://127.0.0.1:", port);
  p.process = PeerProcess::Start(
      {kPrometheusBinary, "--config.file=" + dir + "/prometheus.yml",
       "--storage.tsdb.path=" + dir + "/data",
       absl::StrCat("--web.listen-address=127.0.0.1:", port), "--log.level=warn"},
      p.url + "/-/ready", dir + "/prometheus.log", absl::Seconds(60));
  return p;
}

// The value of the first sample of an instant query to the Prometheus at `prometheus`, or "" if
// there is none yet.
inline std::string PrometheusQuery(const std::string& prometheus, const std::string& query) {
  const auto [status, body] = HttpGet(prometheus + "/api/v1/query?query=" + query);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (status != 200 || parser.parse(body).get(doc) != simdjson::SUCCESS) return "";
  simdjson::dom::array result;
  if (doc["data"]["result"].get_array().get(result) != simdjson::SUCCESS) return "";
  for (simdjson::dom::element sample : result) {
    std::string_view value;
    if (sample["value"].at(1).get_string().get(value) == simdjson::SUCCESS) {
      return std::string(value);
    }
  }
  return "";
}

}  // namespace faultline::testing

#define FAULTLINE_REQUIRE_BINARY(path)                                            \
  if (!std::filesystem::exists(path)) {                                           \
    GTEST_SKIP() << path                                                          \
                 << " is not installed (./dev.sh test installs it from Debian's " \
                    "packages)";                                                  \
  }
