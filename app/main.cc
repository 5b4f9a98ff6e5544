// faultline: streaming detector for Windows server failures. The commands are in app/cli.cc,
// the composition root in app/service.cc.
#include <string>
#include <vector>

#include "app/cli.h"

int main(int argc, char** argv) {
  return faultline::RunCommandLine(std::vector<std::string>(argv + 1, argv + argc));
}
