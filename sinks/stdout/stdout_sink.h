// Writes each alert to stdout: one JSON object per line (`format: json`, the default; the
// stable alert shape) or a few readable lines for a person at a terminal (`format: text`).
#pragma once

#include <cstdio>
#include <memory>

#include "absl/status/statusor.h"
#include "sinks/registry.h"

namespace faultline {

class StdoutSink final : public Sink {
 public:
  enum class Format { kJson, kText };

  static absl::StatusOr<std::unique_ptr<Sink>> Create(const SinkSpec& spec, const SinkContext& ctx);
  StdoutSink(Format format, std::FILE* out) : format_(format), out_(out) {}

  std::string_view name() const override { return "stdout"; }
  absl::Status Send(const Alert& alert) override;
  absl::Status Flush() override;

 private:
  Format format_;
  std::FILE* out_;
};

// The readable rendering used by `format: text` (and the demo).
std::string FormatAlertText(const Alert& alert);

}  // namespace faultline
