// fsskernels/fss.h: batched DPF and DCF key generation and evaluation on the CPU.
//
// DPF: Boyle, Gilboa, Ishai, "Function Secret Sharing: Improvements and Extensions", CCS 2016,
//      with early termination. Eval(0,k0,x) + Eval(1,k1,x) = beta if x == alpha else 0.
// DCF: Boyle, Chandran, Gilboa, Gupta, Ishai, Kumar, Rathee, "Function Secret Sharing for
//      Mixed-Mode and Fixed-Point Secure Computation", EUROCRYPT 2021.
//      Eval(0,k0,x) + Eval(1,k1,x) = beta if x < alpha (unsigned, strict) else 0;
//      out_bits == 1 uses the DPF-based comparison (docs/kernels.md section 4).
// All sums are mod 2^out_bits; inputs are `bits`-bit unsigned, 1 <= bits, out_bits <= 64.
//
// Preconditions (checked; std::invalid_argument names the argument otherwise):
//   alpha[i], x[i] < 2^bits; beta is reduced mod 2^out_bits; key buffers have the exact size
//   key_buffer_size(...) and a matching header; party is 0 or 1.
// Randomness: master key R (16 bytes) = seed16 if given (tests only), else the OS CSPRNG;
//   root seeds are AES-CTR_R blocks (docs/kernels.md section 1).
// Threads: work is split over fss::num_threads() threads (OpenMP); calls are re-entrant.
// Constant time: evaluation time depends on the public x and the sizes only; key
// generation time depends on sizes only.
#pragma once
#include <cstddef>
#include <cstdint>

#include "fsskernels/keyformat.h"

namespace fss {

struct GenArgs {
  int bits = 0;
  int out_bits = 64;
  uint64_t count = 0;
  const uint64_t* alpha = nullptr;  // count values
  const uint64_t* beta = nullptr;   // count values, or one value if beta_scalar
  bool beta_scalar = false;
  const uint8_t* seed16 = nullptr;  // nullptr: OS CSPRNG
  uint8_t* key0 = nullptr;          // key_buffer_size(...) bytes each
  uint8_t* key1 = nullptr;
  size_t key_len = 0;               // length of key0 and of key1
};

struct EvalArgs {
  int party = 0;
  const uint8_t* key = nullptr;
  size_t key_len = 0;
  const uint64_t* x = nullptr;      // count values (count from the key header)
  uint64_t* out = nullptr;          // count values in [0, 2^out_bits)
};

void dpf_gen(const GenArgs& a);
void dpf_eval(const EvalArgs& a);
// Full-domain evaluation, bits <= 24: out holds count * 2^bits values, key-major.
void dpf_eval_all(int party, const uint8_t* key, size_t key_len, uint64_t* out, size_t out_len);
// Fused table lookup: out[t * count + k] = sum_j tables[t * 2^bits + (c[k] - j) mod 2^bits] * D_k[j]
// (mod 2^out_bits), D_k the party's full-domain share of key k; the parties' outputs add up to
// beta_k * tables[t][(c[k] - alpha_k) mod 2^bits]. Needs bits <= 16 and 1 <= ntab <= 64; out holds
// ntab * count values. std::invalid_argument on bad keys or arguments.
void dpf_lookup(int party, const uint8_t* key, size_t key_len, const uint64_t* c, const uint64_t* tables,
                size_t ntab, uint64_t* out);

void dcf_gen(const GenArgs& a);
void dcf_eval(const EvalArgs& a);

// Thread count for all kernels (default: all cores). n >= 1.
void set_num_threads(int n);
int num_threads();

}  // namespace fss
