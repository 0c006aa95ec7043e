// fsskernels/limits.h: size limits on everything a caller passes in, and overflow-checked
// size arithmetic.
//
// Every buffer a kernel reads or writes (key batches, share arrays, GEMM operands, PRG and
// AES-CTR output) is bounded by kMaxBufferBytes = 2^40 bytes (1 TiB). The limit is generous
// (far beyond any memory a machine of today holds) but finite, so that no size product
// computed from user input (count * bytes-per-key, nblocks * 16, batch * m * n * 8) can wrap
// around size_t or uint64_t. Sizes above it raise std::invalid_argument naming the argument
// (ValueError in Python, FSS_ERR_INVALID_ARGUMENT in the C API). docs/kernels.md section 7.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "fsskernels/errors.h"

namespace fss {

constexpr uint64_t kMaxBufferBytes = uint64_t(1) << 40;  // any single buffer, in bytes
constexpr int kMaxThreadsCap = 1024;                     // absolute cap of set_num_threads

// count * elem_bytes, checked against overflow and kMaxBufferBytes; throws naming `name`.
inline size_t checked_buffer_bytes(uint64_t count, uint64_t elem_bytes, const char* name) {
  uint64_t r;
  if (__builtin_mul_overflow(count, elem_bytes, &r) || r > kMaxBufferBytes)
    bad_arg(name, "size too large: " + std::to_string(count) + " elements of " + std::to_string(elem_bytes) +
                      " bytes exceed the limit of 2^40 bytes");
  return static_cast<size_t>(r);
}

// The largest thread count set_num_threads accepts: 8 x the cores, at most kMaxThreadsCap.
int max_num_threads();

}  // namespace fss
