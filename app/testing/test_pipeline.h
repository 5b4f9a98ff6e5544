// A Pipeline wired as in production (EnvelopeParser, the built-in IIS detector) but delivering to
// a FakeSink, for cross-stage tests.
#pragma once

#include <memory>

#include "app/builtin.h"
#include "app/pipeline.h"
#include "ingest/parse/envelope_parser.h"
#include "sinks/testing/fake_sink.h"

namespace faultline {

struct TestPipeline {
  FakeSink* sink = nullptr;  // owned by the pipeline
  std::unique_ptr<Pipeline> pipeline;
};

inline TestPipeline MakeTestPipeline(EnvelopeOptions envelope = {},
                                     size_t max_message_bytes = 1 << 20,
                                     std::unique_ptr<DeadLetters> dead_letters = nullptr) {
  DetectorRegistry registry;
  RegisterBuiltinDetectors(registry);
  std::vector<std::unique_ptr<Detector>> detectors = registry.CreateAll({}).value();
  auto sink = std::make_unique<FakeSink>();
  TestPipeline t{.sink = sink.get()};
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::move(sink));
  t.pipeline =
      std::make_unique<Pipeline>(std::make_unique<EnvelopeParser>(std::move(envelope)),
                                 std::make_unique<Engine>(std::move(detectors)), std::move(sinks),
                                 max_message_bytes, std::move(dead_letters));
  return t;
}

}  // namespace faultline
