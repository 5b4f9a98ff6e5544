// The faultline subcommands. Each takes its arguments (after the subcommand name) and returns the
// process exit code: 0 success, 1 runtime failure, 2 bad arguments or configuration.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "app/config.h"
#include "app/pipeline.h"
#include "sinks/registry.h"

namespace faultline {

int ReplayCommand(const std::vector<std::string>& args);
int RunCommand(const std::vector<std::string>& args);
int DemoCommand(const std::vector<std::string>& args);
int CheckConfigCommand(const std::vector<std::string>& args);

struct PipelineOptions {
  // Publish rejects to config.dead_letter_topic when it is set, and journal alerts in
  // config.delivery.spool_dir when it is set: `run` only (replay and the demo count rejects and
  // keep alerts in memory).
  bool for_service = false;
  // check-config: build and validate every plugin, connect nowhere, write nothing.
  bool dry_run = false;
  Clock* clock = &RealClock::Get();
  std::FILE* stdout_stream = stdout;
};

// Builds parser, engine, dispatcher and the given sinks from `config`: the composition root
// shared by every subcommand and the cross-stage tests. Every problem of every plugin is
// reported at once (kInvalidArgument, one per line).
absl::StatusOr<std::unique_ptr<Pipeline>> BuildPipeline(const Config& config,
                                                        const std::vector<SinkSpec>& sinks,
                                                        const PipelineOptions& options = {});

}  // namespace faultline
