// The CPU extension module fsskernels._C: one registration function per concern.
#include "common.h"

PYBIND11_MODULE(_C, m) {
  m.doc() = "fsskernels CPU kernels: AES PRG, DPF, DCF, ring GEMM, wire packing";
#ifdef FSS_VERSION
  m.attr("__version__") = FSS_VERSION;
#endif
  fss_py::register_fss(m);
  fss_py::register_ring(m);
  fss_py::register_pack(m);
}
