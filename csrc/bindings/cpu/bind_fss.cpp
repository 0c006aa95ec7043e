// Bindings of the AES PRG, DPF, DCF and key-format kernels (module fsskernels._C).
// The Python layer (python/fsskernels/fss.py) converts array kinds; these functions take
// exact dtypes and raise ValueError naming the argument otherwise.
#include <string>

#include "../key_info.h"
#include "common.h"
#include "fsskernels/aes.h"
#include "fsskernels/fss.h"
#include "fsskernels/keyformat.h"
#include "fsskernels/limits.h"

namespace fss_py {
namespace {

fss::Scheme scheme_from(const std::string& s) {
  if (s == "dpf") return fss::Scheme::DPF;
  if (s == "dcf") return fss::Scheme::DCF;
  throw std::invalid_argument("scheme: must be 'dpf' or 'dcf', got '" + s + "'");
}

// Copies a 16-byte seed into out (erasing the temporary copy); false if seed is None.
bool read_seed(const py::object& seed, uint8_t out[16]) {
  if (seed.is_none()) return false;
  std::string s = py::bytes(seed);
  const bool ok = s.size() == 16;
  if (ok) std::memcpy(out, s.data(), 16);
  fss::secure_zero(&s[0], s.size());
  if (!ok) throw std::invalid_argument("seed: must be 16 bytes");
  return true;
}

py::tuple gen(fss::Scheme scheme, const py::object& alpha_obj, const py::object& beta_obj, bool beta_scalar, int bits,
              int out_bits, const py::object& seed) {
  U64Array alpha = require_u64(alpha_obj, "alpha");
  U64Array beta = require_u64(beta_obj, "beta");
  const uint64_t n = static_cast<uint64_t>(alpha.size());
  if (beta_scalar ? beta.size() != 1 : static_cast<uint64_t>(beta.size()) != n)
    throw std::invalid_argument("beta: expected a scalar or " + std::to_string(n) + " values, got " + std::to_string(beta.size()));
  const size_t len = fss::key_buffer_size(scheme, bits, out_bits, n);
  U8Array k0 = new_secret_bytes(len);
  U8Array k1 = new_secret_bytes(len);
  uint8_t seed16[16];
  const bool seeded = read_seed(seed, seed16);
  fss::GenArgs a;
  a.bits = bits; a.out_bits = out_bits; a.count = n;
  a.alpha = alpha.data(); a.beta = beta.data(); a.beta_scalar = beta_scalar;
  a.seed16 = seeded ? seed16 : nullptr;
  a.key0 = k0.mutable_data(); a.key1 = k1.mutable_data(); a.key_len = len;
  {
    py::gil_scoped_release nogil;
    if (scheme == fss::Scheme::DPF) fss::dpf_gen(a); else fss::dcf_gen(a);
  }
  fss::secure_zero(seed16, sizeof(seed16));
  return py::make_tuple(k0, k1);
}

U64Array eval(fss::Scheme scheme, int party, const py::object& key_obj, const py::object& x_obj) {
  U8Array key = require_u8(key_obj, "keys");
  U64Array x = require_u64(x_obj, "x");
  const fss::KeyHeader h = fss::parse_key_header(key.data(), static_cast<size_t>(key.size()), false);
  if (static_cast<uint64_t>(x.size()) != h.count)
    throw std::invalid_argument("x: has " + std::to_string(x.size()) + " values but there are " + std::to_string(h.count) + " keys");
  U64Array out = new_output_array<uint64_t>({static_cast<py::ssize_t>(h.count)});
  fss::EvalArgs a;
  a.party = party; a.key = key.data(); a.key_len = static_cast<size_t>(key.size());
  a.x = x.data(); a.out = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    if (scheme == fss::Scheme::DPF) fss::dpf_eval(a); else fss::dcf_eval(a);
  }
  return out;
}


}  // namespace

void register_fss(py::module_& m) {
  m.def("dpf_gen", [](py::object al, py::object be, bool bs, int bits, int ob, py::object seed) {
    return gen(fss::Scheme::DPF, al, be, bs, bits, ob, seed);
  }, py::arg("alpha"), py::arg("beta"), py::arg("beta_scalar"), py::arg("bits"), py::arg("out_bits"), py::arg("seed") = py::none());
  m.def("dcf_gen", [](py::object al, py::object be, bool bs, int bits, int ob, py::object seed) {
    return gen(fss::Scheme::DCF, al, be, bs, bits, ob, seed);
  }, py::arg("alpha"), py::arg("beta"), py::arg("beta_scalar"), py::arg("bits"), py::arg("out_bits"), py::arg("seed") = py::none());
  m.def("dpf_eval", [](int party, py::object k, py::object x) { return eval(fss::Scheme::DPF, party, k, x); },
        py::arg("party"), py::arg("keys"), py::arg("x"));
  m.def("dcf_eval", [](int party, py::object k, py::object x) { return eval(fss::Scheme::DCF, party, k, x); },
        py::arg("party"), py::arg("keys"), py::arg("x"));
  m.def("dpf_eval_all", [](int party, py::object key_obj) {
    U8Array key = require_u8(key_obj, "keys");
    const fss::KeyHeader h = fss::parse_key_header(key.data(), static_cast<size_t>(key.size()), false);
    if (h.bits > 24) throw std::invalid_argument("bits: full-domain evaluation needs bits <= 24, got " + std::to_string(h.bits));
    const uint64_t dom = uint64_t(1) << h.bits;
    fss::checked_buffer_bytes(h.count, dom * sizeof(uint64_t), "keys");  // output bytes <= 2^40
    U64Array out = new_output_array<uint64_t>({static_cast<py::ssize_t>(h.count), static_cast<py::ssize_t>(dom)});
    {
      py::gil_scoped_release nogil;
      fss::dpf_eval_all(party, key.data(), static_cast<size_t>(key.size()), out.mutable_data(), h.count * dom);
    }
    return out;
  }, py::arg("party"), py::arg("keys"));
  m.def("dpf_lookup", [](int party, py::object key_obj, py::object c_obj, py::object tables_obj) {
    U8Array key = require_u8(key_obj, "keys");
    U64Array c = require_u64(c_obj, "x");
    U64Array tables = require_u64(tables_obj, "tables");
    const fss::KeyHeader h = fss::parse_key_header(key.data(), static_cast<size_t>(key.size()), false);
    if (h.bits > 16) throw std::invalid_argument("bits: table lookups need bits <= 16, got " + std::to_string(h.bits));
    if (static_cast<uint64_t>(c.size()) != h.count)
      throw std::invalid_argument("x: has " + std::to_string(c.size()) + " values but there are " +
                                  std::to_string(h.count) + " keys");
    const uint64_t dom = uint64_t(1) << h.bits;
    if (tables.ndim() != 2 || static_cast<uint64_t>(tables.shape(1)) != dom || tables.shape(0) < 1 || tables.shape(0) > 64)
      throw std::invalid_argument("tables: expected shape (1..64, " + std::to_string(dom) + ")");
    const size_t ntab = static_cast<size_t>(tables.shape(0));
    fss::checked_buffer_bytes(h.count, ntab * sizeof(uint64_t), "x");
    U64Array out = new_output_array<uint64_t>({static_cast<py::ssize_t>(ntab), static_cast<py::ssize_t>(h.count)});
    {
      py::gil_scoped_release nogil;
      fss::dpf_lookup(party, key.data(), static_cast<size_t>(key.size()), c.data(), tables.data(), ntab,
                      out.mutable_data());
    }
    return out;
  }, py::arg("party"), py::arg("keys"), py::arg("x"), py::arg("tables"));
  m.def("key_parse", [](py::object key_obj, bool full) {
    U8Array key = require_u8(key_obj, "keys");
    return key_header_dict(fss::parse_key_header(key.data(), static_cast<size_t>(key.size()), full));
  }, py::arg("keys"), py::arg("full"));
  m.def("key_slice", [](py::object key_obj, uint64_t start, uint64_t n) {
    U8Array key = require_u8(key_obj, "keys");
    const fss::KeyHeader h = fss::parse_key_header(key.data(), static_cast<size_t>(key.size()), false);
    const size_t len = fss::key_buffer_size(h.scheme, h.bits, h.out_bits, n);
    U8Array out = new_secret_bytes(len);
    fss::slice_keys(key.data(), static_cast<size_t>(key.size()), start, n, out.mutable_data(), len);
    return out;
  }, py::arg("keys"), py::arg("start"), py::arg("n"));
  m.def("key_copy", [](py::object data_obj) {
    // A copy of serialized key bytes in an erase-on-free buffer (KeyBatch.from_bytes, .to("cpu")).
    U8Array data = require_u8(data_obj, "keys");
    if (data.ndim() != 1) throw std::invalid_argument("keys: expected a 1-D uint8 array or bytes");
    const size_t n = static_cast<size_t>(data.size());
    if (n > fss::kMaxBufferBytes) throw std::invalid_argument("keys: larger than the 2^40-byte limit");
    U8Array out = new_secret_bytes(n);
    if (n) std::memcpy(out.mutable_data(), data.data(), n);
    return out;
  }, py::arg("keys"));
  m.def("key_buffer_size", [](const std::string& scheme, int bits, int out_bits, uint64_t count) {
    return fss::key_buffer_size(scheme_from(scheme), bits, out_bits, count);
  }, py::arg("scheme"), py::arg("bits"), py::arg("out_bits"), py::arg("count"));
  m.def("key_size", [](const std::string& scheme, int bits, int out_bits) {
    return fss::key_layout(scheme_from(scheme), bits, out_bits).bytes_per_key;
  }, py::arg("scheme"), py::arg("bits"), py::arg("out_bits"));
  m.def("fsk_checksum", [](py::bytes data) {
    std::string s = data;
    return fss::fsk_checksum(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }, py::arg("data"));

  m.def("prg_hash", [](py::object blocks_obj, uint64_t tweak, py::object out_obj) {
    U8Array in = require_u8(blocks_obj, "blocks");
    if (in.ndim() != 2 || in.shape(1) != 16) throw std::invalid_argument("blocks: expected shape (n, 16)");
    const size_t n = static_cast<size_t>(in.shape(0));
    U8Array out = out_obj.is_none() ? U8Array({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(16)})
                                    : require_u8(out_obj, "out");
    if (out.ndim() != 2 || out.shape(0) != in.shape(0) || out.shape(1) != 16)
      throw std::invalid_argument("out: expected shape (n, 16) like blocks");
    if (!out.writeable()) throw std::invalid_argument("out: array is read-only");
    const uint8_t* ip = in.data();
    uint8_t* op = out.mutable_data();
    if (n && ip != op && ip < op + 16 * n && op < ip + 16 * n)
      throw std::invalid_argument("out: overlaps blocks (only exact aliasing is allowed)");
    {
      py::gil_scoped_release nogil;
      fss::prg_hash(reinterpret_cast<const fss::Block*>(ip), reinterpret_cast<fss::Block*>(op), n, tweak);
    }
    return out;
  }, py::arg("blocks"), py::arg("tweak") = 0, py::arg("out") = py::none());
  m.def("aes_ctr", [](py::bytes key, uint64_t start, uint64_t nblocks) {
    std::string k = key;
    if (k.size() != 16) {
      fss::secure_zero(&k[0], k.size());
      throw std::invalid_argument("key: must be 16 bytes");
    }
    uint8_t k16[16];
    std::memcpy(k16, k.data(), 16);
    fss::secure_zero(&k[0], k.size());
    const size_t bytes = fss::checked_buffer_bytes(nblocks, 16, "nblocks");  // no wrap of nblocks * 16
    U8Array out(static_cast<py::ssize_t>(bytes));
    {
      py::gil_scoped_release nogil;
      fss::aes_ctr(k16, start, reinterpret_cast<fss::Block*>(out.mutable_data()), nblocks);
    }
    fss::secure_zero(k16, sizeof(k16));
    return out;
  }, py::arg("key"), py::arg("start"), py::arg("nblocks"));
  m.def("os_random_bytes16", []() {
    uint8_t k[16];
    fss::os_random_key(k);
    return py::bytes(reinterpret_cast<const char*>(k), 16);
  });
  m.def("aes_path", []() { return std::string(fss::aes_path_name(fss::aes_path())); });
  m.def("available_aes_paths", []() {
    py::list l;
    for (auto p : {fss::AesPath::Portable, fss::AesPath::AesNi, fss::AesPath::Vaes256, fss::AesPath::Vaes})
      if (fss::aes_path_supported(p)) l.append(fss::aes_path_name(p));
    return l;
  });
  m.def("set_aes_path", [](const std::string& name) {
    for (auto p : {fss::AesPath::Portable, fss::AesPath::AesNi, fss::AesPath::Vaes256, fss::AesPath::Vaes})
      if (name == fss::aes_path_name(p)) return fss::set_aes_path(p);
    throw std::invalid_argument("path: unknown AES path '" + name + "' (portable, aes-ni, vaes)");
  }, py::arg("path"));
  m.def("set_num_threads", &fss::set_num_threads, py::arg("n"));
  m.def("max_num_threads", &fss::max_num_threads);
  m.attr("MAX_BUFFER_BYTES") = fss::kMaxBufferBytes;
  m.def("get_num_threads", &fss::num_threads);
}

}  // namespace fss_py
