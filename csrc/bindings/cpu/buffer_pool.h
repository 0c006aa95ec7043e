// A process-wide pool of large, 2 MiB-aligned buffers for the Python module's kernel outputs
// (key batches, shares). The two-party runtime makes and drops gigabytes of such buffers per
// training step; fresh memory costs a page fault per 4 KiB (or a synchronous compaction per
// 2 MiB huge page), which on the development VM made one 1.4 GB key batch take 1-10 s
// instead of 0.2 s. Freed buffers go back to the pool (secret ones erased first by their
// owner) and are handed out again for a request of the same size class.
//
// Size classes: the request rounded up to 2 MiB, then to the next m * 2^e with m in {4,5,6,7}
// (at most 25% over). The pool keeps at most FSS_BUFFER_POOL_BYTES bytes of idle buffers
// (environment variable, read once; default min(8 GiB, a quarter of physical memory); 0 turns
// the pool off); beyond that, freed buffers go back to the system. Thread-safe.
#pragma once
#include <cstddef>
#include <cstdint>

namespace fss_py {

struct PoolStats {
  uint64_t idle_bytes, cap_bytes, hits, misses;
};

// A buffer of at least `bytes` bytes (bytes >= 4 MiB), 2 MiB-aligned and advised as
// transparent huge pages; *class_bytes receives its real size (pass it back to pool_put).
void* pool_get(size_t bytes, size_t* class_bytes);
// Returns a buffer from pool_get (the caller erases secret contents first).
void pool_put(void* p, size_t class_bytes);
PoolStats pool_stats();
// Frees every idle buffer.
void pool_clear();

}  // namespace fss_py
