#include "app/kafka_publish.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/strings.h"
#include "ingest/kafka/producer.h"

namespace faultline {
namespace {

struct DeliveryReport {
  int delivered = 0;
  int failed = 0;
  std::string first_error;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  auto* report = static_cast<DeliveryReport*>(m->_private);
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++report->delivered;
  } else {
    if (report->failed++ == 0) report->first_error = rd_kafka_err2str(m->err);
  }
}

}  // namespace

absl::StatusOr<rd_kafka_t*> NewProducer(
    const std::string& brokers,
    const std::vector<std::pair<std::string, std::string>>& properties) {
  // The report lives with each message (RD_KAFKA_V_OPAQUE), so the producer needs no opaque.
  return NewKafkaProducer(brokers, properties, &OnDelivery, nullptr);
}

absl::Status PublishAll(rd_kafka_t* producer, const std::string& topic,
                        const std::vector<Record>& records, absl::Duration timeout) {
  DeliveryReport report;
  for (const Record& r : records) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(r.key.data(), r.key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(&report), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_flush(producer, 1000);
      return absl::UnavailableError(
          absl::StrCat("produce to ", topic, ": ", rd_kafka_err2str(err)));
    }
    rd_kafka_poll(producer, 0);
  }
  const rd_kafka_resp_err_t err =
      rd_kafka_flush(producer, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::DeadlineExceededError(
        absl::StrCat("produce to ", topic, ": ", rd_kafka_outq_len(producer),
                     " record(s) undelivered after ", absl::FormatDuration(timeout)));
  }
  if (report.failed > 0) {
    return absl::UnavailableError(absl::StrCat("produce to ", topic, ": ", report.failed,
                                               " record(s) failed: ", report.first_error));
  }
  return absl::OkStatus();
}

std::vector<Record> SplitLines(std::string_view text, const std::string& key) {
  std::vector<Record> records;
  for (absl::string_view line : absl::StrSplit(ToAbsl(text), '\n', absl::SkipWhitespace())) {
    records.push_back({key, std::string(line)});
  }
  return records;
}

absl::StatusOr<std::vector<Record>> ReadLines(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return SplitLines(text.str(), key);
}

}  // namespace faultline
