// Counts heap allocations made through global operator new, so a benchmark can report
// allocations per event (the steady state of the hot path must make none).
#pragma once

#include <atomic>
#include <cstdint>

namespace faultline::bench {

inline std::atomic<uint64_t> g_allocations{0};
// Heap bytes currently allocated (malloc_usable_size of each live block).
inline std::atomic<int64_t> g_live_bytes{0};

}  // namespace faultline::bench
