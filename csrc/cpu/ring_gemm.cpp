// Ring GEMM over Z_{2^64}: argument checks, the choice of kernel by CPUID, a portable
// blocked kernel, and threading over batch x row blocks x column blocks (fss::num_threads()).
//
// Kernels (one thread each, C = A @ B over the full depth k):
//   ifma     ring_gemm_avx512.cpp: 52-bit IFMA + 16-bit VNNI micro-kernel (2.5 uops per 8
//            multiply-adds; needs avx512ifma and avx512vnni)
//   avx512   ring_gemm_avx512.cpp: vpmullq kernels (avx512dq)
//   avx2     ring_gemm_avx2.cpp: 32-bit halves, a_lo b_lo by vpmuludq and the cross terms
//            mod 2^32 by vpmulld (CPUs with AVX2 but no AVX-512, e.g. AMD Zen 2/3)
//   portable this file: 64-bit integer multiply-adds that the compiler vectorizes
// The best supported path is chosen by CPUID in that order. All are exact mod 2^64 (unsigned
// arithmetic wraps). FSS_RING_PATH=portable|avx2|avx512|ifma (environment, read per call)
// forces a supported path, for tests and benchmarks.
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "fsskernels/errors.h"
#include "fsskernels/fss.h"
#include "fsskernels/limits.h"
#include "fsskernels/ring.h"

namespace fss {
namespace ring_detail {

#if defined(FSS_X86)
void ring_gemm_block_ifma(size_t m, size_t k, size_t n, const uint64_t* a, size_t lda, const uint64_t* b,
                          size_t ldb, uint64_t* c, size_t ldc);
void ring_gemm_block_avx512(size_t m, size_t k, size_t n, const uint64_t* a, size_t lda, const uint64_t* b,
                            size_t ldb, uint64_t* c, size_t ldc);
void ring_gemm_block_avx2(size_t m, size_t k, size_t n, const uint64_t* a, size_t lda, const uint64_t* b,
                          size_t ldb, uint64_t* c, size_t ldc);
#endif

namespace {

using BlockFn = void (*)(size_t, size_t, size_t, const uint64_t*, size_t, const uint64_t*, size_t, uint64_t*,
                         size_t);

// Portable kernel: blocks of B (KB x NB) stay in cache while every row of A sweeps them;
// the j loop is a plain multiply-add that compilers vectorize. Aligned to 64 bytes: where the
// linker happened to place its inner loops changed its speed by 1.4x (AMD Zen 3, GCC 12).
__attribute__((aligned(64)))
void ring_gemm_block_portable(size_t m, size_t k, size_t n, const uint64_t* a, size_t lda, const uint64_t* b,
                              size_t ldb, uint64_t* c, size_t ldc) {
  constexpr size_t KB = 128, NB = 512;
  for (size_t i = 0; i < m; ++i) std::memset(c + i * ldc, 0, n * sizeof(uint64_t));
  for (size_t j0 = 0; j0 < n; j0 += NB) {
    const size_t nb = std::min(NB, n - j0);
    for (size_t p0 = 0; p0 < k; p0 += KB) {
      const size_t kb = std::min(KB, k - p0);
      for (size_t i = 0; i < m; ++i) {
        uint64_t* __restrict crow = c + i * ldc + j0;
        const uint64_t* arow = a + i * lda + p0;
        size_t p = 0;
        for (; p + 2 <= kb; p += 2) {  // two rows of B per pass: half the C traffic
          const uint64_t a0 = arow[p], a1 = arow[p + 1];
          const uint64_t* __restrict b0 = b + (p0 + p) * ldb + j0;
          const uint64_t* __restrict b1 = b0 + ldb;
          for (size_t j = 0; j < nb; ++j) crow[j] += a0 * b0[j] + a1 * b1[j];
        }
        if (p < kb) {
          const uint64_t a0 = arow[p];
          const uint64_t* __restrict b0 = b + (p0 + p) * ldb + j0;
          for (size_t j = 0; j < nb; ++j) crow[j] += a0 * b0[j];
        }
      }
    }
  }
}

enum class Path { Portable, Avx2, Avx512, Ifma };

bool path_supported(Path p) {
  switch (p) {
    case Path::Portable:
      return true;
#if defined(FSS_X86)
    case Path::Avx2:
      return __builtin_cpu_supports("avx2");
    case Path::Avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
    case Path::Ifma:
      return path_supported(Path::Avx512) && __builtin_cpu_supports("avx512ifma") &&
             __builtin_cpu_supports("avx512vnni");
#endif
    default:
      return false;
  }
}

Path best_path() {
  static const Path best = [] {
    if (path_supported(Path::Ifma)) return Path::Ifma;
    if (path_supported(Path::Avx512)) return Path::Avx512;
    if (path_supported(Path::Avx2)) return Path::Avx2;
    return Path::Portable;
  }();
  return best;
}

Path chosen_path() {
  const char* env = std::getenv("FSS_RING_PATH");
  if (env && *env) {
    Path want;
    if (!std::strcmp(env, "portable"))
      want = Path::Portable;
    else if (!std::strcmp(env, "avx2"))
      want = Path::Avx2;
    else if (!std::strcmp(env, "avx512"))
      want = Path::Avx512;
    else if (!std::strcmp(env, "ifma"))
      want = Path::Ifma;
    else
      bad_arg("FSS_RING_PATH", std::string("unknown path '") + env + "' (use portable, avx2, avx512 or ifma)");
    if (!path_supported(want)) bad_arg("FSS_RING_PATH", std::string("path '") + env + "' is not supported by this CPU");
    return want;
  }
  return best_path();
}

BlockFn block_fn(Path p) {
  switch (p) {
#if defined(FSS_X86)
    case Path::Ifma:
      return ring_gemm_block_ifma;
    case Path::Avx512:
      return ring_gemm_block_avx512;
    case Path::Avx2:
      return ring_gemm_block_avx2;
#endif
    default:
      return ring_gemm_block_portable;
  }
}

size_t checked_mul(size_t x, size_t y, const char* name) {
  size_t r;
  if (__builtin_mul_overflow(x, y, &r)) bad_arg(name, "size overflows size_t");
  return r;
}

size_t round_up(size_t x, size_t q) { return (x + q - 1) / q * q; }

// Elements spanned by a batched operand: (batch - 1) * stride + rows * cols.
size_t extent(size_t batch, size_t stride, size_t elems, const char* name) {
  if (elems == 0) return 0;
  size_t r;
  if (__builtin_add_overflow(checked_mul(batch - 1, stride, name), elems, &r)) bad_arg(name, "size overflows size_t");
  checked_buffer_bytes(r, sizeof(uint64_t), name);  // the operand's bytes: no wrap, <= 2^40
  return r;
}

bool overlaps(const uint64_t* x, size_t nx, const uint64_t* y, size_t ny) {
  if (!nx || !ny) return false;
  const auto xa = reinterpret_cast<uintptr_t>(x), ya = reinterpret_cast<uintptr_t>(y);
  return xa < ya + ny * sizeof(uint64_t) && ya < xa + nx * sizeof(uint64_t);
}

}  // namespace
}  // namespace ring_detail

RingGemmExtents check_ring_gemm_args(const RingGemmArgs& g) {
  using namespace ring_detail;
  const size_t mk = checked_mul(g.m, g.k, "a"), kn = checked_mul(g.k, g.n, "b"), mn = checked_mul(g.m, g.n, "c");
  RingGemmExtents e{};
  e.a = g.batch ? extent(g.batch, g.a_batch_stride, mk, "a") : 0;
  e.b = g.batch ? extent(g.batch, g.b_batch_stride, kn, "b") : 0;
  e.c = g.batch ? extent(g.batch, mn, mn, "c") : 0;
  if (e.a && !g.a) bad_arg("a", "null pointer");
  if (e.b && !g.b) bad_arg("b", "null pointer");
  if (e.c && !g.c) bad_arg("c", "null pointer");
  if (overlaps(g.c, e.c, g.a, e.a)) bad_arg("c", "must not overlap a");
  if (overlaps(g.c, e.c, g.b, e.b)) bad_arg("c", "must not overlap b");
  return e;
}

void ring_matmul(const RingGemmArgs& g) {
  using namespace ring_detail;
  const size_t batch = g.batch, m = g.m, k = g.k, n = g.n, mn = m * n;
  const size_t c_ext = check_ring_gemm_args(g).c;
  const Path path = chosen_path();
  if (c_ext == 0) return;  // batch, m or n is zero
  if (k == 0) {
    std::memset(g.c, 0, c_ext * sizeof(uint64_t));
    return;
  }
  const BlockFn fn = block_fn(path);

  // Tasks: batch items, each split into rs row chunks x cs column chunks when there are
  // fewer items than threads (or they would not spread evenly). Every task packs its own
  // panels, so a split costs some repacking; small problems run on one thread.
  int nt = std::max(1, num_threads());
  const double work = static_cast<double>(batch) * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  if (work < 4.0e5) nt = 1;
  size_t rs = 1, cs = 1;
  if (nt > 1 && !(batch >= 4 * static_cast<size_t>(nt) || batch % static_cast<size_t>(nt) == 0)) {
    const size_t s = static_cast<size_t>(nt);
    rs = std::min(s, std::max<size_t>(1, m / 48));
    cs = std::min((s + rs - 1) / rs, std::max<size_t>(1, n / 48));
  }
  const size_t rchunk = rs > 1 ? round_up((m + rs - 1) / rs, 24) : m;
  const size_t cchunk = cs > 1 ? round_up((n + cs - 1) / cs, 48) : n;
  rs = (m + rchunk - 1) / rchunk;
  cs = (n + cchunk - 1) / cchunk;
  const size_t tasks = batch * rs * cs;
  auto run_task = [&](size_t t) {
    const size_t bi = t / (rs * cs), r = (t / cs) % rs, cj = t % cs;
    const size_t i0 = r * rchunk, j0 = cj * cchunk;
    const size_t mm = std::min(rchunk, m - i0), nn = std::min(cchunk, n - j0);
    const uint64_t* a = g.a + bi * g.a_batch_stride + i0 * k;
    const uint64_t* b = g.b + bi * g.b_batch_stride + j0;
    uint64_t* c = g.c + bi * mn + i0 * n + j0;
    fn(mm, k, nn, a, k, b, n, c, n);
  };
  if (nt == 1 || tasks == 1) {
    for (size_t t = 0; t < tasks; ++t) run_task(t);
    return;
  }
  nt = static_cast<int>(std::min<size_t>(static_cast<size_t>(nt), tasks));
  // Exceptions must not escape an OpenMP region; the kernels do not throw (packing buffers
  // are thread_local vectors: a bad_alloc there is reported after the loop).
  bool failed = false;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
  for (long long t = 0; t < static_cast<long long>(tasks); ++t) {
    try {
      run_task(static_cast<size_t>(t));
    } catch (...) {
#pragma omp atomic write
      failed = true;
    }
  }
  if (failed) throw std::runtime_error("ring_matmul: out of memory for packing buffers");
}

}  // namespace fss
