// Python binding of the ring GEMM: _C.ring_matmul(a, b, out) on C-contiguous uint64 arrays
// a (batch, m, k), b (batch or 1, k, n), out (batch, m, n). Broadcasting of leading dims and
// dtype conversion happen in python/fsskernels/ring.py; b with leading dim 1 is broadcast.
#include "common.h"
#include "fsskernels/ring.h"

namespace fss_py {

namespace {

void ring_matmul_py(const py::object& a_obj, const py::object& b_obj, const py::object& out_obj) {
  U64Array a = require_u64(a_obj, "a");
  U64Array b = require_u64(b_obj, "b");
  U64Array out = require_u64(out_obj, "out");
  if (a.ndim() != 3) throw std::invalid_argument("a: expected 3 dims (batch, m, k), got " + std::to_string(a.ndim()));
  if (b.ndim() != 3) throw std::invalid_argument("b: expected 3 dims (batch, k, n), got " + std::to_string(b.ndim()));
  if (out.ndim() != 3)
    throw std::invalid_argument("out: expected 3 dims (batch, m, n), got " + std::to_string(out.ndim()));
  if (!out.writeable()) throw std::invalid_argument("out: array is read-only");
  const size_t batch = static_cast<size_t>(a.shape(0)), m = static_cast<size_t>(a.shape(1)),
               k = static_cast<size_t>(a.shape(2));
  const size_t bb = static_cast<size_t>(b.shape(0)), n = static_cast<size_t>(b.shape(2));
  if (static_cast<size_t>(b.shape(1)) != k)
    throw std::invalid_argument("b: inner dimensions do not match: a has k=" + std::to_string(k) + ", b has k=" +
                                std::to_string(b.shape(1)));
  if (bb != batch && bb != 1)
    throw std::invalid_argument("b: batch " + std::to_string(bb) + " must be 1 or match a's batch " +
                                std::to_string(batch));
  if (static_cast<size_t>(out.shape(0)) != batch || static_cast<size_t>(out.shape(1)) != m ||
      static_cast<size_t>(out.shape(2)) != n)
    throw std::invalid_argument("out: expected shape (" + std::to_string(batch) + ", " + std::to_string(m) + ", " +
                                std::to_string(n) + ")");
  fss::RingGemmArgs g;
  g.batch = batch;
  g.m = m;
  g.k = k;
  g.n = n;
  g.a = a.data();
  g.b = b.data();
  g.c = out.mutable_data();
  g.a_batch_stride = m * k;
  g.b_batch_stride = bb == 1 ? 0 : k * n;
  py::gil_scoped_release release;
  fss::ring_matmul(g);
}

}  // namespace

void register_ring(py::module_& m) {
  m.def("ring_matmul", &ring_matmul_py, py::arg("a"), py::arg("b"), py::arg("out"),
        "out[i] = a[i] @ b[i or 0] mod 2^64 for C-contiguous uint64 arrays a (batch, m, k), b (batch or 1, k, n), "
        "out (batch, m, n); out must not overlap a or b.");
}

}  // namespace fss_py
