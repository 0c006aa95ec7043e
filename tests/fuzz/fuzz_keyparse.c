/* Fuzz target: key-batch parsing and use through the C API (fss_key_validate, then
 * evaluation, full-domain evaluation and slicing of whatever validates).
 *
 * Property: for any byte string the library returns a status (FSS_OK or an error code with a
 * message) and never crashes, reads out of bounds or hangs; a batch that validates can be
 * evaluated and sliced. Built two ways:
 *   - with clang -fsanitize=fuzzer,address (libFuzzer supplies main): coverage-guided fuzzing;
 *   - with fuzz_driver.cpp (any C++ compiler, run under ASan/UBSan by scripts/check_cpp.sh): replays
 *     the seed corpus tests/fuzz/corpus/keys and a fixed number of deterministic mutations.
 * docs/kernels.md section 8 (fuzzing). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsskernels/c_api.h"

#define FUZZ_MAX_KEYS 64 /* evaluate at most this many keys per input (time bound) */

static void fail(const char* what, int st) {
  fprintf(stderr, "fuzz_keyparse: %s returned %s (%s)\n", what, fss_status_name(st), fss_last_error());
  abort();
}

static void expect_error_message(int st) {
  if (st != FSS_OK && fss_last_error()[0] == 0) {
    fprintf(stderr, "fuzz_keyparse: status %s without a message\n", fss_status_name(st));
    abort();
  }
}

size_t fss_fuzz_accepted = 0; /* inputs that validated (read by the standalone driver) */

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fss_key_info info;
  uint8_t* copy = (uint8_t*)malloc(size ? size : 1); /* exact-size heap copy: ASan sees overreads */
  if (!copy) return 0;
  if (size) memcpy(copy, data, size);
  int st = fss_key_validate(copy, size, &info);
  expect_error_message(st);
  if (st == FSS_OK) {
    ++fss_fuzz_accepted;
    if (info.buffer_size != size) fail("fss_key_validate (buffer_size)", st);
    const size_t n = info.count;
    if (n <= FUZZ_MAX_KEYS) {
      uint64_t x[FUZZ_MAX_KEYS], out[FUZZ_MAX_KEYS];
      for (size_t i = 0; i < n; ++i) x[i] = (info.bits >= 64 ? (uint64_t)i * 0x9E3779B97F4A7C15ull : (uint64_t)i) &
                                            (info.bits >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << info.bits) - 1));
      st = info.scheme == FSS_SCHEME_DPF ? fss_dpf_eval(info.party, copy, size, x, out, n)
                                         : fss_dcf_eval(info.party, copy, size, x, out, n);
      if (st != FSS_OK) fail("eval of a validated batch", st);
      if (info.scheme == FSS_SCHEME_DPF && info.bits <= 8) {
        static uint64_t full[FUZZ_MAX_KEYS << 8];
        st = fss_dpf_eval_all(info.party, copy, size, full, n << info.bits);
        if (st != FSS_OK) fail("fss_dpf_eval_all of a validated batch", st);
      }
      if (n >= 1) {
        size_t len = 0;
        st = fss_key_buffer_size(info.scheme, info.bits, info.out_bits, n - 1, &len);
        if (st != FSS_OK) fail("fss_key_buffer_size", st);
        uint8_t* sl = (uint8_t*)malloc(len);
        if (sl) {
          st = fss_key_slice(copy, size, 1, n - 1, sl, len);
          if (st != FSS_OK) fail("fss_key_slice", st);
          st = fss_key_validate(sl, len, &info);
          if (st != FSS_OK) fail("fss_key_validate of a slice", st);
          free(sl);
        }
      }
    }
    /* wrong party / wrong scheme must be clean errors */
    uint64_t x1 = 0, o1 = 0;
    st = fss_dpf_eval(1 - info.party, copy, size, &x1, &o1, 1);
    if (st == FSS_OK && info.count == 1 && info.scheme == FSS_SCHEME_DPF) fail("eval with the wrong party", st);
    expect_error_message(st);
  }
  free(copy);
  return 0;
}
