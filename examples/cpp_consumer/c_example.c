/* The fsskernels C API from plain C: DCF keys for a batch of secret comparisons, both
 * parties' evaluation, reconstruction, and error handling (status code + message).
 * Built twice: linked into fss_consumer (run_c_example) and as the C-only program
 * fss_consumer_c (-DFSS_C_EXAMPLE_MAIN). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fsskernels/c_api.h>

#define N 256

/* Prints the error of a failed call and returns its status. */
static int report(const char* what, int status) {
  if (status != FSS_OK) fprintf(stderr, "c_example: %s failed: %s: %s\n", what, fss_status_name(status), fss_last_error());
  return status;
}

static uint64_t splitmix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

int run_c_example(void) {
  uint64_t rng = 2024, alpha[N], beta[N], x[N], y0[N], y1[N];
  size_t len = 0;
  int bad = 0, st;
  for (int i = 0; i < N; ++i) {
    alpha[i] = splitmix64(&rng);
    beta[i] = splitmix64(&rng);
    x[i] = i % 3 == 0 ? alpha[i] : i % 3 == 1 ? alpha[i] - 1 : splitmix64(&rng);
  }
  /* DCF, 64-bit inputs and outputs: y0 + y1 = beta if x < alpha else 0 (mod 2^64). */
  if (report("fss_key_buffer_size", fss_key_buffer_size(FSS_SCHEME_DCF, 64, 64, N, &len))) return 1;
  uint8_t* k0 = (uint8_t*)malloc(len);
  uint8_t* k1 = (uint8_t*)malloc(len);
  if (!k0 || !k1) {
    free(k0);
    free(k1);
    return 1;
  }
  /* seed NULL: fresh randomness from the OS (what production code does) */
  st = report("fss_dcf_gen", fss_dcf_gen(64, 64, N, alpha, beta, 0, NULL, k0, k1, len));
  if (!st) st = report("fss_dcf_eval(0)", fss_dcf_eval(0, k0, len, x, y0, N));
  if (!st) st = report("fss_dcf_eval(1)", fss_dcf_eval(1, k1, len, x, y1, N));
  if (!st)
    for (int i = 0; i < N; ++i)
      if (y0[i] + y1[i] != (x[i] < alpha[i] ? beta[i] : 0)) ++bad;

  /* Error handling: a corrupted key is refused with FSS_ERR_CORRUPT_KEY and a message. */
  if (!st) {
    k0[len / 2] ^= 1;
    int e = fss_dcf_eval(0, k0, len, x, y0, N);
    if (e != FSS_ERR_CORRUPT_KEY || strstr(fss_last_error(), "checksum") == NULL) {
      fprintf(stderr, "c_example: corrupted key gave %s (%s)\n", fss_status_name(e), fss_last_error());
      ++bad;
    }
    /* ... and so is a wrong length or the other party's key. */
    if (fss_dcf_eval(1, k1, len - 1, x, y1, N) != FSS_ERR_CORRUPT_KEY) ++bad;
    if (fss_dcf_eval(0, k1, len, x, y1, N) != FSS_ERR_INVALID_ARGUMENT) ++bad;
    if (fss_dcf_gen(65, 64, N, alpha, beta, 0, NULL, k0, k1, len) != FSS_ERR_UNSUPPORTED) ++bad;
  }
  free(k0);
  free(k1);

  /* Ring GEMM: a 2x3 by 3x2 product mod 2^64. */
  if (!st) {
    const uint64_t a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {7, 8, 9, 10, 11, (uint64_t)-1};
    uint64_t c[4];
    st = report("fss_ring_matmul", fss_ring_matmul(1, 2, 3, 2, a, b, c, 0, 0));
    if (!st && !(c[0] == 58 && c[1] == 25 && c[2] == 139 && c[3] == 76)) ++bad;
  }
  if (bad) fprintf(stderr, "c_example: %d wrong results\n", bad);
  return st || bad ? 1 : 0;
}

#ifdef FSS_C_EXAMPLE_MAIN
int main(void) {
  int rc = run_c_example();
  printf("fss_consumer_c: %s (fsskernels %s, C API, aes path %s)\n", rc ? "FAILED" : "OK", fss_version(),
         fss_aes_path());
  return rc;
}
#endif
