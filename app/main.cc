// faultline: streaming detector for Windows server failures. The composition root is
// app/commands.cc; this file only dispatches subcommands.
#include <cstdio>
#include <string>
#include <vector>

#include "app/commands.h"

namespace {

constexpr char kHelp[] = R"(faultline: detects Windows server failures in event streams from Kafka

Usage: faultline COMMAND [options]     (faultline COMMAND --help for each)

Commands:
  run       consume Windows events from Kafka and deliver alerts (the service)
  replay    run the detectors over JSON-lines files or stdin, alerts on stdout (backtests)
  demo      the whole pipeline on a bundled incident, with an in-process Kafka: nothing to install
  check-config FILE   validate a configuration and build every plugin, connecting nowhere

Detectors: iis_worker_failure_burst, iis_rapid_fail_imminent (the warning before IIS rapid-fail
protection disables an application pool), iis_app_pool_disabled (with the failures as evidence),
service_crash_loop, fleet_app_pool_failures. Input: Winlogbeat 6/7/8, NXLog, Fluent Bit, Logstash
or raw Windows event XML, detected per message.
)";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kHelp, stderr);
    return 2;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kHelp, stdout);
    return 0;
  }
  if (command == "replay") return faultline::ReplayCommand(args);
  if (command == "run") return faultline::RunCommand(args);
  if (command == "demo") return faultline::DemoCommand(args);
  if (command == "check-config") return faultline::CheckConfigCommand(args);
  std::fprintf(stderr, "faultline: unknown command \"%s\"\n\n%s", command.c_str(), kHelp);
  return 2;
}
