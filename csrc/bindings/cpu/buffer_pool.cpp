// Pool of large output buffers: see buffer_pool.h.
#include "buffer_pool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <string>

namespace fss_py {
namespace {

constexpr size_t kHuge = size_t(2) << 20;

size_t default_cap() {
  if (const char* env = std::getenv("FSS_BUFFER_POOL_BYTES")) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(env, &end, 10);
    if (end != env && *end == '\0') return static_cast<size_t>(v);
  }
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  const size_t quarter = pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) / 4 : 0;
  const size_t eight = size_t(8) << 30;
  return quarter < eight ? quarter : eight;
}

size_t size_class(size_t bytes) {
  size_t r = (bytes + kHuge - 1) / kHuge * kHuge;
  size_t e = kHuge;  // the largest power of two with 4 * e <= r, then m * e >= r for m in 4..8
  while (e * 8 <= r) e <<= 1;
  for (size_t m = 4; m <= 8; ++m)
    if (m * e >= r) return (m * e + kHuge - 1) / kHuge * kHuge;
  return r;
}

struct Pool {
  std::mutex mu;
  std::multimap<size_t, void*> idle;
  size_t idle_bytes = 0, cap = default_cap();
  uint64_t hits = 0, misses = 0;
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: buffers may be freed during interpreter shutdown
  return *p;
}

}  // namespace

void* pool_get(size_t bytes, size_t* class_bytes) {
  const size_t cls = size_class(bytes);
  *class_bytes = cls;
  Pool& P = pool();
  {
    std::lock_guard<std::mutex> g(P.mu);
    auto it = P.idle.find(cls);
    if (it != P.idle.end()) {
      void* p = it->second;
      P.idle.erase(it);
      P.idle_bytes -= cls;
      ++P.hits;
      return p;
    }
    ++P.misses;
  }
  void* p = nullptr;
  if (posix_memalign(&p, kHuge, cls) != 0 || !p) throw std::bad_alloc();
  madvise(p, cls, MADV_HUGEPAGE);  // advisory: ignored where THP is unavailable
  return p;
}

void pool_put(void* p, size_t class_bytes) {
  if (!p) return;
  Pool& P = pool();
  {
    std::lock_guard<std::mutex> g(P.mu);
    if (P.idle_bytes + class_bytes <= P.cap) {
      P.idle.emplace(class_bytes, p);
      P.idle_bytes += class_bytes;
      return;
    }
  }
  std::free(p);
}

PoolStats pool_stats() {
  Pool& P = pool();
  std::lock_guard<std::mutex> g(P.mu);
  return PoolStats{P.idle_bytes, P.cap, P.hits, P.misses};
}

void pool_clear() {
  Pool& P = pool();
  std::multimap<size_t, void*> drop;
  {
    std::lock_guard<std::mutex> g(P.mu);
    drop.swap(P.idle);
    P.idle_bytes = 0;
  }
  for (auto& kv : drop) std::free(kv.second);
}

}  // namespace fss_py
