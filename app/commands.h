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

// Builds parser, engine and the given sinks from `config`: the composition root shared by every
// subcommand and the cross-stage tests.
// `with_dead_letters`: publish rejects to config.dead_letter_topic when it is set (run only;
// replay and the demo just count them).
absl::StatusOr<std::unique_ptr<Pipeline>> BuildPipeline(const Config& config,
                                                        const std::vector<SinkSpec>& sinks,
                                                        const SinkContext& context,
                                                        bool with_dead_letters = false);

}  // namespace faultline
