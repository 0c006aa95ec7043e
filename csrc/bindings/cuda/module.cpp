// The CUDA extension module fsskernels._C_cuda: device discovery and raw-pointer entry points
// of fss::cuda (fsskernels/cuda.h). python/fsskernels/_cuda.py takes the pointers from torch
// (data_ptr) / CuPy (__cuda_array_interface__), checks dtypes, devices and sizes, and passes
// the caller's current stream. Every kernel call releases the GIL.
// Errors: std::invalid_argument -> ValueError (message "<argument>: why"), std::runtime_error
// (CUDA faults, message with cudaGetErrorString) -> RuntimeError: pybind11's standard
// translation of these exception types.
// The module imports without a driver or GPU: device_count() is then 0.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "fsskernels/zeroize.h"
#include "fsskernels/cuda.h"
#include "fsskernels/keyformat.h"
#include "../key_info.h"

namespace py = pybind11;

namespace {

using U8Array = py::array_t<uint8_t, py::array::c_style>;
using U64Array = py::array_t<uint64_t, py::array::c_style>;

fss::Scheme scheme_from(const std::string& s) {
  if (s == "dpf") return fss::Scheme::DPF;
  if (s == "dcf") return fss::Scheme::DCF;
  throw std::invalid_argument("scheme: must be 'dpf' or 'dcf', got '" + s + "'");
}

fss::cuda::RingGemmAlgo gemm_algo_from(const std::string& s) {
  if (s == "auto") return fss::cuda::RingGemmAlgo::Auto;
  if (s == "simt") return fss::cuda::RingGemmAlgo::Simt;
  if (s == "imma") return fss::cuda::RingGemmAlgo::Imma;
  throw std::invalid_argument("algo: must be 'auto', 'simt' or 'imma', got '" + s + "'");
}

template <class T>
T* ptr(uintptr_t p) { return reinterpret_cast<T*>(p); }

void* stream_of(uintptr_t s) { return reinterpret_cast<void*>(s); }

// A host copy of the 32 header bytes, or none (the C++ side then copies them from the device).
struct Header32 {
  bool present = false;
  uint8_t b[32] = {0};
  const uint8_t* ptr() const { return present ? b : nullptr; }
};

Header32 header_bytes(const py::object& obj) {
  Header32 h;
  if (obj.is_none()) return h;
  const py::bytes bytes = py::reinterpret_borrow<py::object>(obj);
  char* data = nullptr;
  py::ssize_t len = 0;
  if (PyBytes_AsStringAndSize(bytes.ptr(), &data, &len) != 0) throw py::error_already_set();
  if (len != static_cast<py::ssize_t>(fss::kKeyHeaderSize)) throw std::invalid_argument("keys: header must be 32 bytes");
  std::memcpy(h.b, data, 32);
  h.present = true;
  return h;
}

bool read_seed(const py::object& seed, uint8_t out[16]) {
  if (seed.is_none()) return false;
  std::string s = py::bytes(seed);
  if (s.size() != 16) throw std::invalid_argument("seed: must be 16 bytes");
  std::memcpy(out, s.data(), 16);
  return true;
}

// The header fields as a dict (the keys of fsskernels._C.key_parse) plus the raw bytes.
py::dict header_info(const uint8_t* hdr, size_t len) {
  py::dict d = fss_py::key_header_dict(fss::parse_key_header(hdr, len, false));
  d["header"] = py::bytes(reinterpret_cast<const char*>(hdr), fss::kKeyHeaderSize);
  return d;
}

py::list device_names() {
  py::list l;
  const int n = fss::cuda::device_count();
  for (int i = 0; i < n; ++i) l.append(fss::cuda::device_name(i));
  return l;
}

fss::cuda::GenArgs gen_args(uint64_t alpha, uint64_t beta, bool beta_scalar, uint64_t beta_value, uint64_t count,
                            int bits, int out_bits, uint64_t key0, uint64_t key1, size_t key_len) {
  fss::cuda::GenArgs a;
  a.bits = bits;
  a.out_bits = out_bits;
  a.count = count;
  a.alpha = ptr<const uint64_t>(alpha);
  a.beta = ptr<const uint64_t>(beta);
  a.beta_scalar = beta_scalar;
  a.beta_value = beta_value;
  a.key0 = ptr<uint8_t>(key0);
  a.key1 = ptr<uint8_t>(key1);
  a.key_len = key_len;
  return a;
}

py::tuple gen(const std::string& scheme_name, uint64_t alpha, uint64_t beta, bool beta_scalar, uint64_t beta_value,
              uint64_t count, int bits, int out_bits, const py::object& seed, uint64_t key0, uint64_t key1,
              size_t key_len, int device, uint64_t stream) {
  const fss::Scheme scheme = scheme_from(scheme_name);
  uint8_t seed16[16];
  const bool seeded = read_seed(seed, seed16);
  fss::cuda::GenArgs a = gen_args(alpha, beta, beta_scalar, beta_value, count, bits, out_bits, key0, key1, key_len);
  a.seed16 = seeded ? seed16 : nullptr;
  {
    py::gil_scoped_release nogil;
    fss::cuda::DeviceGuard guard(device);
    if (scheme == fss::Scheme::DPF) fss::cuda::dpf_gen(a, stream_of(stream)); else fss::cuda::dcf_gen(a, stream_of(stream));
  }
  fss::secure_zero(seed16, sizeof(seed16));
  // The header fields the kernel wrote, rebuilt on the host for the Python metadata (the
  // checksum bytes 24..31 are not part of the metadata and stay 0 in this copy).
  uint8_t h[2][32] = {{0}};
  for (int party = 0; party < 2; ++party) {
    const uint32_t magic = fss::kKeyMagic;
    const uint16_t version = fss::kKeyVersion;
    std::memcpy(h[party], &magic, 4);
    std::memcpy(h[party] + 4, &version, 2);
    h[party][6] = static_cast<uint8_t>(scheme);
    h[party][7] = static_cast<uint8_t>(party);
    h[party][8] = static_cast<uint8_t>(bits);
    h[party][9] = static_cast<uint8_t>(out_bits);
    std::memcpy(h[party] + 16, &count, 8);
  }
  return py::make_tuple(header_info(h[0], key_len), header_info(h[1], key_len));
}

void eval(const std::string& scheme_name, int party, uint64_t key, size_t key_len, const py::object& header, uint64_t x,
          uint64_t out, int device, uint64_t stream, bool check) {
  const fss::Scheme scheme = scheme_from(scheme_name);
  const Header32 hdr = header_bytes(header);
  fss::cuda::EvalArgs a;
  a.party = party;
  a.key = ptr<const uint8_t>(key);
  a.key_len = key_len;
  a.host_header = hdr.ptr();
  a.x = ptr<const uint64_t>(x);
  a.out = ptr<uint64_t>(out);
  a.check = check;
  py::gil_scoped_release nogil;
  fss::cuda::DeviceGuard guard(device);
  if (scheme == fss::Scheme::DPF) fss::cuda::dpf_eval(a, stream_of(stream)); else fss::cuda::dcf_eval(a, stream_of(stream));
}

// ------------------------------------------------------------------ host emulation (tests)
py::tuple emulate_gen(const std::string& scheme_name, const U64Array& alpha, const U64Array& beta, bool beta_scalar,
                      int bits, int out_bits, const py::object& seed) {
  const fss::Scheme scheme = scheme_from(scheme_name);
  const uint64_t n = static_cast<uint64_t>(alpha.size());
  if (beta_scalar ? beta.size() != 1 : static_cast<uint64_t>(beta.size()) != n)
    throw std::invalid_argument("beta: expected a scalar or " + std::to_string(n) + " values");
  const size_t len = fss::key_buffer_size(scheme, bits, out_bits, n);
  U8Array k0(static_cast<py::ssize_t>(len)), k1(static_cast<py::ssize_t>(len));
  uint8_t seed16[16];
  const bool seeded = read_seed(seed, seed16);
  fss::cuda::GenArgs a = gen_args(reinterpret_cast<uintptr_t>(alpha.data()), reinterpret_cast<uintptr_t>(beta.data()),
                                  beta_scalar, 0, n, bits, out_bits, reinterpret_cast<uintptr_t>(k0.mutable_data()),
                                  reinterpret_cast<uintptr_t>(k1.mutable_data()), len);
  a.seed16 = seeded ? seed16 : nullptr;
  {
    py::gil_scoped_release nogil;
    if (scheme == fss::Scheme::DPF) fss::cuda::emulate::dpf_gen(a); else fss::cuda::emulate::dcf_gen(a);
  }
  return py::make_tuple(k0, k1);
}

U64Array emulate_eval(const std::string& scheme_name, int party, const U8Array& key, const U64Array& x, bool check) {
  const fss::Scheme scheme = scheme_from(scheme_name);
  const fss::KeyHeader h = fss::parse_key_header(key.data(), static_cast<size_t>(key.size()), false);
  if (static_cast<uint64_t>(x.size()) != h.count) throw std::invalid_argument("x: wrong number of values");
  U64Array out(static_cast<py::ssize_t>(h.count));
  fss::cuda::EvalArgs a;
  a.party = party;
  a.key = key.data();
  a.key_len = static_cast<size_t>(key.size());
  a.x = x.data();
  a.out = out.mutable_data();
  a.check = check;
  py::gil_scoped_release nogil;
  if (scheme == fss::Scheme::DPF) fss::cuda::emulate::dpf_eval(a); else fss::cuda::emulate::dcf_eval(a);
  return out;
}

}  // namespace

PYBIND11_MODULE(_C_cuda, m) {
  m.doc() = "fsskernels CUDA kernels (raw device pointers; use fsskernels._cuda / the public API)";
  m.attr("compiled_archs") = std::string(fss::cuda::compiled_archs());

  m.def("device_count", &fss::cuda::device_count, "Visible CUDA devices (0 without a GPU or driver).");
  m.def("device_names", &device_names, "Names of the visible CUDA devices.");
  m.def("header_info", [](const py::bytes& header, size_t len) {
    const Header32 h = header_bytes(header);
    if (!h.present) throw std::invalid_argument("keys: header must be 32 bytes");
    return header_info(h.b, len);
  }, py::arg("header"), py::arg("length"));

  m.def("gen", &gen, py::arg("scheme"), py::arg("alpha"), py::arg("beta"), py::arg("beta_scalar"),
        py::arg("beta_value"), py::arg("count"), py::arg("bits"), py::arg("out_bits"), py::arg("seed"),
        py::arg("key0"), py::arg("key1"), py::arg("key_len"), py::arg("device"), py::arg("stream"),
        "Gen on device pointers; returns the two header dicts (see fsskernels/cuda.h).");
  m.def("eval", &eval, py::arg("scheme"), py::arg("party"), py::arg("key"), py::arg("key_len"), py::arg("header"),
        py::arg("x"), py::arg("out"), py::arg("device"), py::arg("stream"), py::arg("check") = true);
  m.def("eval_all", [](int party, uint64_t key, size_t key_len, const py::object& header, uint64_t out, size_t out_len,
                       int device, uint64_t stream) {
    const Header32 hdr = header_bytes(header);
    py::gil_scoped_release nogil;
    fss::cuda::DeviceGuard guard(device);
    fss::cuda::dpf_eval_all(party, ptr<const uint8_t>(key), key_len, hdr.ptr(),
                            ptr<uint64_t>(out), out_len, stream_of(stream));
  }, py::arg("party"), py::arg("key"), py::arg("key_len"), py::arg("header"), py::arg("out"), py::arg("out_len"),
     py::arg("device"), py::arg("stream"));
  m.def("dpf_lookup", [](int party, uint64_t key, size_t key_len, const py::object& header, uint64_t c, uint64_t tables,
                         size_t ntab, uint64_t out, int device, uint64_t stream) {
    const Header32 hdr = header_bytes(header);
    py::gil_scoped_release nogil;
    fss::cuda::DeviceGuard guard(device);
    fss::cuda::dpf_lookup(party, ptr<const uint8_t>(key), key_len, hdr.ptr(), ptr<const uint64_t>(c),
                          ptr<const uint64_t>(tables), ntab, ptr<uint64_t>(out), stream_of(stream));
  }, py::arg("party"), py::arg("key"), py::arg("key_len"), py::arg("header"), py::arg("c"), py::arg("tables"),
     py::arg("ntab"), py::arg("out"), py::arg("device"), py::arg("stream"),
     "Fused DPF table lookup on device pointers: out (ntab x count) (see fsskernels/cuda.h).");
  m.def("prg_hash", [](uint64_t in, uint64_t out, size_t n, uint64_t tweak, int device, uint64_t stream) {
    py::gil_scoped_release nogil;
    fss::cuda::DeviceGuard guard(device);
    fss::cuda::prg_hash(ptr<const void>(in), ptr<void>(out), n, tweak, stream_of(stream));
  }, py::arg("blocks"), py::arg("out"), py::arg("n"), py::arg("tweak"), py::arg("device"), py::arg("stream"));
  m.def("ring_matmul", [](uint64_t a, uint64_t b, uint64_t c, size_t batch, size_t mm, size_t k, size_t n,
                          size_t a_stride, size_t b_stride, int device, uint64_t stream, const std::string& algo) {
    const fss::cuda::RingGemmAlgo al = gemm_algo_from(algo);
    fss::RingGemmArgs g;
    g.batch = batch;
    g.m = mm;
    g.k = k;
    g.n = n;
    g.a = ptr<const uint64_t>(a);
    g.b = ptr<const uint64_t>(b);
    g.c = ptr<uint64_t>(c);
    g.a_batch_stride = a_stride;
    g.b_batch_stride = b_stride;
    py::gil_scoped_release nogil;
    fss::cuda::DeviceGuard guard(device);
    fss::cuda::ring_matmul(g, stream_of(stream), al);
  }, py::arg("a"), py::arg("b"), py::arg("c"), py::arg("batch"), py::arg("m"), py::arg("k"), py::arg("n"),
     py::arg("a_batch_stride"), py::arg("b_batch_stride"), py::arg("device"), py::arg("stream"),
     py::arg("algo") = "auto",
     "c[i] = a[i] @ b[i] mod 2^64 on device pointers (fss::RingGemmArgs semantics); algo 'auto', 'simt' "
     "or 'imma' (integer tensor cores, compute capability >= 8.0).");
  m.def("download_keys", [](uint64_t key, size_t len, int device, uint64_t stream) {
    U8Array out(static_cast<py::ssize_t>(len));
    uint8_t* dst = out.mutable_data();
    {
      py::gil_scoped_release nogil;
      fss::cuda::DeviceGuard guard(device);
      fss::cuda::download_keys(ptr<const uint8_t>(key), len, dst, stream_of(stream));
    }
    return out;
  }, py::arg("key"), py::arg("len"), py::arg("device"), py::arg("stream"),
     "Copies a device key batch to a new numpy uint8 array.");
  // Host emulation of the kernels' per-thread code (tests without a GPU).
  m.def("_emulate_gen", &emulate_gen, py::arg("scheme"), py::arg("alpha"), py::arg("beta"), py::arg("beta_scalar"),
        py::arg("bits"), py::arg("out_bits"), py::arg("seed") = py::none());
  m.def("_emulate_eval", &emulate_eval, py::arg("scheme"), py::arg("party"), py::arg("keys"), py::arg("x"),
        py::arg("check") = true);
  m.def("_emulate_eval_all", [](int party, const U8Array& key) {
    const fss::KeyHeader h = fss::parse_key_header(key.data(), static_cast<size_t>(key.size()), false);
    if (h.bits > 24) throw std::invalid_argument("bits: full-domain evaluation needs bits <= 24");
    const uint64_t dom = uint64_t(1) << h.bits;
    U64Array out({static_cast<py::ssize_t>(h.count), static_cast<py::ssize_t>(dom)});
    uint64_t* dst = out.mutable_data();
    py::gil_scoped_release nogil;
    fss::cuda::emulate::dpf_eval_all(party, key.data(), static_cast<size_t>(key.size()), dst, h.count * dom);
    return out;
  }, py::arg("party"), py::arg("keys"));
  m.def("_emulate_ring_matmul_imma", [](const U64Array& a, const U64Array& b, uint64_t flush_tiles) {
    // a: (batch, m, k), b: (batch, k, n) or (1, k, n) (broadcast); returns (batch, m, n).
    if (a.ndim() != 3) throw std::invalid_argument("a: expected shape (batch, m, k)");
    if (b.ndim() != 3) throw std::invalid_argument("b: expected shape (batch, k, n) or (1, k, n)");
    const size_t batch = static_cast<size_t>(a.shape(0)), mm = static_cast<size_t>(a.shape(1)),
                 k = static_cast<size_t>(a.shape(2)), n = static_cast<size_t>(b.shape(2));
    if (static_cast<size_t>(b.shape(1)) != k) throw std::invalid_argument("b: has " + std::to_string(b.shape(1)) +
                                                                          " rows but a has k=" + std::to_string(k));
    if (b.shape(0) != 1 && static_cast<size_t>(b.shape(0)) != batch)
      throw std::invalid_argument("b: batch must be 1 or that of a");
    U64Array out({static_cast<py::ssize_t>(batch), static_cast<py::ssize_t>(mm), static_cast<py::ssize_t>(n)});
    fss::RingGemmArgs g;
    g.batch = batch;
    g.m = mm;
    g.k = k;
    g.n = n;
    g.a = a.data();
    g.b = b.data();
    g.c = out.mutable_data();
    g.a_batch_stride = mm * k;
    g.b_batch_stride = b.shape(0) == 1 ? 0 : k * n;
    py::gil_scoped_release nogil;
    fss::cuda::emulate::ring_matmul_imma(g, flush_tiles);
    return out;
  }, py::arg("a"), py::arg("b"), py::arg("flush_tiles") = 0,
     "The Imma ring GEMM kernel run on the host (tests without a GPU).");
  m.def("_emulate_dpf_lookup", [](int party, const U8Array& key, const U64Array& c, const U64Array& tables) {
    const fss::KeyHeader h = fss::parse_key_header(key.data(), static_cast<size_t>(key.size()), false);
    if (static_cast<uint64_t>(c.size()) != h.count) throw std::invalid_argument("x: wrong number of values");
    if (tables.ndim() != 2) throw std::invalid_argument("tables: expected shape (ntab, 2^bits)");
    if (h.bits <= 16 && static_cast<uint64_t>(tables.shape(1)) != (uint64_t(1) << h.bits))
      throw std::invalid_argument("tables: expected 2^bits columns");
    const size_t ntab = static_cast<size_t>(tables.shape(0));
    U64Array out({static_cast<py::ssize_t>(ntab), static_cast<py::ssize_t>(h.count)});
    uint64_t* dst = out.mutable_data();
    py::gil_scoped_release nogil;
    fss::cuda::emulate::dpf_lookup(party, key.data(), static_cast<size_t>(key.size()), c.data(), tables.data(), ntab,
                                   dst);
    return out;
  }, py::arg("party"), py::arg("keys"), py::arg("c"), py::arg("tables"));
  m.def("_emulate_prg_hash", [](const U8Array& blocks, uint64_t tweak) {
    if (blocks.ndim() != 2 || blocks.shape(1) != 16) throw std::invalid_argument("blocks: expected shape (n, 16)");
    const size_t n = static_cast<size_t>(blocks.shape(0));
    // Copy into 16-byte aligned storage (uint4 accesses).
    U64Array in(static_cast<py::ssize_t>(2 * n)), out(static_cast<py::ssize_t>(2 * n));
    std::memcpy(in.mutable_data(), blocks.data(), 16 * n);
    fss::cuda::emulate::prg_hash(in.data(), out.mutable_data(), n, tweak);
    U8Array res({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(16)});
    std::memcpy(res.mutable_data(), out.data(), 16 * n);
    return res;
  }, py::arg("blocks"), py::arg("tweak") = 0);
}
