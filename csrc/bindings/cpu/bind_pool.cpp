// Python bindings of the output-buffer pool (buffer_pool.h): statistics and clearing.
#include "common.h"

namespace fss_py {

void register_pool(py::module_& m) {
  m.def("buffer_pool_stats", []() {
    const PoolStats s = pool_stats();
    py::dict d;
    d["idle_bytes"] = s.idle_bytes;
    d["cap_bytes"] = s.cap_bytes;
    d["hits"] = s.hits;
    d["misses"] = s.misses;
    return d;
  }, "Idle bytes held, the cap (FSS_BUFFER_POOL_BYTES), and pooled allocations served from / not from the pool.");
  m.def("buffer_pool_clear", &pool_clear, "Free every idle pooled buffer.");
}

}  // namespace fss_py
