// The container image under load (issues 10 and 13): three containers of localhost/faultline:latest
// (built by deploy/container/build.sh) in one consumer group share a 6-partition topic of the
// real broker, the fleet detector on the group's pool topic (ingest.pool_topic). A fleet's stream
// (tests/fleet_stream.h) is published and read by the three; one container is killed once they
// have read a third of it (SIGKILL, as a node fails: no drain, no commit, no leave; the stream is
// read within a second or two, so often after its last message, but before its commit timer),
// and the two others take over its partitions after the session timeout, reading them again from
// before its last commit (a restore, which the test requires). A second fleet's stream is then
// published and read by the survivors, which are stopped as an orchestrator stops them (SIGTERM).
// Every injected incident of both streams, fleet incidents included, must fire across the three
// containers' alert files, more than once only under one fingerprint; the group must end with
// nothing left to commit, and each container must pass its healthcheck.
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
constexpr int kPartitions = 6;

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
  // Its complete lines: a container killed while writing one leaves it torn.
  std::string Alerts() const {
    std::string text = testing::ReadAll(alerts_dir + "/alerts.jsonl");
    text.resize(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
    return text;
  }
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

TEST(ContainerLoadTest, ThreeContainersShareAFleetAndTheOthersTakeOverWhenOneIsKilled) {
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
  const std::string pool_topic = run_id + "-pools";
  ASSERT_TRUE(testing::CreateTopic(brokers, pool_topic, kPartitions).ok());

  // Two fleets a few hours apart: arrivals must not overlap (each partition's arrival clock only
  // moves forward) and must stay within the broker's retention (deploy/local/kafka.sh keeps 24
  // hours: a stream a day old would be deleted under the consumers). The first fleet's hosts are
  // named as fleet_time_test's: librdkafka's default partitioner (CRC32 of the key) is linear,
  // and names that differ in a few digits fall on partitions by a pattern of those digits (on
  // the former 4-partition topic, "fleet1.contoso.local" put every incident host on the two
  // partitions the range assignor gave one member); "fleet.contoso.local" spreads incidents.
  const FleetStream first = testing::MakeFleetStream(Now() - absl::Hours(8), /*seed=*/21);
  const FleetStream second =
      testing::MakeFleetStream(Now() - absl::Minutes(2), /*seed=*/22, "fleet2.contoso.local");

  // The image's config mounted over its own: a file sink into a host directory per container,
  // the spool on the image's spool directory (a named volume per container). The Kafka settings
  // and the metrics address come from `run`'s flags.
  const std::string dir = absl::StrCat(::testing::TempDir(), "/", run_id);
  std::filesystem::create_directories(dir);
  const std::string config = dir + "/faultline.yaml";
  // A killed member's partitions go to the others after the session timeout: 6 s, not 45. Commits
  // every second, so that B has committed what it read when it is killed.
  std::ofstream(config) << "kafka:\n  commit_interval: 1s\n  properties:\n"
                        << "    session.timeout.ms: '6000'\n"
                        << "ingest:\n  pool_topic: " << pool_topic << "\n"
                        << "delivery:\n  spool_dir: /var/lib/faultline/spool\n"
                        << "sinks:\n  - type: file\n    path: /alerts/alerts.jsonl\n";
  chmod(config.c_str(), 0644);

  Instance a{.name = run_id + "-a"}, b{.name = run_id + "-b"}, c{.name = run_id + "-c"};
  for (Instance* i : {&a, &b, &c}) {
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
  for (const Instance* i : {&a, &b, &c}) {
    ASSERT_TRUE(BecomesHealthy(*i, absl::Seconds(60), &why)) << why << "\n" << i->Logs();
  }

  // Phase 1: the three read the first fleet; B is killed once they have read a third of it and B
  // has committed, and A and C read the rest, B's partitions restored from before its last
  // commit.
  const absl::Status published_first = testing::Publish(brokers, topic, Records(first));
  ASSERT_TRUE(published_first.ok()) << published_first;
  std::vector<testing::PartitionLag> lag;
  auto poll = [&](const std::vector<Instance*>& instances) {
    for (Instance* i : instances) i->Scrape();
    lag = testing::GroupLag(brokers, group, topic, kPartitions);
    double sum = 0;
    for (const Instance* i : instances) sum += std::max(i->consumed, 0.0);
    return sum;
  };
  const double third = static_cast<double>(first.lines.size()) / 3;
  EXPECT_TRUE(testing::Eventually(
      [&] {
        return poll({&a, &b, &c}) >= third && b.consumed > 0 &&
               Sample(b.metrics, "faultline_kafka_commits_total") > 0;
      },
      absl::Seconds(90), absl::Milliseconds(200)))
      << "phase 1: " << Progress({&a, &b, &c}, lag) << "\n"
      << b.Logs();
  const double read_before = poll({&a, &b, &c}), b_read = b.consumed;
  const PodmanResult killed = Podman({"kill", "--signal", "KILL", b.name}, absl::Seconds(30));
  ASSERT_EQ(killed.status, 0) << killed.out << killed.err;
  std::printf("phase 1: %s killed after %.0f of %zu messages (it had read %.0f)\n", b.name.c_str(),
              read_before, first.lines.size(), b_read);
  EXPECT_TRUE(testing::Eventually(
      [&] {
        poll({&a, &c});
        return NothingLeft(lag) && a.consumed > 0 && c.consumed > 0;
      },
      absl::Seconds(120), absl::Seconds(1)))
      << "phase 1: " << Progress({&a, &c}, lag) << "\n"
      << a.Logs() << c.Logs();
  const double consumed_first = a.consumed + c.consumed;
  // B's partitions were restored by whoever took them: read again from before its last commit.
  EXPECT_GT(Sample(a.metrics, "faultline_kafka_restores_total") +
                Sample(c.metrics, "faultline_kafka_restores_total"),
            0)
      << a.metrics << c.metrics << a.Logs() << c.Logs();
  std::printf("phase 1: %zu messages, %s: %.0f, %s: %.0f (partitions of %s read again)\n",
              first.lines.size(), a.name.c_str(), a.consumed, c.name.c_str(), c.consumed,
              b.name.c_str());

  // Phase 2: the second fleet, read by A and C.
  const absl::Status published_second = testing::Publish(brokers, topic, Records(second));
  ASSERT_TRUE(published_second.ok()) << published_second;
  EXPECT_TRUE(testing::Eventually(
      [&] {
        return poll({&a, &c}) >= consumed_first + static_cast<double>(second.lines.size()) &&
               NothingLeft(lag);
      },
      absl::Seconds(120), absl::Seconds(1)))
      << "phase 2: " << Progress({&a, &c}, lag) << "\n"
      << a.Logs() << c.Logs();
  std::printf("phase 2: %zu messages, %s: %.0f, %s: %.0f in all\n", second.lines.size(),
              a.name.c_str(), a.consumed, c.name.c_str(), c.consumed);
  for (const Instance* i : {&a, &c})
    EXPECT_TRUE(BecomesHealthy(*i, absl::Seconds(20), &why)) << why;
  const auto [a_exit, a_summary] = Stop(a);
  EXPECT_EQ(a_exit, 0) << a.Logs();
  const auto [c_exit, c_summary] = Stop(c);
  EXPECT_EQ(c_exit, 0) << c.Logs();
  lag = testing::GroupLag(brokers, group, topic, kPartitions);
  EXPECT_TRUE(NothingLeft(lag)) << Progress({}, lag);
  for (const Instance* i : {&a, &b, &c}) {
    EXPECT_TRUE(i->scraped) << i->name << ": no metrics scraped";
  }
  for (const Instance* i : {&a, &c}) {
    // Its alerts went through the spool on its volume.
    EXPECT_GE(Sample(i->metrics, "faultline_spool_segments"), 1) << i->name << "\n" << i->metrics;
  }

  // Every incident of both fleets, fleet incidents included, across the three alert files: what
  // B raised and had not committed when it was killed is raised again by the member that took
  // its partition, under the same fingerprint.
  std::vector<FleetIncident> incidents = first.incidents;
  incidents.insert(incidents.end(), second.incidents.begin(), second.incidents.end());
  std::vector<testing::Got> alerts;
  std::string counts;
  for (const Instance* i : {&a, &b, &c}) {
    std::vector<testing::Got> mine = testing::ParseAlerts(i->Alerts());
    absl::StrAppend(&counts, counts.empty() ? "" : ", ", mine.size(), " from ", i->name);
    if (i != &b) {
      EXPECT_GT(mine.size(), 0u) << i->name << ": no alerts";
    }
    for (testing::Got& g : mine) alerts.push_back(std::move(g));
  }
  std::printf("incidents: %zu, all checked; alerts: %s\n", incidents.size(), counts.c_str());
  testing::ExpectEveryIncidentOnce(incidents, alerts, {.run = true, .redelivered = true});
  std::printf("summaries:\n  %s\n  %s\n", a_summary.c_str(), c_summary.c_str());
  std::printf("container load test: %.0f s\n", absl::ToDoubleSeconds(Now() - started));
}

}  // namespace
}  // namespace faultline
