#include "ingest/kafka/producer.h"

#include "absl/strings/str_cat.h"

namespace faultline {

absl::StatusOr<rd_kafka_t*> NewKafkaProducer(
    const std::string& brokers, const std::vector<std::pair<std::string, std::string>>& properties,
    DeliveryCallback on_delivery, void* opaque) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  std::vector<std::pair<std::string, std::string>> all = {
      {"bootstrap.servers", brokers}, {"enable.idempotence", "true"}, {"linger.ms", "5"}};
  all.insert(all.end(), properties.begin(), properties.end());
  for (const auto& [name, value] : all) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return absl::InvalidArgumentError(absl::StrCat("producer property ", name, ": ", errstr));
    }
  }
  rd_kafka_conf_set_opaque(conf, opaque);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (rk == nullptr) {  // rd_kafka_new frees conf only on success
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(absl::StrCat("producer: ", errstr));
  }
  return rk;
}

}  // namespace faultline
