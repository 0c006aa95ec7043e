// fsskernels/aes.h: fixed-key AES-128 and the correlation-robust hash (the PRG).
//
// H(x, j) = AES_K(x ^ j) ^ (x ^ j), K = 00 01 .. 0f, j a small tweak (Guo, Katz, Wang, Yu,
// "Efficient and Secure Multiparty Computation from Fixed-Key Block Ciphers", S&P 2020).
// See docs/kernels.md section 1. All paths are constant-time (AES-NI / VAES instructions, or a
// table-free portable AES); they give identical results.
//
// Thread safety: every function here is safe to call concurrently; set_aes_path is a global
// switch meant for tests and benchmarks and must not race with running kernels.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "fsskernels/block.h"

namespace fss {

enum class AesPath : int { Portable = 0, AesNi = 1, Vaes = 2, Vaes256 = 3 };

// The path chosen at startup by CPUID (the fastest supported), or the one set last.
AesPath aes_path();
const char* aes_path_name(AesPath p);  // "portable", "aes-ni", "vaes" (512-bit), "vaes256" (AVX2)
bool aes_path_supported(AesPath p);
// Throws std::invalid_argument if the CPU does not support `p`.
void set_aes_path(AesPath p);

// out[i] = H(in[i], tweak) for i < n. `in` and `out` may alias exactly.
void prg_hash(const Block* in, Block* out, size_t n, uint64_t tweak);

// out[i] = H(in[i], tweaks[i]) (per-block tweak, each < 4).
void prg_hash_tweaked(const Block* in, const uint8_t* tweaks, Block* out, size_t n);

// AES-128-CTR keystream under a secret key: out[i] = AES_key(start + i) (128-bit LE counter).
void aes_ctr(const uint8_t key[16], uint64_t start, Block* out, size_t n);

// 16 bytes from the OS CSPRNG (getrandom); throws std::runtime_error if it fails.
void os_random_key(uint8_t key[16]);

}  // namespace fss
