// faultline's command line: the commands (run, replay, demo, check-config, config-reference,
// --version), each with its flag table and help text (app/flags.h), parsed into a Config and
// ServiceOptions and handed to the Service. main() is this and nothing else.
#pragma once

#include <string>
#include <vector>

namespace faultline {

// Runs the command `args` names (argv without the program name) and returns the process's exit
// status (ExitCode in app/service.h). SIGINT and SIGTERM stop a running command cleanly.
int RunCommandLine(const std::vector<std::string>& args);

}  // namespace faultline
