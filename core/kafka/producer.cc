#include "core/kafka/producer.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace faultline {
namespace {

KafkaConf NewConf(const std::string& brokers, const KafkaProperties& properties,
                  std::string* error) {
  KafkaConf conf = NewKafkaConf();
  KafkaProperties all = {
      {"bootstrap.servers", brokers}, {"enable.idempotence", "true"}, {"linger.ms", "5"}};
  all.insert(all.end(), properties.begin(), properties.end());
  for (const auto& [name, value] : all) {
    if (std::string why = SetKafkaProperty(conf.get(), name, value); !why.empty()) {
      *error = absl::StrCat("producer property ", why);
      return nullptr;
    }
  }
  return conf;
}

struct DeliveryReport {
  int failed = 0;
  rd_kafka_resp_err_t first_error = RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_resp_err_t first_retryable = RD_KAFKA_RESP_ERR_NO_ERROR;
};

// The report lives with each message (RD_KAFKA_V_OPAQUE), so the producer needs no opaque.
void ReportDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  auto* report = static_cast<DeliveryReport*>(m->_private);
  if (report->failed++ == 0) report->first_error = m->err;
  if (!IsPermanentProduceError(m->err) && report->first_retryable == RD_KAFKA_RESP_ERR_NO_ERROR) {
    report->first_retryable = m->err;
  }
}

}  // namespace

std::string SetKafkaProperty(rd_kafka_conf_t* conf, const std::string& name,
                             const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof(errstr)) ==
      RD_KAFKA_CONF_OK) {
    return "";
  }
  // The value may be a secret (sasl.password, a PEM key): never shown. librdkafka's message is
  // cut at 512 bytes, so a long value may be there only in part.
  std::string why = errstr;
  if (!value.empty()) {
    why = absl::StrReplaceAll(why, {{value, "<the value given>"}});
    if (absl::StrContains(why, value.substr(0, std::min<size_t>(value.size(), 8)))) {
      why = "the value given is refused (not shown: it may be a secret)";
    }
  }
  return absl::StrCat(name, ": ", why);
}

bool IsPermanentProduceError(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
      return true;
    default:
      return false;
  }
}

namespace {

absl::Status Failure(const std::string& topic, rd_kafka_resp_err_t err, int count) {
  const std::string message =
      absl::StrCat("produce to ", topic, ": ", count, " record(s) failed: ", rd_kafka_err2name(err),
                   " (", rd_kafka_err2str(err), ")");
  return IsPermanentProduceError(err) ? absl::FailedPreconditionError(message)
                                      : absl::UnavailableError(message);
}

}  // namespace

absl::StatusOr<KafkaClient> NewKafkaProducer(const std::string& brokers,
                                             const KafkaProperties& properties,
                                             DeliveryCallback on_delivery, void* opaque) {
  std::string error;
  KafkaConf conf = NewConf(brokers, properties, &error);
  if (conf == nullptr) return absl::InvalidArgumentError(error);
  rd_kafka_conf_set_opaque(conf.get(), opaque);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), on_delivery);
  return NewKafkaClient(RD_KAFKA_PRODUCER, std::move(conf));
}

absl::Status ValidateProducerConfig(const std::string& brokers, const KafkaProperties& properties) {
  std::string error;
  if (NewConf(brokers, properties, &error) == nullptr) return absl::InvalidArgumentError(error);
  return absl::OkStatus();
}

absl::StatusOr<KafkaClient> NewPublisher(const std::string& brokers,
                                         const KafkaProperties& properties) {
  return NewKafkaProducer(brokers, properties, &ReportDelivery, nullptr);
}

absl::Status PublishAll(rd_kafka_t* publisher, const std::string& topic,
                        absl::Span<const KafkaRecord> records, absl::Duration timeout) {
  DeliveryReport report;
  for (const KafkaRecord& r : records) {
    KafkaPtr<rd_kafka_headers_t> headers;
    if (!r.headers.empty()) {
      headers.reset(rd_kafka_headers_new(r.headers.size()));
      for (const auto& [name, value] : r.headers) {
        rd_kafka_header_add(headers.get(), name.data(), static_cast<ssize_t>(name.size()),
                            value.data(), static_cast<ssize_t>(value.size()));
      }
    }
    const int64_t timestamp_ms =
        r.timestamp == absl::InfinitePast() ? 0 : absl::ToUnixMillis(r.timestamp);
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        publisher, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(r.key.data(), r.key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(&report),
        RD_KAFKA_V_TIMESTAMP(timestamp_ms), RD_KAFKA_V_HEADERS(headers.get()), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // What was produced must report before `report` goes out of scope.
      rd_kafka_flush(publisher, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
      return Failure(topic, err, 1);
    }
    static_cast<void>(headers.release());  // the record owns them now
    rd_kafka_poll(publisher, 0);
  }
  const rd_kafka_resp_err_t err =
      rd_kafka_flush(publisher, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // Reports still owed reference `report`: purge them (they report as failed) before returning.
    rd_kafka_purge(publisher, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(publisher, 1000);
    return absl::DeadlineExceededError(absl::StrCat("produce to ", topic, ": delivery reports ",
                                                    "missing after ",
                                                    absl::FormatDuration(timeout)));
  }
  // Retryable if any record may be retried: a retry of the batch then settles it; refused for
  // good only when every failure was.
  if (report.failed > 0) {
    return Failure(topic,
                   report.first_retryable != RD_KAFKA_RESP_ERR_NO_ERROR ? report.first_retryable
                                                                        : report.first_error,
                   report.failed);
  }
  return absl::OkStatus();
}

absl::Status CreateKafkaTopic(rd_kafka_t* client, const std::string& topic, int partitions,
                              const KafkaProperties& configs, absl::Duration timeout) {
  char err[512];
  KafkaPtr<rd_kafka_NewTopic_t> spec(
      rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, err, sizeof(err)));
  if (spec == nullptr) return absl::InvalidArgumentError(absl::StrCat("topic ", topic, ": ", err));
  for (const auto& [name, value] : configs) {
    if (rd_kafka_NewTopic_set_config(spec.get(), name.c_str(), value.c_str()) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::InvalidArgumentError(absl::StrCat("topic ", topic, ": config ", name));
    }
  }
  KafkaPtr<rd_kafka_queue_t> queue(rd_kafka_queue_new(client));
  rd_kafka_NewTopic_t* specs[] = {spec.get()};
  rd_kafka_CreateTopics(client, specs, 1, nullptr, queue.get());
  KafkaPtr<rd_kafka_event_t> event(
      rd_kafka_queue_poll(queue.get(), static_cast<int>(absl::ToInt64Milliseconds(timeout))));
  if (event == nullptr) {
    return absl::DeadlineExceededError(
        absl::StrCat("CreateTopics ", topic, ": no answer within ", absl::FormatDuration(timeout)));
  }
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {  // the whole request
    return absl::UnavailableError(
        absl::StrCat("CreateTopics ", topic, ": ", rd_kafka_event_error_string(event.get())));
  }
  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event.get()), &n);
  if (n == 1 && rd_kafka_topic_result_error(results[0]) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::OkStatus();
  }
  return absl::InternalError(
      absl::StrCat("CreateTopics ", topic, ": ",
                   n == 1 ? rd_kafka_topic_result_error_string(results[0]) : "no result"));
}

}  // namespace faultline
