// Counts heap allocations made through global operator new, so a benchmark can report
// allocations per event (the steady state of the hot path must make none).
#pragma once

#include <atomic>
#include <cstdint>

namespace faultline::bench {

inline std::atomic<uint64_t> g_allocations{0};

}  // namespace faultline::bench
