// Run-time choice of the AES path by CPUID, and the public PRG functions of aes.h.
#include <sys/random.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "aes_internal.h"
#include "fsskernels/aes.h"
#include "fsskernels/errors.h"
#include "fsskernels/fss.h"
#include "fsskernels/limits.h"
#include "fsskernels/zeroize.h"

namespace fss {
namespace detail {
namespace {

bool cpu_has(AesPath p) {
  switch (p) {
    case AesPath::Portable:
      return true;
#if defined(FSS_X86)
    case AesPath::AesNi:
      return __builtin_cpu_supports("aes") && __builtin_cpu_supports("sse4.1");
    case AesPath::Vaes:
      return __builtin_cpu_supports("vaes") && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("aes");
    case AesPath::Vaes256:
      return __builtin_cpu_supports("vaes") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("aes");
#endif
    default:
      return false;
  }
}

AesPath best_path() {
  if (cpu_has(AesPath::Vaes)) return AesPath::Vaes;
  if (cpu_has(AesPath::Vaes256)) return AesPath::Vaes256;
  if (cpu_has(AesPath::AesNi)) return AesPath::AesNi;
  return AesPath::Portable;
}

std::atomic<int> g_path{static_cast<int>(best_path())};

}  // namespace

const AesKey& fixed_key() {
  static const AesKey key = [] {
    uint8_t k[16];
    for (int i = 0; i < 16; ++i) k[i] = static_cast<uint8_t>(i);
    AesKey out;
    aes_expand_key(k, &out);
    return out;
  }();
  return key;
}

MmoFn current_mmo() {
  switch (static_cast<AesPath>(g_path.load(std::memory_order_relaxed))) {
#if defined(FSS_X86)
    case AesPath::Vaes:
      return mmo_vaes;
    case AesPath::Vaes256:
      return mmo_vaes256;
    case AesPath::AesNi:
      return mmo_aesni;
#endif
    default:
      return mmo_portable;
  }
}

EncFn current_enc() {
#if defined(FSS_X86)
  const AesPath p = static_cast<AesPath>(g_path.load(std::memory_order_relaxed));
  if (p == AesPath::Vaes256) return enc_vaes256;
  if (p != AesPath::Portable) return enc_aesni;
#endif
  return enc_portable;
}

}  // namespace detail

AesPath aes_path() { return static_cast<AesPath>(detail::g_path.load()); }

const char* aes_path_name(AesPath p) {
  switch (p) {
    case AesPath::Vaes:
      return "vaes";
    case AesPath::Vaes256:
      return "vaes256";
    case AesPath::AesNi:
      return "aes-ni";
    default:
      return "portable";
  }
}

bool aes_path_supported(AesPath p) { return detail::cpu_has(p); }

void set_aes_path(AesPath p) {
  if (!detail::cpu_has(p)) bad_arg("path", std::string("AES path '") + aes_path_name(p) + "' is not supported by this CPU");
  detail::g_path.store(static_cast<int>(p));
}

void prg_hash(const Block* in, Block* out, size_t n, uint64_t tweak) {
  if (n && (!in || !out)) bad_arg("blocks", "null pointer");
  checked_buffer_bytes(n, 16, "blocks");
  constexpr size_t kChunk = 1024;
  const int64_t chunks = static_cast<int64_t>((n + kChunk - 1) / kChunk);
  const int nt = static_cast<int>(std::min<int64_t>(num_threads(), std::max<int64_t>(chunks / 16, 1)));
#pragma omp parallel for schedule(static) num_threads(nt)
  for (int64_t c = 0; c < chunks; ++c) {
    const size_t i = static_cast<size_t>(c) * kChunk;
    const size_t m = n - i < kChunk ? n - i : kChunk;
#if defined(FSS_X86)
    if (detail::current_mmo() == detail::mmo_vaes) {
      detail::mmo_tweak_vaes(detail::fixed_key(), in + i, out + i, m, tweak);
      continue;
    }
#endif
    Block tmp[kChunk];
    for (size_t j = 0; j < m; ++j) tmp[j] = Block{in[i + j].lo ^ tweak, in[i + j].hi};
    detail::mmo(tmp, out + i, m);
  }
}

void prg_hash_tweaked(const Block* in, const uint8_t* tweaks, Block* out, size_t n) {
  if (n && (!in || !out || !tweaks)) bad_arg("blocks", "null pointer");
  checked_buffer_bytes(n, 16, "blocks");
  constexpr size_t kChunk = 256;
  Block tmp[kChunk];
  for (size_t i = 0; i < n; i += kChunk) {
    const size_t m = n - i < kChunk ? n - i : kChunk;
    for (size_t j = 0; j < m; ++j) tmp[j] = Block{in[i + j].lo ^ tweaks[i + j], in[i + j].hi};
    detail::mmo(tmp, out + i, m);
  }
}

void aes_ctr(const uint8_t key[16], uint64_t start, Block* out, size_t n) {
  if (!key) bad_arg("key", "null pointer");
  if (n && !out) bad_arg("out", "null pointer");
  checked_buffer_bytes(n, 16, "nblocks");
  detail::AesKey k;
  detail::aes_expand_key(key, &k);
  constexpr size_t kChunk = 256;
  Block ctr[kChunk];
  for (size_t i = 0; i < n; i += kChunk) {
    const size_t m = n - i < kChunk ? n - i : kChunk;
    for (size_t j = 0; j < m; ++j) {
      const uint64_t c = start + i + j;
      ctr[j] = Block{c, c < start ? 1u : 0u};  // 128-bit counter: carry into the high word
    }
    detail::current_enc()(k, ctr, out + i, m);
  }
  secure_zero(&k, sizeof(k));
}

void os_random_key(uint8_t key[16]) {
  size_t got = 0;
  while (got < 16) {
    ssize_t r = getrandom(key + got, 16 - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("getrandom failed: ") + std::strerror(errno));
    }
    got += static_cast<size_t>(r);
  }
}

}  // namespace fss
