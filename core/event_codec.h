// The one translation between the in-process Event (core/event.h) and its wire form,
// faultline.v1.Event (proto/event.proto): `faultline rekey` encodes what it parsed from a
// forwarder's JSON, the detect stage decodes it from the internal topic, so an event is parsed
// from JSON once. One codec per thread: it reuses its message, so neither direction allocates
// once the strings have grown to the largest event seen.
//
// What travels is the event as its host logged it (identity, time, the detector fields); what a
// reader derives itself does not: arrival and the host-clock reference are the engine's,
// provider is classified again from provider_name, and origin (where it was read) only on the
// pool topic, whose reader did not read the input itself.
#pragma once

#include <string>
#include <string_view>

#include "core/event.h"
#include "proto/event.pb.h"

namespace faultline {

class EventCodec {
 public:
  // Replaces `*out` with the serialized event.
  void Encode(const Event& event, std::string* out);
  // The same with where it was read (origin's partition and Kafka timestamp): a record of the
  // pool topic, whose reader runs its arrival clock per input partition.
  void EncodeWithOrigin(const Event& event, std::string* out);
  // A pool topic heartbeat: input `partition`'s arrival clock stands at `time`, and it is read
  // to its end at offset `end` (-1: it is not).
  void EncodeHeartbeat(int32_t partition, absl::Time time, int64_t end, std::string* out);
  // Fills `*out` (cleared first) from serialized bytes; false when they are not a
  // faultline.v1.Event (the caller says why: it is input, not a bug). A record with an origin
  // sets out->origin's partition and broker_time; `*end` (may be null) is a heartbeat's end
  // offset (-1: none).
  bool Decode(std::string_view bytes, Event* out, int64_t* end = nullptr);

 private:
  void Fill(const Event& event);
  void Serialize(std::string* out);

  v1::Event message_;
};

}  // namespace faultline
