// The container image under load (issue 10): two containers of localhost/faultline:latest (built
// by deploy/container/build.sh) in one consumer group share a 4-partition topic of the real
// broker. A fleet's stream (tests/fleet_stream.h) is published and read by both; one container
// is stopped as an orchestrator stops it (SIGTERM: it drains, delivers, commits, leaves the
// group); a second fleet's stream is published and the survivor takes over every partition.
// Every injected incident of both streams must fire exactly once across the two containers'
// alert files, every message must be read once (the summed summaries), the group must end with
// nothing left to commit, and each container must pass its healthcheck.
//
// Detector state is not handed over with a partition yet (issue 13 restores it): an incident
// whose events straddle a handover would be seen in part by each instance, and a pool failing on
// several hosts (fleet_app_pool_failures) needs one instance to see every host of the pool.
// So the second stream is another fleet (its own host names) published after the stop, no
// incident straddles the stop, and fleet_app_pool_failures is left unchecked (counted below).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/clock.h"
#include "core/testing/child_process.h"
#include "core/testing/eventually.h"
#include "core/testing/kafka_env.h"
#include "gtest/gtest.h"
#include "sinks/testing/http_receiver.h"
#include "tests/fleet_check.h"
#include "tests/fleet_stream.h"

namespace faultline {
namespace {

using testing::ChildProcess;
using testing::FleetIncident;
using testing::FleetStream;

constexpr char kImage[] = "localhost/faultline:latest";
constexpr char kTestLabel[] = "faultline.test=container_load";
constexpr char kPidLabel[] = "faultline.test.pid";
constexpr int kPartitions = 4;

absl::Time Now() { return RealClock::Get().TimeNow(); }

std::string FindPodman() {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path ? path : "/usr/bin:/bin", ':')) {
    const std::string candidate = absl::StrCat(dir, "/podman");
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

struct PodmanResult {
  int status = -1;  // -1: did not finish in time
  std::string out;  // stdout
  std::string err;  // stderr
};

// `podman --runtime runc ARGS...`: this machine's Podman needs the runc runtime (and the ulimits
// every `run` passes).
PodmanResult Podman(const std::vector<std::string>& args,
                    absl::Duration timeout = absl::Seconds(60)) {
  static const std::string podman = FindPodman();
  static int calls = 0;
  const std::string err = absl::StrCat(::testing::TempDir(), "/container_load.", getpid(), ".",
                                       ++calls, ".podman.stderr");
  std::vector<std::string> argv = {podman, "--runtime", "runc"};
  argv.insert(argv.end(), args.begin(), args.end());
  PodmanResult r;
  {
    ChildProcess child(argv, {}, err);
    const absl::Time deadline = Now() + timeout;
    r.out = child.ReadAll(timeout);
    r.status = child.Wait(std::max(deadline - Now(), absl::Seconds(1)));
  }
  r.err = testing::ReadAll(err);
  std::remove(err.c_str());
  return r;
}

std::vector<std::string> RunFlags() {
  return {"--network=host", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"};
}

// The containers and volumes of one test, removed when the test ends however it ends; and those
// left by an earlier run that was killed before it could (its process is gone).
class PodmanCleanup {
 public:
  PodmanCleanup() {
    for (const std::string& c : Stale({"ps", "-a", "--filter", absl::StrCat("label=", kTestLabel),
                                       "--format", PidFormat(".Names")})) {
      Podman({"rm", "-f", "-v", "-t", "0", c});
    }
    for (const std::string& v :
         Stale({"volume", "ls", "--filter", absl::StrCat("label=", kTestLabel), "--format",
                PidFormat(".Name")})) {
      Podman({"volume", "rm", "-f", v});
    }
  }
  ~PodmanCleanup() {
    for (const std::string& c : containers_) Podman({"rm", "-f", "-v", "-t", "0", c});
    for (const std::string& v : volumes_) Podman({"volume", "rm", "-f", v});
  }
  PodmanCleanup(const PodmanCleanup&) = delete;
  PodmanCleanup& operator=(const PodmanCleanup&) = delete;

  // The labels every container and volume of this test carries.
  static std::vector<std::string> Labels() {
    return {"--label", kTestLabel, "--label", absl::StrCat(kPidLabel, "=", getpid())};
  }
  void AddContainer(const std::string& name) { containers_.push_back(name); }
  void AddVolume(const std::string& name) { volumes_.push_back(name); }

 private:
  static std::string PidFormat(const std::string& name) {
    return absl::StrCat("{{", name, "}} {{index .Labels \"", kPidLabel, "\"}}");
  }
  // The names listed by `list` ("NAME PID" lines) whose test process is no longer running.
  static std::vector<std::string> Stale(const std::vector<std::string>& list) {
    std::vector<std::string> out;
    for (absl::string_view line : absl::StrSplit(Podman(list).out, '\n', absl::SkipEmpty())) {
      std::vector<std::string> f = absl::StrSplit(line, ' ');
      int pid = 0;
      if (f.size() == 2 && absl::SimpleAtoi(f[1], &pid) && pid > 0 && pid != getpid() &&
          kill(pid, 0) != 0 && errno == ESRCH) {
        out.push_back(f[0]);
      }
    }
    return out;
  }
  std::vector<std::string> containers_, volumes_;
};

// The sum of the samples of `name` in a Prometheus text exposition; -1 when it has none.
double Sample(const std::string& text, absl::string_view name) {
  double sum = -1;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, name) || line.empty() || (line[0] != ' ' && line[0] != '{')) {
      continue;
    }
    double v = 0;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &v)) sum = std::max(sum, 0.0) + v;
  }
  return sum;
}

// One faultline container of the image: its metrics port, alert file and spool volume.
struct Instance {
  std::string name, volume, alerts_dir;
  int port = 0;
  std::string metrics;   // the last scrape (empty: it did not answer)
  double consumed = -1;  // faultline_events_consumed_total of the last scrape
  bool scraped = false;  // some scrape answered with faultline's metrics

  void Scrape() {
    const auto [status, body] =
        testing::HttpGet(absl::StrCat("http://127.0.0.1:", port, "/metrics"));
    metrics = status == 200 ? body : "";
    consumed = Sample(metrics, "faultline_events_consumed_total");
    scraped |= consumed >= 0 && Sample(metrics, "faultline_build_info") == 1;
  }
  std::string Alerts() const { return testing::ReadAll(alerts_dir + "/alerts.jsonl"); }
  std::string Logs() const {
    const PodmanResult r = Podman({"logs", name});
    return r.out + r.err;
  }
};

std::string Progress(const std::vector<Instance*>& instances,
                     const std::vector<testing::PartitionLag>& lag) {
  std::string s;
  for (const Instance* i : instances)
    absl::StrAppend(&s, i->name, ": consumed ", i->consumed, "; ");
  for (const testing::PartitionLag& p : lag) {
    absl::StrAppend(&s, "partition ", p.partition, " committed ", p.committed, " of ", p.end, "; ");
  }
  return s;
}

bool NothingLeft(const std::vector<testing::PartitionLag>& lag) {
  return std::all_of(lag.begin(), lag.end(),
                     [](const testing::PartitionLag& p) { return p.lag() == 0; });
}

std::vector<KafkaRecord> Records(const FleetStream& fleet) {
  std::vector<KafkaRecord> records;
  for (const auto& line : fleet.lines) {
    // The Kafka timestamp is the line's arrival, as Winlogbeat's output sets it.
    records.push_back({.key = line.key, .value = line.value, .timestamp = line.arrival});
  }
  return records;
}

// `podman healthcheck run` until it passes (at most `timeout`).
bool BecomesHealthy(const Instance& i, absl::Duration timeout, std::string* last) {
  const absl::Time deadline = Now() + timeout;
  do {
    const PodmanResult r = Podman({"healthcheck", "run", i.name}, absl::Seconds(20));
    if (r.status == 0) return true;
    *last = absl::StrCat("podman healthcheck run ", i.name, ": ", r.status, " ", r.out, r.err);
    RealClock::Get().SleepFor(absl::Seconds(1));
  } while (Now() < deadline);
  return false;
}

// Stops `i` as an orchestrator does (SIGTERM, 30 s before SIGKILL); its exit status and the
// summary it printed last.
std::pair<int, std::string> Stop(const Instance& i) {
  const PodmanResult stop = Podman({"stop", "-t", "30", i.name}, absl::Seconds(60));
  EXPECT_EQ(stop.status, 0) << stop.out << stop.err;
  const PodmanResult code =
      Podman({"inspect", "--format", "{{.State.ExitCode}}", i.name}, absl::Seconds(20));
  int exit_code = -1;
  EXPECT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(code.out), &exit_code)) << code.err;
  return {exit_code, testing::LastLine(i.Logs())};
}

TEST(ContainerLoadTest, TwoContainersShareAFleetAndOneTakesOverWhenTheOtherStops) {
  FAULTLINE_REQUIRE_KAFKA(brokers);
  if (FindPodman().empty()) GTEST_SKIP() << "no podman on PATH: the image cannot be run";
  const PodmanResult exists = Podman({"image", "exists", kImage});
  // ./dev.sh test builds the image before this suite: its absence is a failure, not a skip.
  ASSERT_EQ(exists.status, 0) << "no image " << kImage
                              << ": build it with deploy/container/build.sh " << exists.err;
  std::vector<std::string> probe = {"run", "--rm"};
  for (const std::string& f : RunFlags()) probe.push_back(f);
  probe.insert(probe.end(), {"--entrypoint", "/bin/true", kImage});
  const PodmanResult ran = Podman(probe);
  if (ran.status != 0) {
    GTEST_SKIP() << "podman cannot run containers here (exit " << ran.status << "): " << ran.err;
  }
  const absl::Time started = Now();
  PodmanCleanup cleanup;

  const std::string run_id = testing::UniqueName("faultline-load");
  const std::string topic = run_id;
  const std::string group = run_id + "-group";
  ASSERT_TRUE(testing::CreateTopic(brokers, topic, kPartitions).ok());

  // Two fleets a few hours apart: arrivals must not overlap (each partition's arrival clock only
  // moves forward) and must stay within the broker's retention (deploy/local/kafka.sh keeps 24
  // hours: a stream a day old would be deleted under the consumers). The first fleet's hosts are
  // named as fleet_time_test's: librdkafka's default partitioner (CRC32 of the key) is linear,
  // and names that differ in a few digits fall on partitions by a pattern of those digits (with
  // "fleet1.contoso.local" every incident host lands on partitions 2 and 3, the ones the range
  // assignor gives one member); with "fleet.contoso.local" each partition holds incidents.
  const FleetStream first = testing::MakeFleetStream(Now() - absl::Hours(8), /*seed=*/21);
  const FleetStream second =
      testing::MakeFleetStream(Now() - absl::Minutes(2), /*seed=*/22, "fleet2.contoso.local");

  // The image's config mounted over its own: a file sink into a host directory per container,
  // the spool on the image's spool directory (a named volume per container). The Kafka settings
  // and the metrics address come from `run`'s flags.
  const std::string dir = absl::StrCat(::testing::TempDir(), "/", run_id);
  std::filesystem::create_directories(dir);
  const std::string config = dir + "/faultline.yaml";
  std::ofstream(config) << "delivery:\n  spool_dir: /var/lib/faultline/spool\n"
                        << "sinks:\n  - type: file\n    path: /alerts/alerts.jsonl\n";
  chmod(config.c_str(), 0644);

  Instance a{.name = run_id + "-a"}, b{.name = run_id + "-b"};
  for (Instance* i : {&a, &b}) {
    i->volume = i->name + "-spool";
    i->alerts_dir = dir + "/" + i->name.substr(i->name.size() - 1);
    std::filesystem::create_directories(i->alerts_dir);
    // Written by the image's user (uid 10001), whatever the host's uid mapping.
    chmod(i->alerts_dir.c_str(), 0777);
    i->port = testing::FreePort();
    std::vector<std::string> args = {"volume", "create"};
    for (const std::string& l : PodmanCleanup::Labels()) args.push_back(l);
    args.push_back(i->volume);
    const PodmanResult volume = Podman(args);
    ASSERT_EQ(volume.status, 0) << volume.err;
    cleanup.AddVolume(i->volume);

    // With --network=host every container's metrics listen on the host, so each needs its own
    // port; the image's HEALTHCHECK probes /readyz on FAULTLINE_HEALTH_PORT (9464 by default).
    // Podman times the checks with systemd timers, absent here (it logs so and goes on): the
    // test runs them itself.
    args = {"run", "-d", "--name", i->name};
    for (const std::string& l : PodmanCleanup::Labels()) args.push_back(l);
    for (const std::string& f : RunFlags()) args.push_back(f);
    for (const std::string& v :
         {config + ":/etc/faultline/faultline.yaml:ro", i->alerts_dir + ":/alerts",
          i->volume + ":/var/lib/faultline/spool"}) {
      args.insert(args.end(), {"-v", v});
    }
    args.insert(args.end(), {"-e", absl::StrCat("FAULTLINE_HEALTH_PORT=", i->port), kImage});
    args.insert(args.end(), {"run", "--config", "/etc/faultline/faultline.yaml"});
    args.insert(args.end(), {"--brokers", brokers, "--topic", topic, "--group", group});
    args.insert(args.end(), {"--metrics-listen", absl::StrCat("127.0.0.1:", i->port)});
    cleanup.AddContainer(i->name);
    const PodmanResult run = Podman(args);
    ASSERT_EQ(run.status, 0) << run.out << run.err;
  }
  std::string why;
  for (const Instance* i : {&a, &b}) {
    ASSERT_TRUE(BecomesHealthy(*i, absl::Seconds(60), &why)) << why << "\n" << i->Logs();
  }

  // Phase 1: both containers read the first fleet, until the group has committed all of it.
  const absl::Status published_first = testing::Publish(brokers, topic, Records(first));
  ASSERT_TRUE(published_first.ok()) << published_first;
  std::vector<testing::PartitionLag> lag;
  auto poll = [&](const std::vector<Instance*>& instances, double total) {
    for (Instance* i : instances) i->Scrape();
    lag = testing::GroupLag(brokers, group, topic, kPartitions);
    double sum = 0;
    for (const Instance* i : instances) sum += std::max(i->consumed, 0.0);
    return sum == total && NothingLeft(lag);
  };
  EXPECT_TRUE(testing::Eventually(
      [&] {
        return poll({&a, &b}, first.lines.size()) && a.consumed > 0 && b.consumed > 0;
      },
      absl::Seconds(90), absl::Seconds(1)))
      << "phase 1: " << Progress({&a, &b}, lag) << "\n"
      << a.Logs() << b.Logs();
  // Both were assigned partitions: each consumed some of the stream.
  EXPECT_GT(a.consumed, 0) << Progress({&a, &b}, lag);
  EXPECT_GT(b.consumed, 0) << Progress({&a, &b}, lag);
  const double b_first = b.consumed;
  std::printf("phase 1: %zu messages, %s: %.0f, %s: %.0f\n", first.lines.size(), a.name.c_str(),
              a.consumed, b.name.c_str(), b.consumed);

  // A stops as an orchestrator stops it: it drains, delivers, commits and leaves the group.
  const auto [a_exit, a_summary] = Stop(a);
  EXPECT_EQ(a_exit, 0) << a.Logs();

  // Phase 2: the second fleet, read by B alone, which took over A's partitions.
  const absl::Status published_second = testing::Publish(brokers, topic, Records(second));
  ASSERT_TRUE(published_second.ok()) << published_second;
  EXPECT_TRUE(testing::Eventually([&] { return poll({&b}, b_first + second.lines.size()); },
                                  absl::Seconds(120), absl::Seconds(1)))
      << "phase 2: " << Progress({&b}, lag) << "\n"
      << b.Logs();
  std::printf("phase 2: %zu messages, %s: %.0f in all\n", second.lines.size(), b.name.c_str(),
              b.consumed);
  EXPECT_TRUE(BecomesHealthy(b, absl::Seconds(20), &why)) << why;
  const auto [b_exit, b_summary] = Stop(b);
  EXPECT_EQ(b_exit, 0) << b.Logs();
  lag = testing::GroupLag(brokers, group, topic, kPartitions);
  EXPECT_TRUE(NothingLeft(lag)) << Progress({}, lag);
  for (const Instance* i : {&a, &b}) {
    EXPECT_TRUE(i->scraped) << i->name << ": no metrics scraped";
    // Its alerts went through the spool on its volume.
    EXPECT_GE(Sample(i->metrics, "faultline_spool_segments"), 1) << i->name << "\n" << i->metrics;
  }

  // Every incident of both fleets once across the two alert files, but for the pools failing
  // across hosts: their hosts were split between the two instances in phase 1, and each counts
  // only its own (issue 13 makes them exact across instances).
  std::vector<FleetIncident> incidents = first.incidents;
  incidents.insert(incidents.end(), second.incidents.begin(), second.incidents.end());
  size_t excluded = 0;
  for (const FleetIncident& inc : incidents) {
    excluded += std::count(inc.rules.begin(), inc.rules.end(), "fleet_app_pool_failures") > 0;
  }
  std::vector<testing::Got> alerts = testing::ParseAlerts(a.Alerts());
  const size_t from_a = alerts.size();
  for (testing::Got& g : testing::ParseAlerts(b.Alerts())) alerts.push_back(std::move(g));
  std::printf(
      "incidents: %zu, %zu checked, %zu excluded (fleet_app_pool_failures); alerts: %zu "
      "from %s, %zu from %s\n",
      incidents.size(), incidents.size() - excluded, excluded, from_a, a.name.c_str(),
      alerts.size() - from_a, b.name.c_str());
  // Each partition holds incidents of the first fleet, so each container raised some.
  EXPECT_GT(from_a, 0u) << a.name << ": no alerts";
  EXPECT_GT(alerts.size(), from_a) << b.name << ": no alerts";
  testing::ExpectEveryIncidentOnce(incidents, alerts,
                                   {.run = true, .skip_rules = {"fleet_app_pool_failures"}});
  std::printf("summaries:\n  %s\n  %s\n", a_summary.c_str(), b_summary.c_str());
  // Every message read once across both (no partition read twice, none skipped at the handover).
  testing::ExpectCounted({&first, &second}, {a_summary, b_summary}, /*run=*/true);
  std::printf("container load test: %.0f s\n", absl::ToDoubleSeconds(Now() - started));
}

}  // namespace
}  // namespace faultline
