// The per-thread arithmetic of the GPU table lookup (dpf_lookup.cu), shared with its host
// emulation (emulate_lookup.cu). For a DPF key k of the point (alpha_k, beta_k), this party's
// full-domain share row D_k and the public opened index c_k:
//     out[t][k] = sum_j T[t][(c_k - j) mod 2^n] * D_k[j]   (mod 2^out_bits)
// and the two parties' outputs add up to beta_k * T[t][(c_k - alpha_k) mod 2^n] (the LUT
// protocol of Pika / SIGMA; the CPU version is csrc/cpu/dpf_lookup.cpp). Table reads are
// indexed by the public c_k only.
#pragma once
#include <cstdint>

#include "aes_device.cuh"  // FSS_HD

namespace fss {
namespace cuda {
namespace lookup {

constexpr int kThreads = 256;                    // threads per key (one block per key)
constexpr uint64_t kRowBytes = uint64_t(256) << 20;  // full-domain rows held at once

// Thread `tid` of `threads`: its part of sum_j table[(c - j) mod dom] * row[j], over
// j = tid, tid + threads, ... (mod 2^64; dom a power of two).
FSS_HD uint64_t partial(const uint64_t* row, const uint64_t* table, uint64_t dom, uint64_t c, int tid, int threads) {
  const uint64_t dm = dom - 1;
  uint64_t acc = 0;
  for (uint64_t j = static_cast<uint64_t>(tid); j < dom; j += static_cast<uint64_t>(threads))
    acc += table[(c - j) & dm] * row[j];
  return acc;
}

}  // namespace lookup
}  // namespace cuda
}  // namespace fss
