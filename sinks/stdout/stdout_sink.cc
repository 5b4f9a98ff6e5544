#include "sinks/stdout/stdout_sink.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace faultline {
namespace {

std::string Clock(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", FromProtoTime(t), absl::UTCTimeZone());
}

}  // namespace

absl::StatusOr<std::unique_ptr<Sink>> StdoutSink::Create(const SinkSpec& spec,
                                                         const SinkContext& ctx) {
  Format format = Format::kJson;
  for (const auto& [key, value] : spec.options) {
    if (key != "format") {
      return absl::InvalidArgumentError(
          absl::StrCat("sink stdout: unknown option \"", key, "\" (known: format)"));
    }
    if (value == "json") {
      format = Format::kJson;
    } else if (value == "text") {
      format = Format::kText;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("sink stdout: format must be json or text, got \"", value, "\""));
    }
  }
  return std::make_unique<StdoutSink>(format, ctx.stdout_stream);
}

std::string FormatAlertText(const Alert& alert) {
  std::string out = absl::StrFormat("[%s] %s %s  host=%s", alert.severity(), alert.rule(),
                                    alert.status(), alert.host());
  if (!alert.app_pool().empty()) absl::StrAppend(&out, " app_pool=", alert.app_pool());
  if (!alert.service().empty()) absl::StrAppend(&out, " service=", alert.service());
  absl::StrAppendFormat(&out, "  count=%d  %s .. %s\n  %s\n", alert.count(),
                        Clock(alert.first_event_time()), Clock(alert.last_event_time()),
                        alert.summary());
  for (const Evidence& e : alert.evidence()) {
    absl::StrAppendFormat(&out, "    %s  %-8s %s %d", Clock(e.time()), e.kind(), e.provider(),
                          e.event_id());
    if (e.pid() != 0) absl::StrAppend(&out, "  pid=", e.pid());
    if (!e.exit_code().empty()) absl::StrAppend(&out, "  exit=", e.exit_code());
    if (!e.exception_code().empty()) absl::StrAppend(&out, "  exception=", e.exception_code());
    if (!e.faulting_module().empty()) absl::StrAppend(&out, "  module=", e.faulting_module());
    if (!e.meaning().empty()) absl::StrAppend(&out, "  (", e.meaning(), ")");
    if (!e.detail().empty()) absl::StrAppend(&out, "  ", e.detail());
    out.push_back('\n');
  }
  absl::StrAppend(&out, "  fingerprint=", alert.fingerprint(), "  incident=", alert.incident_id(),
                  "\n\n");
  return out;
}

absl::Status StdoutSink::Send(const Alert& alert) {
  std::string text = format_ == Format::kJson ? AlertToJson(alert) + "\n" : FormatAlertText(alert);
  if (std::fwrite(text.data(), 1, text.size(), out_) != text.size()) {
    return absl::UnavailableError(absl::StrCat("stdout: write failed: ", std::strerror(errno)));
  }
  // An alert counts as delivered once written through to the file descriptor; alerts are rare,
  // so flushing each one costs nothing measurable and a reader of the pipe sees it at once.
  return Flush();
}

absl::Status StdoutSink::Flush() {
  if (std::fflush(out_) != 0) {
    return absl::UnavailableError(absl::StrCat("stdout: flush failed: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace faultline
