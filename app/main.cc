// faultline: streaming detector for Windows server failures. The composition root is
// app/commands.cc; this file only dispatches subcommands.
#include <cstdio>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/config.h"
#include "core/settings_doc.h"
#include "core/version.h"
#include "librdkafka/rdkafka.h"

namespace {

constexpr char kHelp[] = R"(faultline: detects Windows server failures in event streams from Kafka

Usage: faultline COMMAND [options]     (faultline COMMAND --help for each)

Commands:
  run       consume Windows events from Kafka and deliver alerts (the service)
  replay    run the detectors over JSON-lines files or stdin, alerts on stdout (backtests)
  demo      the whole pipeline on a bundled incident, with an in-process Kafka: nothing to install
  check-config FILE   validate a configuration and build every plugin, connecting nowhere
  config-reference [--json-schema]   every setting with its type, default and meaning
                                     (docs/CONFIGURATION.md), or the JSON Schema for editors
  --version           the version, and the librdkafka it runs with

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
  if (command == "--version" || command == "version") {
    std::printf("faultline %s (librdkafka %s)\n", faultline::kVersion, rd_kafka_version_str());
    return 0;
  }
  if (command == "config-reference") {
    if (args.size() == 1 && args[0] == "--json-schema") {
      std::fputs(
          faultline::settings::JsonSchema(faultline::ConfigSchema(), "faultline configuration")
              .c_str(),
          stdout);
      return 0;
    }
    if (!args.empty()) {
      std::fputs("Usage: faultline config-reference [--json-schema]\n",
                 args[0] == "--help" ? stdout : stderr);
      return args[0] == "--help" ? 0 : 2;
    }
    std::fputs(faultline::ConfigReference().c_str(), stdout);
    return 0;
  }
  if (command == "replay") return faultline::ReplayCommand(args);
  if (command == "run") return faultline::RunCommand(args);
  if (command == "demo") return faultline::DemoCommand(args);
  if (command == "check-config") return faultline::CheckConfigCommand(args);
  std::fprintf(stderr, "faultline: unknown command \"%s\"\n\n%s", command.c_str(), kHelp);
  return 2;
}
