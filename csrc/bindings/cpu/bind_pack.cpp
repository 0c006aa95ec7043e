// Python binding of the wire packing: _C.pack_bits(values, bits, out) and
// _C.unpack_bits(buf, bits, out) on C-contiguous 1-D arrays (values/out uint64, buf/out uint8);
// sizes are checked here, the layout is fsskernels/pack.h. Used by mpc/packing.py.
#include "common.h"
#include "fsskernels/pack.h"

namespace fss_py {

namespace {

void check_1d(const py::array& a, const char* name) {
  if (a.ndim() != 1) throw std::invalid_argument(std::string(name) + ": expected a 1-D array");
}

void pack_py(const py::object& values_obj, int bits, const py::object& out_obj) {
  U64Array v = require_u64(values_obj, "values");
  U8Array out = require_u8(out_obj, "out");
  check_1d(v, "values");
  check_1d(out, "out");
  if (!out.writeable()) throw std::invalid_argument("out: array is read-only");
  const size_t n = static_cast<size_t>(v.shape(0));
  if (static_cast<size_t>(out.shape(0)) != fss::packed_nbytes(n, bits))
    throw std::invalid_argument("out: expected " + std::to_string(fss::packed_nbytes(n, bits)) + " bytes");
  py::gil_scoped_release nogil;
  fss::pack_bits(v.data(), n, bits, out.mutable_data());
}

void unpack_py(const py::object& buf_obj, int bits, const py::object& out_obj) {
  U8Array buf = require_u8(buf_obj, "buf");
  U64Array out = require_u64(out_obj, "out");
  check_1d(buf, "buf");
  check_1d(out, "out");
  if (!out.writeable()) throw std::invalid_argument("out: array is read-only");
  const size_t n = static_cast<size_t>(out.shape(0));
  if (static_cast<size_t>(buf.shape(0)) != fss::packed_nbytes(n, bits))
    throw std::invalid_argument("buf: expected " + std::to_string(fss::packed_nbytes(n, bits)) + " bytes for " +
                                std::to_string(n) + " values of " + std::to_string(bits) + " bits");
  py::gil_scoped_release nogil;
  fss::unpack_bits(buf.data(), n, bits, out.mutable_data());
}

}  // namespace

void register_pack(py::module_& m) {
  m.def("pack_bits", &pack_py, py::arg("values"), py::arg("bits"), py::arg("out"),
        "Pack the low `bits` bits of each uint64 value into out (uint8, ceil(n * bits / 8) bytes).");
  m.def("unpack_bits", &unpack_py, py::arg("buf"), py::arg("bits"), py::arg("out"),
        "Inverse of pack_bits: out (uint64, n values) from buf (uint8, ceil(n * bits / 8) bytes).");
}

}  // namespace fss_py
