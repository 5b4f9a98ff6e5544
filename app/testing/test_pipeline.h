// A Pipeline wired as in production (EnvelopeParser, the built-in detectors, a Dispatcher) but
// delivering to a FakeSink, for cross-stage tests. Call pipeline->Drain() before reading the
// sink: delivery happens on the dispatcher's worker thread.
#pragma once

#include <memory>

#include "app/builtin.h"
#include "app/pipeline.h"
#include "gtest/gtest.h"
#include "ingest/parse/envelope_parser.h"
#include "sinks/testing/fake_sink.h"

namespace faultline {

struct TestPipeline {
  FakeSink* sink = nullptr;  // owned by the pipeline
  std::unique_ptr<Pipeline> pipeline;
};

inline TestPipeline MakeTestPipeline(EnvelopeOptions envelope = {},
                                     size_t max_message_bytes = 1 << 20,
                                     std::unique_ptr<RecordOutput> dead_letters = nullptr,
                                     QueueOptions queue = {}, Clock& clock = RealClock::Get(),
                                     EngineOptions engine = {}) {
  DetectorRegistry registry;
  RegisterBuiltinDetectors(registry);
  std::vector<std::unique_ptr<Detector>> detectors = registry.CreateAll({}).value();
  auto sink = std::make_unique<FakeSink>();
  TestPipeline t{.sink = sink.get()};
  std::vector<Dispatcher::Route> routes;
  routes.push_back({.queue = std::move(queue), .type = "fake", .sink = std::move(sink)});
  t.pipeline = std::make_unique<Pipeline>(std::make_unique<EnvelopeParser>(std::move(envelope)),
                                          std::make_unique<Engine>(std::move(detectors), engine),
                                          Dispatcher::Create(std::move(routes), "", clock).value(),
                                          max_message_bytes, std::move(dead_letters), clock);
  EXPECT_TRUE(t.pipeline->Start().ok());
  return t;
}

}  // namespace faultline
