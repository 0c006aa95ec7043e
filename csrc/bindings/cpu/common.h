// Shared helpers of the CPU pybind11 module: argument checks that name the argument.
// C++ std::invalid_argument becomes ValueError (pybind11's default translation);
// std::runtime_error becomes RuntimeError.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>

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

// Registration functions, one per binding file.
void register_fss(py::module_& m);
void register_ring(py::module_& m);

}  // namespace fss_py
