// Host-side plumbing of the CUDA backend, shared by the kernel launchers (dpf.cu, dcf.cu,
// prg.cu, ring_gemm.cu) and the host emulation (emulate.cu): CUDA error checks, argument
// validation (header parsing on the host with fss::parse_key_header), kernel parameters,
// launch geometry and the device error word that reports out-of-range inputs.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "fss_walk.cuh"
#include "fsskernels/cuda.h"
#include "fsskernels/errors.h"
#include "fsskernels/keyformat.h"

namespace fss {
namespace cuda {
namespace detail {

constexpr int kThreads = 256;  // threads per block of the FSS kernels

// Throws std::runtime_error("CUDA error in <what>: <cudaGetErrorString>") unless e == success.
void check(cudaError_t e, const char* what);
// Checks the last launch (cudaGetLastError).
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

[[noreturn]] void bad_index(const char* name, uint64_t index, int bits);

// `p` must be device or managed memory of the current device (std::invalid_argument naming
// `name` otherwise) and aligned to `align` bytes. A null pointer passes only if bytes == 0.
void require_device_ptr(const void* p, size_t bytes, size_t align, const char* name);

// Validates GenArgs (not pointer residency), expands the master key R (seed16 or the OS
// CSPRNG) and builds the headers. err is left null.
dev::GenParams gen_params(const GenArgs& a, Scheme scheme);

// Parses the 32 header bytes (host) against key_len and checks scheme / party / pointers'
// presence; fills everything but err.
struct EvalSetup {
  KeyHeader h;
  KeyLayout lay;
  dev::EvalParams p;
};
EvalSetup eval_params(const EvalArgs& a, Scheme scheme, const uint8_t* header32);

// Checks for dpf_eval_all; returns the parsed header and the expansion parameters.
struct EvalAllSetup {
  KeyHeader h;
  KeyLayout lay;
  dev::ExpandParams p;
};
EvalAllSetup eval_all_params(int party, const uint8_t* key, size_t key_len, const uint8_t* header32, size_t out_len,
                             const uint64_t* out);

// Full-domain expansion of keys k0 .. k0+n-1 into rows (n x 2^bits uint64, 16-byte aligned;
// also the alternate level buffer), X: n * 16 * 2^L bytes of scratch (dpf.cu). Enqueues only.
void eval_all_chunk(const dev::ExpandParams& p, uint64_t k0, uint64_t n, uint4* X, uint64_t* rows, cudaStream_t s);

// The 32 header bytes of a device key buffer (copied, synchronizing `stream`), or a copy of
// `host_header` when given.
void fetch_header(const uint8_t* dev_key, size_t key_len, const uint8_t* host_header, uint8_t out[32],
                  cudaStream_t stream);

// Fills in the header checksums of two freshly generated batches (checksum.cu; the headers
// and bodies are already written on `stream`).
void write_key_checksums(uint8_t* key0, uint8_t* key1, const dev::KeyGeom& g, cudaStream_t stream);

// Blocks for a grid-stride kernel over `items` items: enough resident blocks to fill the
// device, balanced so that every block runs the same number of iterations (+-1).
unsigned grid_blocks(const void* kernel, uint64_t items, int threads, size_t smem);

// A device word for the smallest bad index (initialized to ~0 on `stream`), stream-ordered
// allocation; read() synchronizes the stream.
class ErrorWord {
 public:
  explicit ErrorWord(cudaStream_t stream);
  ~ErrorWord();
  ErrorWord(const ErrorWord&) = delete;
  ErrorWord& operator=(const ErrorWord&) = delete;
  unsigned long long* ptr() const { return ptr_; }
  uint64_t read();  // ~0 when nothing was reported

 private:
  cudaStream_t stream_;
  unsigned long long* ptr_ = nullptr;
};

// Stream-ordered device scratch memory, freed on `stream` by the destructor.
class Scratch {
 public:
  Scratch(size_t bytes, cudaStream_t stream);
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  void* get() const { return ptr_; }

 private:
  cudaStream_t stream_;
  void* ptr_ = nullptr;
};

inline cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

}  // namespace detail
}  // namespace cuda
}  // namespace fss
