#include "core/event_codec.h"

#include "core/alert.h"

namespace faultline {

void EventCodec::Encode(const Event& event, std::string* out) {
  Fill(event);
  Serialize(out);
}

void EventCodec::EncodeWithOrigin(const Event& event, std::string* out) {
  Fill(event);
  message_.set_source_partition(event.origin.partition);
  if (event.origin.broker_time != absl::InfinitePast()) {
    *message_.mutable_source_time() = ToProtoTime(event.origin.broker_time);
  }
  Serialize(out);
}

void EventCodec::EncodeHeartbeat(int32_t partition, absl::Time time, int64_t end,
                                 std::string* out) {
  message_.Clear();
  message_.set_source_partition(partition);
  if (time != absl::InfinitePast()) *message_.mutable_source_time() = ToProtoTime(time);
  if (end >= 0) message_.set_source_end(end);
  Serialize(out);
}

void EventCodec::Serialize(std::string* out) {
  out->clear();
  message_.AppendToString(out);
}

void EventCodec::Fill(const Event& event) {
  v1::Event& m = message_;
  m.Clear();
  *m.mutable_time() = ToProtoTime(event.time);
  m.set_host(event.host);
  m.set_provider(event.provider_name);
  m.set_channel(event.channel);
  m.set_event_id(event.event_id);
  m.set_level(event.level);
  m.set_record_id(event.record_id);
  m.set_app_pool(event.app_pool);
  m.set_pid(event.pid);
  if (event.exit_code) m.set_exit_code(*event.exit_code);
  if (event.exception_code) m.set_exception_code(*event.exception_code);
  m.set_service(event.service);
  m.set_faulting_app(event.faulting_app);
  m.set_faulting_module(event.faulting_module);
  m.set_occurrences(event.occurrences);
  m.set_detail(event.detail);
}

bool EventCodec::Decode(std::string_view bytes, Event* out, int64_t* end) {
  out->Clear();
  v1::Event& m = message_;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
  out->time = m.has_time() ? FromProtoTime(m.time()) : absl::InfinitePast();
  out->host.assign(m.host());
  out->provider_name.assign(m.provider());
  out->provider = ClassifyProvider(out->provider_name);
  out->channel.assign(m.channel());
  out->event_id = m.event_id();
  out->level = m.level() < 256 ? static_cast<uint8_t>(m.level()) : 0;
  out->record_id = m.record_id();
  out->app_pool.assign(m.app_pool());
  out->pid = m.pid();
  if (m.has_exit_code()) out->exit_code = m.exit_code();
  if (m.has_exception_code()) out->exception_code = m.exception_code();
  out->service.assign(m.service());
  out->faulting_app.assign(m.faulting_app());
  out->faulting_module.assign(m.faulting_module());
  out->occurrences = m.occurrences();
  out->detail.assign(m.detail());
  if (m.has_source_partition()) {
    out->origin.partition = m.source_partition();
    out->origin.broker_time =
        m.has_source_time() ? FromProtoTime(m.source_time()) : absl::InfinitePast();
  }
  if (end != nullptr) *end = m.has_source_end() ? m.source_end() : -1;
  return true;
}

}  // namespace faultline
