// Shared helpers of the CPU pybind11 module: argument checks that name the argument.
// C++ std::invalid_argument becomes ValueError (pybind11's default translation);
// std::runtime_error becomes RuntimeError.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>
#include <stdexcept>
#include <string>

#include "buffer_pool.h"
#include "fsskernels/zeroize.h"

namespace fss_py {
namespace py = pybind11;

using U64Array = py::array_t<uint64_t, py::array::c_style>;

// Outputs this large come from the buffer pool.
constexpr size_t kPooledBytes = size_t(4) << 20;

// The owner of an output buffer: erased first if secret, then pooled or freed.
struct PooledBuffer {
  void* p;
  size_t n;
  bool secret;
  bool pooled = true;
};

inline void release_pooled(void* q) {
  PooledBuffer* b = static_cast<PooledBuffer*>(q);
  if (b->secret) fss::secure_zero(b->p, b->n);
  if (b->pooled) pool_put(b->p, b->n); else std::free(b->p);
  delete b;
}
using U8Array = py::array_t<uint8_t, py::array::c_style>;

// Requires a C-contiguous numpy array of exactly dtype uint64 (no silent conversion).
inline U64Array require_u64(const py::handle& obj, const char* name) {
  if (!py::isinstance<py::array>(obj)) throw std::invalid_argument(std::string(name) + ": expected a numpy array");
  py::array arr = py::reinterpret_borrow<py::array>(obj);
  if (!arr.dtype().is(py::dtype::of<uint64_t>()))
    throw std::invalid_argument(std::string(name) + ": expected dtype uint64, got " + std::string(py::str(arr.dtype())));
  if (!(arr.flags() & py::array::c_style))
    throw std::invalid_argument(std::string(name) + ": array must be C-contiguous");
  return py::reinterpret_borrow<U64Array>(arr);
}

inline U8Array require_u8(const py::handle& obj, const char* name) {
  if (!py::isinstance<py::array>(obj)) throw std::invalid_argument(std::string(name) + ": expected a numpy array");
  py::array arr = py::reinterpret_borrow<py::array>(obj);
  if (!arr.dtype().is(py::dtype::of<uint8_t>()))
    throw std::invalid_argument(std::string(name) + ": expected dtype uint8, got " + std::string(py::str(arr.dtype())));
  if (!(arr.flags() & py::array::c_style))
    throw std::invalid_argument(std::string(name) + ": array must be C-contiguous");
  return py::reinterpret_borrow<U8Array>(arr);
}

// A new C-contiguous numpy array for large kernel outputs (key batches, shares). Buffers of
// 4 MiB and more come from the buffer pool (buffer_pool.h: 2 MiB-aligned, huge pages, reused
// across calls so the kernels do not fault in fresh memory); the array owns the buffer
// through a capsule that returns it to the pool.
template <class T>
py::array_t<T, py::array::c_style> new_output_array(std::vector<py::ssize_t> shape) {
  size_t count = 1;
  for (py::ssize_t d : shape) count *= static_cast<size_t>(d);
  const size_t bytes = count * sizeof(T);
  if (bytes < kPooledBytes) return py::array_t<T, py::array::c_style>(shape);
  size_t cls = 0;
  void* p = pool_get(bytes, &cls);
  py::capsule owner(new PooledBuffer{p, cls, false}, &release_pooled);
  return py::array_t<T, py::array::c_style>(shape, static_cast<T*>(p), owner);
}

// A new C-contiguous uint8 array for secret key bytes: like new_output_array, but the memory
// is always owned by a capsule that erases it (fss::secure_zero) before it is freed or
// pooled, so key material does not linger in freed memory once the last view of it is gone.
inline py::array_t<uint8_t, py::array::c_style> new_secret_bytes(size_t bytes) {
  const bool pooled = bytes >= kPooledBytes;
  size_t cls = 0;
  void* p = nullptr;
  if (pooled) {
    p = pool_get(bytes, &cls);
  } else {
    cls = bytes == 0 ? 64 : (bytes + 63) / 64 * 64;
    if (posix_memalign(&p, 64, cls) != 0 || !p) throw std::bad_alloc();
  }
  py::capsule owner(new PooledBuffer{p, cls, true, pooled}, &release_pooled);
  return py::array_t<uint8_t, py::array::c_style>({static_cast<py::ssize_t>(bytes)}, static_cast<uint8_t*>(p), owner);
}

// Registration functions, one per binding file.
void register_fss(py::module_& m);
void register_ring(py::module_& m);
void register_pack(py::module_& m);
void register_pool(py::module_& m);

}  // namespace fss_py
