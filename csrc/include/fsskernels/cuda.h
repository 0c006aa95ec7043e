// fsskernels/cuda.h: the CUDA backend (target fsskernels::cuda, namespace fss::cuda).
//
// The same schemes, key format and results as the CPU kernels of fss.h and ring.h, bit for
// bit (docs/kernels.md), computed on an NVIDIA GPU:
//   DPF: Boyle, Gilboa, Ishai, "Function Secret Sharing: Improvements and Extensions",
//        CCS 2016, with early termination.
//   DCF: Boyle, Chandran, Gilboa, Gupta, Ishai, Kumar, Rathee, "Function Secret Sharing for
//        Mixed-Mode and Fixed-Point Secure Computation", EUROCRYPT 2021 (out_bits >= 2), and
//        the DPF-based comparison of SIGMA (Gupta et al., PETS 2024) for out_bits == 1.
//   PRG: fixed-key AES-128 in MMO mode (Guo, Katz, Wang, Yu, S&P 2020).
// One GPU thread walks one key; a warp walks one 32-key tile of the key format, so each
// tree level is one contiguous 512-byte read per warp.
//
// This header needs no CUDA headers: streams are passed as `void*` (a cudaStream_t; nullptr
// is the legacy default stream).
//
// Conventions for every kernel entry point below:
//   * Device pointers ("device:" in the comments) must be device (or managed) memory of the
//     CURRENT device (cudaSetDevice); host pointers are marked "host:". Key buffers must be
//     16-byte aligned, uint64 arrays 8-byte aligned (eval_all output: 16-byte aligned).
//   * Work is enqueued on `stream`. Functions that validate device data (alpha / x ranges,
//     with check = true) synchronize `stream` before returning; the others return at once.
//   * Errors: std::invalid_argument (message "<argument>: why") for bad arguments, which
//     the Python bindings turn into ValueError; std::runtime_error whose message contains
//     cudaGetErrorString(...) for CUDA faults (no driver, launch failure, out of memory).
//   * Thread safety: every function is re-entrant and may be called from several host
//     threads on different streams; buffers written by one call must not be used by another
//     concurrently running call.
//   * Side channels: the GPU AES uses shared-memory T-tables (data-dependent addresses),
//     the usual GPU trade-off; evaluation time depends only on public sizes and x.
//
// Key buffers generated on the GPU are complete serialized batches (keyformat.h), header
// checksum included (computed on the GPU from per-tile digests): the bytes equal the CPU's
// fss::dpf_gen / fss::dcf_gen output for the same seed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "fsskernels/keyformat.h"
#include "fsskernels/ring.h"

namespace fss {
namespace cuda {

// ------------------------------------------------------------------ devices
// Number of visible CUDA devices; 0 when there is no GPU or no (or a too old) driver.
// Never throws.
int device_count() noexcept;
// Name of device i (e.g. "NVIDIA H100 80GB HBM3"). Throws std::invalid_argument if i is
// out of range, std::runtime_error on driver errors.
std::string device_name(int i);
// The architectures the kernels were compiled for, e.g. "90" or "80,90".
const char* compiled_archs() noexcept;
// Streaming-multiprocessor count of the current device (throws std::runtime_error).
int current_device_sm_count();

// Makes device `device` current for this host thread while the guard lives, then restores
// the previous one. Throws std::invalid_argument for an index out of range and
// std::runtime_error when the runtime fails (e.g. no driver).
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int prev_ = -1;
};

// ------------------------------------------------------------------ key generation
struct GenArgs {
  int bits = 0;                      // input width n, 1..64
  int out_bits = 64;                 // output width m, 1..64
  uint64_t count = 0;                // number of keys N
  const uint64_t* alpha = nullptr;   // device: N values < 2^bits
  const uint64_t* beta = nullptr;    // device: N values, or 1 value if beta_scalar;
                                     //   nullptr: every key uses beta_value
  bool beta_scalar = false;
  uint64_t beta_value = 0;           // used when beta == nullptr
  const uint8_t* seed16 = nullptr;   // host: 16-byte master key R (tests only); nullptr: OS CSPRNG
  uint8_t* key0 = nullptr;           // device: key_buffer_size(...) bytes each (party 0, 1)
  uint8_t* key1 = nullptr;
  size_t key_len = 0;                // length of key0 and of key1
};
// Batched Gen (docs/kernels.md sections 2-4). The root seeds of key k are AES-CTR_R blocks
// 2k and 2k+1, R expanded on the host and the CTR blocks computed on the GPU, so a seeded
// call reproduces the CPU keys exactly. beta is reduced mod 2^out_bits.
// Preconditions: as fss::dpf_gen; alpha values >= 2^bits raise std::invalid_argument("alpha:
// ...") after the kernel ran (the stream is synchronized to read the check).
// The kernels write the headers, checksum included.
void dpf_gen(const GenArgs& a, void* stream);
void dcf_gen(const GenArgs& a, void* stream);

// ------------------------------------------------------------------ evaluation
struct EvalArgs {
  int party = 0;                         // 0 or 1; must match the keys' party byte
  const uint8_t* key = nullptr;          // device: the whole batch buffer incl. the header
  size_t key_len = 0;
  const uint8_t* host_header = nullptr;  // host: a copy of the 32 header bytes, or nullptr
                                         //   to copy them from the device (synchronizes)
  const uint64_t* x = nullptr;           // device: count values (count from the header)
  uint64_t* out = nullptr;               // device: count values in [0, 2^out_bits)
  bool check = true;                     // verify x < 2^bits (synchronizes the stream);
                                         //   false: bits above `bits` are ignored
};
// Party `party`'s shares of f_k(x_k) for every key k (docs/kernels.md sections 2-4).
// The header is parsed on the host (fss::parse_key_header with the exact length).
void dpf_eval(const EvalArgs& a, void* stream);
void dcf_eval(const EvalArgs& a, void* stream);

// Full-domain DPF evaluation, bits <= 24: out (device, 16-byte aligned) holds
// count * 2^bits values, key-major. Expands the tree level by level (one kernel per level)
// in a temporary device buffer of at most max(256 MiB, 16 * 2^L bytes) (stream-ordered
// allocation) and the output itself. Does not synchronize.
void dpf_eval_all(int party, const uint8_t* key, size_t key_len, const uint8_t* host_header, uint64_t* out,
                  size_t out_len, void* stream);

// Table lookup with DPF keys (the LUT protocol of Pika / SIGMA), as fss::dpf_lookup:
// out[t * count + k] = sum_j tables[t * 2^bits + (c[k] - j) mod 2^bits] * D_k[j] mod 2^out_bits,
// D_k this party's full-domain share of key k, so the parties' outputs add up to
// beta_k * tables[t][(c[k] - alpha_k) mod 2^bits]. bits <= 16, 1 <= ntab <= 64; c (count values,
// reduced mod 2^bits), tables (ntab * 2^bits) and out (ntab * count) are device arrays. Expands
// the keys in chunks of at most 256 MiB of rows (stream-ordered scratch), then one block per
// key reduces against the tables. Does not synchronize (except to read the header when
// host_header is null).
void dpf_lookup(int party, const uint8_t* key, size_t key_len, const uint8_t* host_header, const uint64_t* c,
                const uint64_t* tables, size_t ntab, uint64_t* out, void* stream);

// ------------------------------------------------------------------ PRG and ring
// out[i] = H(in[i], tweak) on 16-byte blocks (device, may alias exactly); as fss::prg_hash.
void prg_hash(const void* in, void* out, size_t n, uint64_t tweak, void* stream);

// C[b] = A[b] @ B[b] mod 2^64 with fss::RingGemmArgs semantics (device pointers; a zero batch
// stride broadcasts; c must not overlap a or b; k == 0 gives zeros). Exact for every shape
// and value with either kernel:
//   Simt: 64 x 64 shared-memory tiles of uint64 multiply-adds on the CUDA cores.
//   Imma: 36 byte-plane products u8 x u8 -> s32 on the integer tensor cores (mma.sync
//         m16n8k32), limb pairs (i, j) with 8 (i + j) < 64 only, folded mod 2^64
//         (ring_imma.cuh); needs compute capability >= 8.0 (std::invalid_argument "algo: ..."
//         otherwise).
//   Auto: Simt for now. Imma matches the CPU bit for bit in host emulation but has not yet
//         run on a GPU; Auto switches to it once a GPU run has shown it exact and faster
//         (docs/gpu.md).
// Does not synchronize.
enum class RingGemmAlgo { Auto = 0, Simt = 1, Imma = 2 };
void ring_matmul(const RingGemmArgs& args, void* stream, RingGemmAlgo algo = RingGemmAlgo::Auto);

// ------------------------------------------------------------------ key buffers
// Copies a device key buffer to host memory (synchronizes the stream).
void download_keys(const uint8_t* dev_key, size_t len, uint8_t* host, void* stream);

// ------------------------------------------------------------------ host emulation
// The GPU kernels' per-thread code run on the host, one thread after another, on HOST
// pointers: the same AES, tree walks, tile addressing and eval_all level/leaf passes as the
// device. Only for tests on machines without a GPU (slow; single-threaded). Same arguments,
// checks and outputs as the functions above (checksums included).
namespace emulate {
void dpf_gen(const GenArgs& a);
void dcf_gen(const GenArgs& a);
void dpf_eval(const EvalArgs& a);
void dcf_eval(const EvalArgs& a);
void dpf_eval_all(int party, const uint8_t* key, size_t key_len, uint64_t* out, size_t out_len);
void dpf_lookup(int party, const uint8_t* key, size_t key_len, const uint64_t* c, const uint64_t* tables, size_t ntab,
                uint64_t* out);
void prg_hash(const void* in, void* out, size_t n, uint64_t tweak);
// The Imma ring GEMM kernel (ring_gemm_imma.cu) run on the host: the same slice staging into
// byte planes, fragment loads, 36 limb-pair products per n8 tile (the m16n8k32 mma computed
// from the lanes' fragments as the PTX ISA lays them out), folds and stores, block by block
// and warp by warp. flush_tiles: k-slices of 32 between folds (1..128; 0 = the kernel's 128),
// so that the multi-fold path can be tested with small k.
void ring_matmul_imma(const RingGemmArgs& args, uint64_t flush_tiles = 0);
}  // namespace emulate

}  // namespace cuda
}  // namespace fss
