// Thread count for all CPU kernels (default: all cores), and shared argument checks.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <string>

#include "fss_common.h"
#include "fsskernels/limits.h"

namespace fss {
namespace {
std::atomic<int> g_threads{0};
}

int max_num_threads() {
  const int procs = omp_get_num_procs();
  const int cap = procs > kMaxThreadsCap / 8 ? kMaxThreadsCap : 8 * std::max(procs, 1);
  return cap;
}

void set_num_threads(int n) {
  if (n < 1) bad_arg("n", "thread count must be >= 1, got " + std::to_string(n));
  // A very large team makes libgomp fail (it cannot create the threads and aborts or
  // crashes): cap at 8 x the cores (and 1024).
  if (n > max_num_threads())
    bad_arg("n", "thread count " + std::to_string(n) + " exceeds the limit " + std::to_string(max_num_threads()) +
                     " (8 x the " + std::to_string(omp_get_num_procs()) + " cores, at most 1024)");
  g_threads.store(n);
}

int num_threads() {
  const int n = g_threads.load();
  return n > 0 ? n : omp_get_num_procs();
}

namespace detail {

KeyLayout check_gen_args(const GenArgs& a, Scheme scheme) {
  const KeyLayout lay = key_layout(scheme, a.bits, a.out_bits);
  if (a.count && !a.alpha) bad_arg("alpha", "null pointer");
  if (a.count && !a.beta) bad_arg("beta", "null pointer");
  if (!a.key0) bad_arg("key0", "null pointer");
  if (!a.key1) bad_arg("key1", "null pointer");
  const size_t want = key_buffer_size(scheme, a.bits, a.out_bits, a.count);
  if (a.key_len != want)
    bad_arg("key_len", "expected " + std::to_string(want) + " bytes, got " + std::to_string(a.key_len));
  if (a.bits < 64) {
    uint64_t bad = 0;
    for (uint64_t i = 0; i < a.count; ++i) bad |= a.alpha[i] >> a.bits;
    if (bad) {
      for (uint64_t i = 0; i < a.count; ++i)
        if (a.alpha[i] >> a.bits)
          bad_arg("alpha", "value at index " + std::to_string(i) + " does not fit in bits=" + std::to_string(a.bits));
    }
  }
  return lay;
}

KeyView check_eval_args(const EvalArgs& a, Scheme scheme) {
  if (a.party != 0 && a.party != 1) bad_arg("party", "must be 0 or 1, got " + std::to_string(a.party));
  const KeyView v = key_view(a.key, a.key_len);
  if (v.h.scheme != scheme)
    bad_arg("keys", std::string("are ") + (v.h.scheme == Scheme::DPF ? "DPF" : "DCF") + " keys, expected " +
                        (scheme == Scheme::DPF ? "DPF" : "DCF"));
  if (v.h.party != a.party)
    bad_arg("party", "keys belong to party " + std::to_string(v.h.party) + ", not party " + std::to_string(a.party));
  if (v.h.count && !a.x) bad_arg("x", "null pointer");
  if (v.h.count && !a.out) bad_arg("out", "null pointer");
  if (v.h.bits < 64) {
    uint64_t bad = 0;
    for (uint64_t i = 0; i < v.h.count; ++i) bad |= a.x[i] >> v.h.bits;
    if (bad)
      for (uint64_t i = 0; i < v.h.count; ++i)
        if (a.x[i] >> v.h.bits)
          bad_arg("x", "value at index " + std::to_string(i) + " does not fit in bits=" + std::to_string(v.h.bits));
  }
  return v;
}

}  // namespace detail
}  // namespace fss
