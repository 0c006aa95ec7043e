// Host-side plumbing of the CUDA backend (see fss_host.cuh).
#include <algorithm>
#include <cstring>
#include <string>

#include "../cpu/aes_internal.h"
#include "fss_host.cuh"
#include "fsskernels/aes.h"
#include "fsskernels/errors.h"

namespace fss {
namespace cuda {
namespace detail {

void check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  (void)cudaGetLastError();  // clear a non-sticky error so later calls start clean
  throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(e) + " (" +
                           cudaGetErrorName(e) + ")");
}

void bad_index(const char* name, uint64_t index, int bits) {
  bad_arg(name, "value at index " + std::to_string(index) + " does not fit in bits=" + std::to_string(bits));
}

void require_device_ptr(const void* p, size_t bytes, size_t align, const char* name) {
  if (!p) {
    if (bytes) bad_arg(name, "null pointer");
    return;
  }
  if (reinterpret_cast<uintptr_t>(p) % align)
    bad_arg(name, "device pointer must be " + std::to_string(align) + "-byte aligned");
  cudaPointerAttributes attr{};
  const cudaError_t e = cudaPointerGetAttributes(&attr, p);
  if (e == cudaErrorInvalidValue) {
    (void)cudaGetLastError();
    bad_arg(name, "is not a CUDA device pointer");
  }
  check(e, "cudaPointerGetAttributes");
  if (attr.type == cudaMemoryTypeManaged) return;
  if (attr.type != cudaMemoryTypeDevice) bad_arg(name, "is not CUDA device memory (host or unregistered pointer)");
  int cur = 0;
  check(cudaGetDevice(&cur), "cudaGetDevice");
  if (attr.device != cur)
    bad_arg(name, "lives on cuda:" + std::to_string(attr.device) + " but the current device is cuda:" +
                      std::to_string(cur));
}

namespace {

void make_header(uint32_t words[8], Scheme scheme, int party, int bits, int out_bits, uint64_t count) {
  uint8_t h[32] = {0};
  const uint32_t magic = kKeyMagic;
  const uint16_t version = kKeyVersion;
  std::memcpy(h, &magic, 4);
  std::memcpy(h + 4, &version, 2);
  h[6] = static_cast<uint8_t>(scheme);
  h[7] = static_cast<uint8_t>(party);
  h[8] = static_cast<uint8_t>(bits);
  h[9] = static_cast<uint8_t>(out_bits);
  std::memcpy(h + 16, &count, 8);  // checksum (bytes 24..31): written by checksum.cu
  std::memcpy(words, h, 32);
}

int slot_width(int out_bits) {
  int w = 1;
  while (w < out_bits) w <<= 1;
  return w;
}

dev::KeyGeom geom_of(const KeyLayout& lay, uint64_t count) {
  dev::KeyGeom g;
  g.count = count;
  g.bytes_per_key = lay.bytes_per_key;
  g.levels = lay.levels;
  g.vb = lay.value_bytes;
  return g;
}

}  // namespace

dev::GenParams gen_params(const GenArgs& a, Scheme scheme) {
  const KeyLayout lay = key_layout(scheme, a.bits, a.out_bits);
  if (a.count && !a.alpha) bad_arg("alpha", "null pointer");
  if (!a.key0) bad_arg("key0", "null pointer");
  if (!a.key1) bad_arg("key1", "null pointer");
  const size_t want = key_buffer_size(scheme, a.bits, a.out_bits, a.count);
  if (a.key_len != want)
    bad_arg("key_len", "expected " + std::to_string(want) + " bytes, got " + std::to_string(a.key_len));
  dev::GenParams p{};
  p.bits = a.bits;
  p.out_bits = a.out_bits;
  p.w = slot_width(a.out_bits);
  p.nu = lay.early_bits;
  p.mm = dev::mask_bits(a.out_bits);
  p.geom = geom_of(lay, a.count);
  p.alpha = a.alpha;
  p.beta = a.beta;
  p.beta_scalar = a.beta_scalar;
  p.beta_value = a.beta_value;
  p.key0 = a.key0;
  p.key1 = a.key1;
  make_header(p.hdr0, scheme, 0, a.bits, a.out_bits, a.count);
  make_header(p.hdr1, scheme, 1, a.bits, a.out_bits, a.count);
  uint8_t r[16];
  if (a.seed16) std::memcpy(r, a.seed16, 16); else os_random_key(r);
  fss::detail::AesKey k;
  fss::detail::aes_expand_key(r, &k);
  std::memcpy(p.master.w, k.rk, sizeof(p.master.w));  // 11 x 16 bytes = 44 LE words
  std::memset(&k, 0, sizeof(k));
  std::memset(r, 0, sizeof(r));
  p.err = nullptr;
  return p;
}

EvalSetup eval_params(const EvalArgs& a, Scheme scheme, const uint8_t* header32) {
  if (a.party != 0 && a.party != 1) bad_arg("party", "must be 0 or 1, got " + std::to_string(a.party));
  EvalSetup s{};
  s.h = parse_key_header(header32, a.key_len, false);  // reads only the 32 header bytes
  if (s.h.scheme != scheme)
    bad_arg("keys", std::string("are ") + (s.h.scheme == Scheme::DPF ? "DPF" : "DCF") + " keys, expected " +
                        (scheme == Scheme::DPF ? "DPF" : "DCF"));
  if (s.h.party != a.party)
    bad_arg("party", "keys belong to party " + std::to_string(s.h.party) + ", not party " + std::to_string(a.party));
  if (s.h.count && !a.x) bad_arg("x", "null pointer");
  if (s.h.count && !a.out) bad_arg("out", "null pointer");
  s.lay = key_layout(s.h.scheme, s.h.bits, s.h.out_bits);
  dev::EvalParams& p = s.p;
  p.party = a.party;
  p.bits = s.h.bits;
  p.out_bits = s.h.out_bits;
  p.w = slot_width(s.h.out_bits);
  p.nu = s.lay.early_bits;
  p.mm = dev::mask_bits(s.h.out_bits);
  p.geom = geom_of(s.lay, s.h.count);
  p.body = a.key + kKeyHeaderSize;
  p.x = a.x;
  p.out = a.out;
  p.err = nullptr;
  return s;
}

EvalAllSetup eval_all_params(int party, const uint8_t* key, size_t key_len, const uint8_t* header32, size_t out_len,
                             const uint64_t* out) {
  if (party != 0 && party != 1) bad_arg("party", "must be 0 or 1, got " + std::to_string(party));
  EvalAllSetup s{};
  s.h = parse_key_header(header32, key_len, false);
  if (s.h.scheme != Scheme::DPF) bad_arg("keys", "are DCF keys, expected DPF");
  if (s.h.party != party)
    bad_arg("party", "keys belong to party " + std::to_string(s.h.party) + ", not party " + std::to_string(party));
  if (s.h.bits > 24) bad_arg("bits", "full-domain evaluation needs bits <= 24, got " + std::to_string(s.h.bits));
  const uint64_t dom = uint64_t(1) << s.h.bits;
  if (out_len != s.h.count * dom) bad_arg("out", "expected " + std::to_string(s.h.count * dom) + " values");
  if (s.h.count && !out) bad_arg("out", "null pointer");
  s.lay = key_layout(s.h.scheme, s.h.bits, s.h.out_bits);
  dev::ExpandParams& p = s.p;
  p.party = party;
  p.w = slot_width(s.h.out_bits);
  p.nu = s.lay.early_bits;
  p.L = s.lay.levels;
  p.mm = dev::mask_bits(s.h.out_bits);
  p.geom = geom_of(s.lay, s.h.count);
  p.body = key + kKeyHeaderSize;
  p.k0 = 0;
  return s;
}

void fetch_header(const uint8_t* dev_key, size_t key_len, const uint8_t* host_header, uint8_t out[32],
                  cudaStream_t stream) {
  if (host_header) {
    std::memcpy(out, host_header, 32);
    return;
  }
  if (key_len < kKeyHeaderSize)
    throw std::invalid_argument("keys: truncated: " + std::to_string(key_len) + " bytes is shorter than the 32-byte header");
  require_device_ptr(dev_key, key_len, 16, "keys");
  check(cudaMemcpyAsync(out, dev_key, 32, cudaMemcpyDeviceToHost, stream), "cudaMemcpyAsync (key header)");
  check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
}

unsigned grid_blocks(const void* kernel, uint64_t items, int threads, size_t smem) {
  const uint64_t need = std::max<uint64_t>(1, (items + threads - 1) / threads);
  int dev = 0, sms = 0, per_sm = 0;
  check(cudaGetDevice(&dev), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev), "cudaDeviceGetAttribute");
  check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads, smem),
        "cudaOccupancyMaxActiveBlocksPerMultiprocessor");
  const uint64_t resident = static_cast<uint64_t>(std::max(1, sms)) * static_cast<uint64_t>(std::max(1, per_sm));
  const uint64_t waves = (need + resident - 1) / resident;
  return static_cast<unsigned>((need + waves - 1) / waves);
}

ErrorWord::ErrorWord(cudaStream_t stream) : stream_(stream) {
  void* p = nullptr;
  check(cudaMallocAsync(&p, sizeof(unsigned long long), stream), "cudaMallocAsync (error word)");
  ptr_ = static_cast<unsigned long long*>(p);
  const cudaError_t e = cudaMemsetAsync(ptr_, 0xff, sizeof(unsigned long long), stream);
  if (e != cudaSuccess) {
    cudaFreeAsync(ptr_, stream);
    ptr_ = nullptr;
    check(e, "cudaMemsetAsync");
  }
}

ErrorWord::~ErrorWord() {
  if (ptr_) cudaFreeAsync(ptr_, stream_);
}

uint64_t ErrorWord::read() {
  unsigned long long v = ~0ull;
  check(cudaMemcpyAsync(&v, ptr_, sizeof(v), cudaMemcpyDeviceToHost, stream_), "cudaMemcpyAsync (error word)");
  check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
  return v;
}

Scratch::Scratch(size_t bytes, cudaStream_t stream) : stream_(stream) {
  if (bytes) check(cudaMallocAsync(&ptr_, bytes, stream), "cudaMallocAsync (scratch)");
}

Scratch::~Scratch() {
  if (ptr_) cudaFreeAsync(ptr_, stream_);
}

}  // namespace detail

void download_keys(const uint8_t* dev_key, size_t len, uint8_t* host, void* stream) {
  if (len && !host) bad_arg("host", "null pointer");
  detail::require_device_ptr(dev_key, len, 1, "keys");
  const cudaStream_t s = detail::as_stream(stream);
  detail::check(cudaMemcpyAsync(host, dev_key, len, cudaMemcpyDeviceToHost, s), "cudaMemcpyAsync (keys)");
  detail::check(cudaStreamSynchronize(s), "cudaStreamSynchronize");
}

}  // namespace cuda
}  // namespace fss
