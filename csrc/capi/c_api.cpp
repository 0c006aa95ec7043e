// The C API (fsskernels/c_api.h): argument checks, then the C++ kernels; every exception is
// caught here and turned into a status code plus a thread-local message.
#include "fsskernels/c_api.h"

#include <cstdint>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "fsskernels/aes.h"
#include "fsskernels/block.h"
#include "fsskernels/fss.h"
#include "fsskernels/keyformat.h"
#include "fsskernels/ring.h"
#include "fsskernels/version.h"

namespace {

thread_local std::string g_last_error;

// A failure detected by the C API's own checks (status chosen here).
struct CApiError {
  int status;
  std::string message;
};

[[noreturn]] void fail(int status, std::string message) { throw CApiError{status, std::move(message)}; }

void set_error(const char* fn, const std::string& msg) noexcept {
  try {
    g_last_error.assign(fn);
    g_last_error.append(": ");
    g_last_error.append(msg);
  } catch (...) {
    g_last_error.clear();  // cannot allocate a message: leave it empty, the code still says why
  }
}

bool starts_with(const char* s, const char* prefix) { return std::strncmp(s, prefix, std::strlen(prefix)) == 0; }

// Runs body() and converts every outcome into a status code. Nothing escapes.
template <class F>
int guarded(const char* fn, F&& body) noexcept {
  g_last_error.clear();  // clear() never allocates nor throws
  try {
    body();
    return FSS_OK;
  } catch (const CApiError& e) {
    set_error(fn, e.message);
    return e.status;
  } catch (const std::bad_alloc&) {
    set_error(fn, "out of memory");
    return FSS_ERR_ALLOC;
  } catch (const std::invalid_argument& e) {
    set_error(fn, e.what());
    return starts_with(e.what(), "keys:") ? FSS_ERR_CORRUPT_KEY : FSS_ERR_INVALID_ARGUMENT;
  } catch (const std::length_error& e) {
    set_error(fn, e.what());
    return FSS_ERR_INVALID_ARGUMENT;
  } catch (const std::out_of_range& e) {
    set_error(fn, e.what());
    return FSS_ERR_INVALID_ARGUMENT;
  } catch (const std::exception& e) {
    set_error(fn, e.what());
    return std::strstr(e.what(), "out of memory") ? FSS_ERR_ALLOC : FSS_ERR_RUNTIME;
  } catch (...) {
    set_error(fn, "unknown internal error");
    return FSS_ERR_RUNTIME;
  }
}

void check_width(const char* name, int v) {
  if (v < 1 || v > 64)
    fail(FSS_ERR_UNSUPPORTED, std::string(name) + ": must be in 1..64, got " + std::to_string(v));
}

fss::Scheme check_scheme(int scheme) {
  if (scheme == FSS_SCHEME_DPF) return fss::Scheme::DPF;
  if (scheme == FSS_SCHEME_DCF) return fss::Scheme::DCF;
  fail(FSS_ERR_INVALID_ARGUMENT, "scheme: must be FSS_SCHEME_DPF (1) or FSS_SCHEME_DCF (2), got " + std::to_string(scheme));
}

const char* scheme_name(fss::Scheme s) { return s == fss::Scheme::DPF ? "DPF" : "DCF"; }

// Do the byte ranges [p, p + np) and [q, q + nq) overlap? (Empty ranges never do.)
bool overlaps(const void* p, size_t np, const void* q, size_t nq) {
  if (!p || !q || !np || !nq) return false;
  const auto a = reinterpret_cast<uintptr_t>(p), b = reinterpret_cast<uintptr_t>(q);
  return a < b + nq && b < a + np;
}

size_t checked_mul(size_t a, size_t b, const char* name) {
  size_t r;
  if (__builtin_mul_overflow(a, b, &r)) fail(FSS_ERR_INVALID_ARGUMENT, std::string(name) + ": size overflows size_t");
  return r;
}

void check_party(int party) {
  if (party != 0 && party != 1) fail(FSS_ERR_INVALID_ARGUMENT, "party: must be 0 or 1, got " + std::to_string(party));
}

// Full validation of a key batch for use by `party` with `scheme` (CORRUPT_KEY / INVALID_ARGUMENT).
fss::KeyHeader check_keys(const uint8_t* key, size_t key_len, fss::Scheme scheme, int party) {
  check_party(party);
  if (!key) fail(FSS_ERR_INVALID_ARGUMENT, "key: null pointer");
  const fss::KeyHeader h = fss::parse_key_header(key, key_len, /*full=*/true);
  if (h.scheme != scheme)
    fail(FSS_ERR_INVALID_ARGUMENT,
         std::string("key: holds ") + scheme_name(h.scheme) + " keys, expected " + scheme_name(scheme) + " keys");
  if (h.party != party)
    fail(FSS_ERR_INVALID_ARGUMENT, "party: keys belong to party " + std::to_string(h.party) + ", not party " +
                                       std::to_string(party));
  return h;
}

int gen(const char* fn, fss::Scheme scheme, int bits, int out_bits, size_t count, const uint64_t* alpha,
        const uint64_t* beta, int beta_is_scalar, const uint8_t* seed16, uint8_t* key0, uint8_t* key1,
        size_t key_len) noexcept {
  return guarded(fn, [&] {
    check_width("bits", bits);
    check_width("out_bits", out_bits);
    if (count && !alpha) fail(FSS_ERR_INVALID_ARGUMENT, "alpha: null pointer");
    if (count && !beta) fail(FSS_ERR_INVALID_ARGUMENT, "beta: null pointer");
    if (!key0) fail(FSS_ERR_INVALID_ARGUMENT, "key0: null pointer");
    if (!key1) fail(FSS_ERR_INVALID_ARGUMENT, "key1: null pointer");
    const size_t want = fss::key_buffer_size(scheme, bits, out_bits, static_cast<uint64_t>(count));
    if (key_len != want)
      fail(FSS_ERR_INVALID_ARGUMENT,
           "key_len: expected " + std::to_string(want) + " bytes, got " + std::to_string(key_len));
    if (overlaps(key0, key_len, key1, key_len)) fail(FSS_ERR_INVALID_ARGUMENT, "key1: overlaps key0");
    const size_t alpha_bytes = count * sizeof(uint64_t);  // count <= 2^48 / key size: no overflow
    const size_t beta_bytes = (beta_is_scalar ? 1 : count) * sizeof(uint64_t);
    for (const uint8_t* k : {key0, key1}) {
      if (overlaps(k, key_len, alpha, alpha_bytes)) fail(FSS_ERR_INVALID_ARGUMENT, "alpha: overlaps a key buffer");
      if (count && overlaps(k, key_len, beta, beta_bytes)) fail(FSS_ERR_INVALID_ARGUMENT, "beta: overlaps a key buffer");
    }
    fss::GenArgs a;
    a.bits = bits;
    a.out_bits = out_bits;
    a.count = static_cast<uint64_t>(count);
    a.alpha = alpha;
    a.beta = beta;
    a.beta_scalar = beta_is_scalar != 0;
    a.seed16 = seed16;
    a.key0 = key0;
    a.key1 = key1;
    a.key_len = key_len;
    if (scheme == fss::Scheme::DPF)
      fss::dpf_gen(a);
    else
      fss::dcf_gen(a);
  });
}

int eval(const char* fn, fss::Scheme scheme, int party, const uint8_t* key, size_t key_len, const uint64_t* x,
         uint64_t* out, size_t count) noexcept {
  return guarded(fn, [&] {
    const fss::KeyHeader h = check_keys(key, key_len, scheme, party);
    if (static_cast<uint64_t>(count) != h.count)
      fail(FSS_ERR_INVALID_ARGUMENT, "count: the key batch holds " + std::to_string(h.count) + " keys, got count " +
                                         std::to_string(count));
    if (count && !x) fail(FSS_ERR_INVALID_ARGUMENT, "x: null pointer");
    if (count && !out) fail(FSS_ERR_INVALID_ARGUMENT, "out: null pointer");
    const size_t bytes = count * sizeof(uint64_t);  // count <= 2^48: no overflow
    if (overlaps(out, bytes, key, key_len)) fail(FSS_ERR_INVALID_ARGUMENT, "out: overlaps key");
    if (overlaps(out, bytes, x, bytes) && static_cast<const void*>(out) != static_cast<const void*>(x))
      fail(FSS_ERR_INVALID_ARGUMENT, "out: partially overlaps x");
    fss::EvalArgs a;
    a.party = party;
    a.key = key;
    a.key_len = key_len;
    a.x = x;
    a.out = out;
    std::vector<uint64_t> x_copy;
    if (count && static_cast<const void*>(out) == static_cast<const void*>(x)) {
      // In place: the kernels read x while writing out, so evaluate from a copy.
      x_copy.assign(x, x + count);
      a.x = x_copy.data();
    }
    if (scheme == fss::Scheme::DPF)
      fss::dpf_eval(a);
    else
      fss::dcf_eval(a);
  });
}

}  // namespace

extern "C" {

const char* fss_version(void) { return FSSKERNELS_VERSION_STRING; }

const char* fss_last_error(void) { return g_last_error.c_str(); }

const char* fss_status_name(int status) {
  switch (status) {
    case FSS_OK: return "FSS_OK";
    case FSS_ERR_INVALID_ARGUMENT: return "FSS_ERR_INVALID_ARGUMENT";
    case FSS_ERR_CORRUPT_KEY: return "FSS_ERR_CORRUPT_KEY";
    case FSS_ERR_UNSUPPORTED: return "FSS_ERR_UNSUPPORTED";
    case FSS_ERR_RUNTIME: return "FSS_ERR_RUNTIME";
    case FSS_ERR_ALLOC: return "FSS_ERR_ALLOC";
    default: return "unknown";
  }
}

const char* fss_aes_path(void) { return fss::aes_path_name(fss::aes_path()); }

int fss_set_aes_path(const char* name) {
  return guarded("fss_set_aes_path", [&] {
    if (!name) fail(FSS_ERR_INVALID_ARGUMENT, "name: null pointer");
    for (fss::AesPath p : {fss::AesPath::Portable, fss::AesPath::AesNi, fss::AesPath::Vaes256, fss::AesPath::Vaes}) {
      if (std::strcmp(name, fss::aes_path_name(p)) != 0) continue;
      if (!fss::aes_path_supported(p))
        fail(FSS_ERR_UNSUPPORTED, std::string("name: AES path '") + name + "' is not supported by this CPU");
      fss::set_aes_path(p);
      return;
    }
    fail(FSS_ERR_INVALID_ARGUMENT, std::string("name: unknown AES path '") + name + "' (vaes, aes-ni, portable)");
  });
}

int fss_set_num_threads(int n) {
  return guarded("fss_set_num_threads", [&] {
    if (n < 1) fail(FSS_ERR_INVALID_ARGUMENT, "n: thread count must be >= 1, got " + std::to_string(n));
    fss::set_num_threads(n);
  });
}

int fss_get_num_threads(void) {
  try {
    return fss::num_threads();
  } catch (...) {
    return 1;
  }
}

int fss_key_buffer_size(int scheme, int bits, int out_bits, size_t count, size_t* out) {
  return guarded("fss_key_buffer_size", [&] {
    if (!out) fail(FSS_ERR_INVALID_ARGUMENT, "out: null pointer");
    const fss::Scheme s = check_scheme(scheme);
    check_width("bits", bits);
    check_width("out_bits", out_bits);
    *out = fss::key_buffer_size(s, bits, out_bits, static_cast<uint64_t>(count));
  });
}

int fss_dpf_gen(int bits, int out_bits, size_t count, const uint64_t* alpha, const uint64_t* beta, int beta_is_scalar,
                const uint8_t* seed16, uint8_t* key0, uint8_t* key1, size_t key_len) {
  return gen("fss_dpf_gen", fss::Scheme::DPF, bits, out_bits, count, alpha, beta, beta_is_scalar, seed16, key0, key1,
             key_len);
}

int fss_dcf_gen(int bits, int out_bits, size_t count, const uint64_t* alpha, const uint64_t* beta, int beta_is_scalar,
                const uint8_t* seed16, uint8_t* key0, uint8_t* key1, size_t key_len) {
  return gen("fss_dcf_gen", fss::Scheme::DCF, bits, out_bits, count, alpha, beta, beta_is_scalar, seed16, key0, key1,
             key_len);
}

int fss_dpf_eval(int party, const uint8_t* key, size_t key_len, const uint64_t* x, uint64_t* out, size_t count) {
  return eval("fss_dpf_eval", fss::Scheme::DPF, party, key, key_len, x, out, count);
}

int fss_dcf_eval(int party, const uint8_t* key, size_t key_len, const uint64_t* x, uint64_t* out, size_t count) {
  return eval("fss_dcf_eval", fss::Scheme::DCF, party, key, key_len, x, out, count);
}

int fss_dpf_eval_all(int party, const uint8_t* key, size_t key_len, uint64_t* out, size_t out_len) {
  return guarded("fss_dpf_eval_all", [&] {
    const fss::KeyHeader h = check_keys(key, key_len, fss::Scheme::DPF, party);
    if (h.bits > 24)
      fail(FSS_ERR_UNSUPPORTED, "bits: full-domain evaluation needs bits <= 24, got " + std::to_string(h.bits));
    const uint64_t want = h.count << h.bits;  // count <= 2^48 / 48 and bits <= 24: no overflow
    if (static_cast<uint64_t>(out_len) != want)
      fail(FSS_ERR_INVALID_ARGUMENT, "out_len: expected count * 2^bits = " + std::to_string(want) + " values, got " +
                                         std::to_string(out_len));
    if (out_len && !out) fail(FSS_ERR_INVALID_ARGUMENT, "out: null pointer");
    if (overlaps(out, checked_mul(out_len, sizeof(uint64_t), "out_len"), key, key_len))
      fail(FSS_ERR_INVALID_ARGUMENT, "out: overlaps key");
    fss::dpf_eval_all(party, key, key_len, out, out_len);
  });
}

int fss_dpf_lookup(int party, const uint8_t* key, size_t key_len, const uint64_t* x, const uint64_t* tables,
                   size_t ntab, uint64_t* out) {
  return guarded("fss_dpf_lookup", [&] {
    const fss::KeyHeader h = check_keys(key, key_len, fss::Scheme::DPF, party);
    if (h.bits > 16) fail(FSS_ERR_UNSUPPORTED, "bits: table lookups need bits <= 16, got " + std::to_string(h.bits));
    if (ntab < 1 || ntab > 64) fail(FSS_ERR_INVALID_ARGUMENT, "ntab: expected 1..64, got " + std::to_string(ntab));
    if (h.count && (!x || !tables || !out)) fail(FSS_ERR_INVALID_ARGUMENT, "x, tables, out: null pointer");
    const size_t out_bytes = checked_mul(checked_mul(static_cast<size_t>(h.count), ntab, "ntab"), sizeof(uint64_t), "ntab");
    if (overlaps(out, out_bytes, key, key_len)) fail(FSS_ERR_INVALID_ARGUMENT, "out: overlaps key");
    fss::dpf_lookup(party, key, key_len, x, tables, ntab, out);
  });
}

int fss_key_validate(const uint8_t* key, size_t key_len, fss_key_info* info) {
  return guarded("fss_key_validate", [&] {
    if (!key) fail(FSS_ERR_INVALID_ARGUMENT, "key: null pointer");
    const fss::KeyHeader h = fss::parse_key_header(key, key_len, /*full=*/true);
    if (info) {
      const fss::KeyLayout lay = fss::key_layout(h.scheme, h.bits, h.out_bits);
      info->scheme = static_cast<int>(h.scheme);
      info->party = h.party;
      info->bits = h.bits;
      info->out_bits = h.out_bits;
      info->count = h.count;
      info->key_size = lay.bytes_per_key;
      info->buffer_size = key_len;
    }
  });
}

int fss_key_slice(const uint8_t* key, size_t key_len, size_t start, size_t n, uint8_t* out, size_t out_len) {
  return guarded("fss_key_slice", [&] {
    if (!key) fail(FSS_ERR_INVALID_ARGUMENT, "key: null pointer");
    if (!out) fail(FSS_ERR_INVALID_ARGUMENT, "out: null pointer");
    // Full validation: slicing rewrites the checksum, which must not launder corrupted bytes.
    const fss::KeyHeader h = fss::parse_key_header(key, key_len, /*full=*/true);
    if (start > h.count || n > h.count - start)
      fail(FSS_ERR_INVALID_ARGUMENT, "start, n: keys [" + std::to_string(start) + ", " + std::to_string(start) + " + " +
                                         std::to_string(n) + ") are outside the batch of " + std::to_string(h.count));
    const size_t want = fss::key_buffer_size(h.scheme, h.bits, h.out_bits, static_cast<uint64_t>(n));
    if (out_len != want)
      fail(FSS_ERR_INVALID_ARGUMENT,
           "out_len: expected " + std::to_string(want) + " bytes, got " + std::to_string(out_len));
    if (overlaps(out, out_len, key, key_len)) fail(FSS_ERR_INVALID_ARGUMENT, "out: overlaps key");
    fss::slice_keys(key, key_len, static_cast<uint64_t>(start), static_cast<uint64_t>(n), out, out_len);
  });
}

int fss_prg_hash(const uint8_t* in, uint8_t* out, size_t n_blocks, uint64_t tweak) {
  return guarded("fss_prg_hash", [&] {
    const size_t bytes = checked_mul(n_blocks, 16, "n_blocks");
    if (bytes && !in) fail(FSS_ERR_INVALID_ARGUMENT, "in: null pointer");
    if (bytes && !out) fail(FSS_ERR_INVALID_ARGUMENT, "out: null pointer");
    if (in != out && overlaps(in, bytes, out, bytes)) fail(FSS_ERR_INVALID_ARGUMENT, "out: partially overlaps in");
    // Through an aligned buffer: callers' byte buffers need not be 16-byte aligned.
    constexpr size_t kChunk = 256;
    fss::Block tmp[kChunk];
    for (size_t i = 0; i < n_blocks; i += kChunk) {
      const size_t m = n_blocks - i < kChunk ? n_blocks - i : kChunk;
      std::memcpy(tmp, in + 16 * i, 16 * m);
      fss::prg_hash(tmp, tmp, m, tweak);
      std::memcpy(out + 16 * i, tmp, 16 * m);
    }
  });
}

int fss_ring_matmul(size_t batch, size_t m, size_t k, size_t n, const uint64_t* a, const uint64_t* b, uint64_t* c,
                    size_t a_batch_stride, size_t b_batch_stride) {
  return guarded("fss_ring_matmul", [&] {
    const bool a_used = batch && m && k, b_used = batch && k && n, c_used = batch && m && n;
    if (a_used && !a) fail(FSS_ERR_INVALID_ARGUMENT, "a: null pointer");
    if (b_used && !b) fail(FSS_ERR_INVALID_ARGUMENT, "b: null pointer");
    if (c_used && !c) fail(FSS_ERR_INVALID_ARGUMENT, "c: null pointer");
    fss::RingGemmArgs g;
    g.batch = batch;
    g.m = m;
    g.k = k;
    g.n = n;
    g.a = a;
    g.b = b;
    g.c = c;
    g.a_batch_stride = a_batch_stride;
    g.b_batch_stride = b_batch_stride;
    fss::ring_matmul(g);  // checks size overflow and overlap (std::invalid_argument)
  });
}

}  // extern "C"
