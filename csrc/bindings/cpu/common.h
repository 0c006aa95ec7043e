// Shared helpers of the CPU pybind11 module: argument checks that name the argument.
// C++ std::invalid_argument becomes ValueError (pybind11's default translation);
// std::runtime_error becomes RuntimeError.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>
#include <stdexcept>
#include <string>

#include "fsskernels/zeroize.h"

namespace fss_py {
namespace py = pybind11;

using U64Array = py::array_t<uint64_t, py::array::c_style>;
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
// 4 MiB and more are 2 MiB-aligned and advised as transparent huge pages, so the kernels
// do not pay one page fault per 4 KiB of fresh memory (costly in VMs); the array owns the
// memory through a capsule.
template <class T>
py::array_t<T, py::array::c_style> new_output_array(std::vector<py::ssize_t> shape) {
  size_t count = 1;
  for (py::ssize_t d : shape) count *= static_cast<size_t>(d);
  const size_t bytes = count * sizeof(T);
  constexpr size_t kHuge = size_t(2) << 20;
  if (bytes < 2 * kHuge) return py::array_t<T, py::array::c_style>(shape);
  void* p = nullptr;
  const size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
  if (posix_memalign(&p, kHuge, rounded) != 0 || !p) throw std::bad_alloc();
  madvise(p, rounded, MADV_HUGEPAGE);  // advisory: ignored where THP is unavailable
  py::capsule owner(p, [](void* q) { std::free(q); });
  return py::array_t<T, py::array::c_style>(shape, static_cast<T*>(p), owner);
}

// A new C-contiguous uint8 array for secret key bytes: like new_output_array, but the memory
// is always owned by a capsule that erases it (fss::secure_zero) before freeing, so key
// material does not linger in freed heap memory once the last view of it is gone.
inline py::array_t<uint8_t, py::array::c_style> new_secret_bytes(size_t bytes) {
  struct Owned {
    void* p;
    size_t n;
  };
  constexpr size_t kHuge = size_t(2) << 20;
  const bool huge = bytes >= 2 * kHuge;
  const size_t align = huge ? kHuge : 64;
  const size_t rounded = bytes == 0 ? align : (bytes + align - 1) / align * align;
  void* p = nullptr;
  if (posix_memalign(&p, align, rounded) != 0 || !p) throw std::bad_alloc();
  if (huge) madvise(p, rounded, MADV_HUGEPAGE);
  Owned* o = new Owned{p, rounded};
  py::capsule owner(o, [](void* q) {
    Owned* w = static_cast<Owned*>(q);
    fss::secure_zero(w->p, w->n);
    std::free(w->p);
    delete w;
  });
  return py::array_t<uint8_t, py::array::c_style>({static_cast<py::ssize_t>(bytes)}, static_cast<uint8_t*>(p), owner);
}

// Registration functions, one per binding file.
void register_fss(py::module_& m);
void register_ring(py::module_& m);
void register_pack(py::module_& m);

}  // namespace fss_py
