#include "bench/alloc_counter.h"

#include <malloc.h>

#include <cstdlib>
#include <new>

void* operator new(std::size_t n) {
  faultline::bench::g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) {
    faultline::bench::g_live_bytes.fetch_add(static_cast<int64_t>(malloc_usable_size(p)),
                                             std::memory_order_relaxed);
    return p;
  }
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  faultline::bench::g_live_bytes.fetch_sub(static_cast<int64_t>(malloc_usable_size(p)),
                                           std::memory_order_relaxed);
  std::free(p);
}
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { operator delete(p); }
