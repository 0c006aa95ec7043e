/* Tests of the C API (fsskernels/c_api.h), written in C to prove the header is C.
 * Bad input of every kind must give the documented status code and a message; results are
 * checked exhaustively on small domains against a direct computation. Run under ASan/UBSan
 * by scripts/check_cpp.sh. Exit status 0 = all passed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsskernels/c_api.h"

static int g_failures = 0;
static int g_checks = 0;

#define CHECK(cond)                                                        \
  do {                                                                     \
    ++g_checks;                                                            \
    if (!(cond)) {                                                         \
      ++g_failures;                                                        \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                      \
  } while (0)

/* Is the last error message non-empty and (if needle is given) does it contain needle? */
static int message_has(const char* needle) {
  const char* msg = fss_last_error();
  return msg[0] != 0 && (needle == NULL || strstr(msg, needle) != NULL);
}

/* Expect status `want` and, for errors, a non-empty message mentioning `needle`. */
#define EXPECT_STATUS(call, want, needle)                                                              \
  do {                                                                                                 \
    int st_ = (call);                                                                                  \
    ++g_checks;                                                                                        \
    if (st_ != (want)) {                                                                               \
      ++g_failures;                                                                                    \
      fprintf(stderr, "%s:%d: %s returned %s, expected %s (%s)\n", __FILE__, __LINE__, #call,          \
              fss_status_name(st_), fss_status_name(want), fss_last_error());                           \
    } else if ((want) != FSS_OK && !message_has(needle)) {                                              \
      ++g_failures;                                                                                    \
      fprintf(stderr, "%s:%d: %s: message '%s' lacks '%s'\n", __FILE__, __LINE__, #call,               \
              fss_last_error(), (needle) ? (needle) : "");                                            \
    }                                                                                                  \
  } while (0)

#define EXPECT_OK(call) EXPECT_STATUS(call, FSS_OK, NULL)

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint64_t next_u64(void) { /* splitmix64 */
  uint64_t z = (g_rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static uint64_t mask_bits(int m) { return m >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << m) - 1); }

static void* xmalloc(size_t n) {
  void* p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  return p;
}

static const uint8_t kSeed[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

typedef int (*gen_fn)(int, int, size_t, const uint64_t*, const uint64_t*, int, const uint8_t*, uint8_t*, uint8_t*,
                      size_t);
typedef int (*eval_fn)(int, const uint8_t*, size_t, const uint64_t*, uint64_t*, size_t);

/* ------------------------------------------------------------------------------- info */
static void test_info(void) {
  CHECK(strcmp(fss_version(), "0.1.0") == 0);
  CHECK(strcmp(fss_aes_path(), "vaes") == 0 || strcmp(fss_aes_path(), "vaes256") == 0 ||
        strcmp(fss_aes_path(), "aes-ni") == 0 || strcmp(fss_aes_path(), "portable") == 0);
  CHECK(strcmp(fss_status_name(FSS_ERR_CORRUPT_KEY), "FSS_ERR_CORRUPT_KEY") == 0);
  CHECK(strcmp(fss_status_name(99), "unknown") == 0);
  CHECK(fss_get_num_threads() >= 1);
  EXPECT_STATUS(fss_set_num_threads(0), FSS_ERR_INVALID_ARGUMENT, "n:");
  EXPECT_STATUS(fss_set_num_threads(-3), FSS_ERR_INVALID_ARGUMENT, "n:");
  EXPECT_OK(fss_set_num_threads(2));
  CHECK(fss_get_num_threads() == 2);
  CHECK(fss_last_error()[0] == 0); /* cleared by the successful call */
  EXPECT_STATUS(fss_set_aes_path(NULL), FSS_ERR_INVALID_ARGUMENT, "name");
  EXPECT_STATUS(fss_set_aes_path("rot13"), FSS_ERR_INVALID_ARGUMENT, "rot13");
  EXPECT_OK(fss_set_aes_path("portable"));
  CHECK(strcmp(fss_aes_path(), "portable") == 0);
}

/* ------------------------------------------------------------------------- key sizes */
static void test_sizes(void) {
  size_t n = 0;
  EXPECT_OK(fss_key_buffer_size(FSS_SCHEME_DCF, 64, 64, 1, &n));
  CHECK(n == 32 + 1560);
  EXPECT_OK(fss_key_buffer_size(FSS_SCHEME_DCF, 64, 1, 1, &n));
  CHECK(n == 32 + 944);
  EXPECT_OK(fss_key_buffer_size(FSS_SCHEME_DPF, 64, 64, 2, &n));
  CHECK(n == 32 + 2 * 16 * 65);
  EXPECT_OK(fss_key_buffer_size(FSS_SCHEME_DPF, 8, 8, 0, &n));
  CHECK(n == 32);
  EXPECT_STATUS(fss_key_buffer_size(FSS_SCHEME_DPF, 8, 8, 1, NULL), FSS_ERR_INVALID_ARGUMENT, "out");
  EXPECT_STATUS(fss_key_buffer_size(3, 8, 8, 1, &n), FSS_ERR_INVALID_ARGUMENT, "scheme");
  EXPECT_STATUS(fss_key_buffer_size(FSS_SCHEME_DPF, 0, 8, 1, &n), FSS_ERR_UNSUPPORTED, "bits");
  EXPECT_STATUS(fss_key_buffer_size(FSS_SCHEME_DPF, 65, 8, 1, &n), FSS_ERR_UNSUPPORTED, "bits");
  EXPECT_STATUS(fss_key_buffer_size(FSS_SCHEME_DCF, 8, 0, 1, &n), FSS_ERR_UNSUPPORTED, "out_bits");
  EXPECT_STATUS(fss_key_buffer_size(FSS_SCHEME_DCF, 8, 65, 1, &n), FSS_ERR_UNSUPPORTED, "out_bits");
  EXPECT_STATUS(fss_key_buffer_size(FSS_SCHEME_DCF, 64, 64, (size_t)1 << 60, &n), FSS_ERR_INVALID_ARGUMENT, "count");
}

/* --------------------------------------------------------------- generation: bad input */
static void test_gen_errors(gen_fn gen, int scheme) {
  uint64_t alpha[4] = {1, 2, 3, 4}, beta[4] = {5, 6, 7, 8};
  size_t len = 0;
  EXPECT_OK(fss_key_buffer_size(scheme, 8, 16, 4, &len));
  uint8_t* k0 = (uint8_t*)xmalloc(len + 1);
  uint8_t* k1 = (uint8_t*)xmalloc(len + 1);
  EXPECT_OK(gen(8, 16, 4, alpha, beta, 0, kSeed, k0, k1, len));
  EXPECT_OK(gen(8, 16, 4, alpha, beta, 1, NULL, k0, k1, len));
  EXPECT_STATUS(gen(8, 16, 4, NULL, beta, 0, kSeed, k0, k1, len), FSS_ERR_INVALID_ARGUMENT, "alpha");
  EXPECT_STATUS(gen(8, 16, 4, alpha, NULL, 0, kSeed, k0, k1, len), FSS_ERR_INVALID_ARGUMENT, "beta");
  EXPECT_STATUS(gen(8, 16, 4, alpha, beta, 0, kSeed, NULL, k1, len), FSS_ERR_INVALID_ARGUMENT, "key0");
  EXPECT_STATUS(gen(8, 16, 4, alpha, beta, 0, kSeed, k0, NULL, len), FSS_ERR_INVALID_ARGUMENT, "key1");
  EXPECT_STATUS(gen(8, 16, 4, alpha, beta, 0, kSeed, k0, k0, len), FSS_ERR_INVALID_ARGUMENT, "overlap");
  EXPECT_STATUS(gen(8, 16, 4, alpha, beta, 0, kSeed, k0, k1, len - 1), FSS_ERR_INVALID_ARGUMENT, "key_len");
  EXPECT_STATUS(gen(8, 16, 4, alpha, beta, 0, kSeed, k0, k1, len + 1), FSS_ERR_INVALID_ARGUMENT, "key_len");
  EXPECT_STATUS(gen(8, 16, 4, alpha, beta, 0, kSeed, k0, k1, 0), FSS_ERR_INVALID_ARGUMENT, "key_len");
  EXPECT_STATUS(gen(0, 16, 4, alpha, beta, 0, kSeed, k0, k1, len), FSS_ERR_UNSUPPORTED, "bits");
  EXPECT_STATUS(gen(65, 16, 4, alpha, beta, 0, kSeed, k0, k1, len), FSS_ERR_UNSUPPORTED, "bits");
  EXPECT_STATUS(gen(8, 0, 4, alpha, beta, 0, kSeed, k0, k1, len), FSS_ERR_UNSUPPORTED, "out_bits");
  EXPECT_STATUS(gen(8, 65, 4, alpha, beta, 0, kSeed, k0, k1, len), FSS_ERR_UNSUPPORTED, "out_bits");
  EXPECT_STATUS(gen(-1, -1, 4, alpha, beta, 0, kSeed, k0, k1, len), FSS_ERR_UNSUPPORTED, "bits");
  alpha[2] = 256; /* does not fit in 8 bits */
  EXPECT_STATUS(gen(8, 16, 4, alpha, beta, 0, kSeed, k0, k1, len), FSS_ERR_INVALID_ARGUMENT, "alpha");
  alpha[2] = 3;
  /* alpha overlapping the output keys */
  EXPECT_STATUS(gen(8, 16, 4, (const uint64_t*)(void*)k0, beta, 0, kSeed, k0, k1, len), FSS_ERR_INVALID_ARGUMENT,
                "alpha");
  /* count = 0: null alpha/beta are fine, the batch is just a header */
  size_t len0 = 0;
  EXPECT_OK(fss_key_buffer_size(scheme, 8, 16, 0, &len0));
  EXPECT_OK(gen(8, 16, 0, NULL, NULL, 0, NULL, k0, k1, len0));
  fss_key_info info;
  EXPECT_OK(fss_key_validate(k0, len0, &info));
  CHECK(info.count == 0 && info.party == 0 && info.scheme == scheme);
  free(k0);
  free(k1);
}

/* --------------------------------------------------------------- evaluation: bad input */
static void test_eval_errors(gen_fn gen, eval_fn eval, int scheme) {
  enum { N = 40 }; /* more than one 32-key tile */
  uint64_t alpha[N], beta = 77, x[N], out[N];
  for (int i = 0; i < N; ++i) {
    alpha[i] = next_u64();
    x[i] = next_u64();
  }
  size_t len = 0;
  EXPECT_OK(fss_key_buffer_size(scheme, 64, 64, N, &len));
  uint8_t* k0 = (uint8_t*)xmalloc(len + 8);
  uint8_t* k1 = (uint8_t*)xmalloc(len + 8);
  EXPECT_OK(gen(64, 64, N, alpha, &beta, 1, kSeed, k0, k1, len));
  EXPECT_OK(eval(0, k0, len, x, out, N));
  EXPECT_OK(eval(1, k1, len, x, out, N));
  /* arguments */
  EXPECT_STATUS(eval(0, NULL, len, x, out, N), FSS_ERR_INVALID_ARGUMENT, "key");
  EXPECT_STATUS(eval(0, k0, len, NULL, out, N), FSS_ERR_INVALID_ARGUMENT, "x");
  EXPECT_STATUS(eval(0, k0, len, x, NULL, N), FSS_ERR_INVALID_ARGUMENT, "out");
  EXPECT_STATUS(eval(2, k0, len, x, out, N), FSS_ERR_INVALID_ARGUMENT, "party");
  EXPECT_STATUS(eval(-1, k0, len, x, out, N), FSS_ERR_INVALID_ARGUMENT, "party");
  EXPECT_STATUS(eval(1, k0, len, x, out, N), FSS_ERR_INVALID_ARGUMENT, "party"); /* party mismatch */
  EXPECT_STATUS(eval(0, k1, len, x, out, N), FSS_ERR_INVALID_ARGUMENT, "party");
  EXPECT_STATUS(eval(0, k0, len, x, out, N - 1), FSS_ERR_INVALID_ARGUMENT, "count");
  EXPECT_STATUS(eval(0, k0, len, x, out, N + 1), FSS_ERR_INVALID_ARGUMENT, "count");
  EXPECT_STATUS(eval(0, k0, len, x, (uint64_t*)(void*)(k0 + 8), N), FSS_ERR_INVALID_ARGUMENT, "overlap");
  EXPECT_STATUS(eval(0, k0, len, x, x + 1, N), FSS_ERR_INVALID_ARGUMENT, "overlap");
  /* in place (out == x) is allowed and equals the out-of-place result */
  {
    uint64_t y[N];
    memcpy(y, x, sizeof(x));
    EXPECT_OK(eval(0, k0, len, x, out, N));
    EXPECT_OK(eval(0, k0, len, y, y, N));
    CHECK(memcmp(y, out, sizeof(out)) == 0);
  }
  /* the other scheme's evaluator */
  eval_fn other = scheme == FSS_SCHEME_DPF ? fss_dcf_eval : fss_dpf_eval;
  EXPECT_STATUS(other(0, k0, len, x, out, N), FSS_ERR_INVALID_ARGUMENT, "keys");
  /* corrupted keys */
  EXPECT_STATUS(eval(0, k0, len - 1, x, out, N), FSS_ERR_CORRUPT_KEY, "truncated");
  EXPECT_STATUS(eval(0, k0, len + 8, x, out, N), FSS_ERR_CORRUPT_KEY, "trailing");
  EXPECT_STATUS(eval(0, k0, 31, x, out, N), FSS_ERR_CORRUPT_KEY, "truncated");
  EXPECT_STATUS(eval(0, k0, 0, x, out, N), FSS_ERR_CORRUPT_KEY, "truncated");
  EXPECT_STATUS(fss_key_validate(k0, len - 1, NULL), FSS_ERR_CORRUPT_KEY, "truncated");
  EXPECT_STATUS(fss_key_validate(NULL, len, NULL), FSS_ERR_INVALID_ARGUMENT, "key");
  /* flip every byte of the header and some body bytes, one at a time */
  size_t positions[64];
  int np = 0;
  for (size_t i = 0; i < 32; ++i) positions[np++] = i;
  positions[np++] = 32;
  positions[np++] = 33 + next_u64() % (len - 34);
  positions[np++] = len / 2;
  positions[np++] = len - 1;
  for (int p = 0; p < np; ++p) {
    for (int bit = 0; bit < 8; bit += 7) {
      k0[positions[p]] ^= (uint8_t)(1u << bit);
      int st = fss_key_validate(k0, len, NULL);
      CHECK(st == FSS_ERR_CORRUPT_KEY);
      st = eval(0, k0, len, x, out, N);
      /* flipping the party byte to 1 is a corrupt key (checksum) before being a party mismatch */
      CHECK(st == FSS_ERR_CORRUPT_KEY);
      if (st != FSS_ERR_CORRUPT_KEY) fprintf(stderr, "  byte %zu bit %d: %s\n", positions[p], bit, fss_last_error());
      k0[positions[p]] ^= (uint8_t)(1u << bit);
    }
  }
  EXPECT_STATUS(fss_key_validate(k0, len, NULL), FSS_OK, NULL);
  k0[len / 3] ^= 0x10;
  EXPECT_STATUS(fss_key_validate(k0, len, NULL), FSS_ERR_CORRUPT_KEY, "checksum");
  k0[len / 3] ^= 0x10;
  memcpy(k0, "XXXX", 4);
  EXPECT_STATUS(eval(0, k0, len, x, out, N), FSS_ERR_CORRUPT_KEY, "magic");
  free(k0);
  free(k1);
}

/* ---------------------------------------------------- exhaustive small-domain correctness */
static uint64_t direct(int scheme, uint64_t alpha, uint64_t beta, uint64_t x, int out_bits) {
  int hit = scheme == FSS_SCHEME_DPF ? x == alpha : x < alpha;
  return hit ? beta & mask_bits(out_bits) : 0;
}

static void test_exhaustive(int scheme, int max_bits) {
  static const int outs[] = {1, 2, 3, 7, 8, 9, 16, 31, 32, 33, 63, 64};
  gen_fn gen = scheme == FSS_SCHEME_DPF ? fss_dpf_gen : fss_dcf_gen;
  eval_fn eval = scheme == FSS_SCHEME_DPF ? fss_dpf_eval : fss_dcf_eval;
  for (int bits = 1; bits <= max_bits; ++bits) {
    for (size_t oi = 0; oi < sizeof(outs) / sizeof(outs[0]); ++oi) {
      const int m = outs[oi];
      const size_t D = (size_t)1 << bits;
      uint64_t* alpha = (uint64_t*)xmalloc(D * sizeof(uint64_t));
      uint64_t* beta = (uint64_t*)xmalloc(D * sizeof(uint64_t));
      uint64_t* x = (uint64_t*)xmalloc(D * sizeof(uint64_t));
      uint64_t* y0 = (uint64_t*)xmalloc(D * sizeof(uint64_t));
      uint64_t* y1 = (uint64_t*)xmalloc(D * sizeof(uint64_t));
      for (size_t a = 0; a < D; ++a) {
        alpha[a] = a;                                /* every alpha of the domain */
        beta[a] = a == 0 ? 1 : next_u64();           /* unreduced betas: taken mod 2^m */
      }
      size_t len = 0;
      EXPECT_OK(fss_key_buffer_size(scheme, bits, m, D, &len));
      uint8_t* k0 = (uint8_t*)xmalloc(len);
      uint8_t* k1 = (uint8_t*)xmalloc(len);
      EXPECT_OK(gen(bits, m, D, alpha, beta, 0, NULL, k0, k1, len));
      int bad = 0;
      for (uint64_t xv = 0; xv < D; ++xv) { /* every x, for all keys at once */
        for (size_t i = 0; i < D; ++i) x[i] = xv;
        if (eval(0, k0, len, x, y0, D) != FSS_OK || eval(1, k1, len, x, y1, D) != FSS_OK) {
          ++bad;
          break;
        }
        for (size_t i = 0; i < D; ++i) {
          if ((y0[i] | y1[i]) & ~mask_bits(m)) ++bad;
          if (((y0[i] + y1[i]) & mask_bits(m)) != direct(scheme, alpha[i], beta[i], xv, m)) ++bad;
        }
      }
      if (bad) fprintf(stderr, "exhaustive scheme=%d bits=%d out_bits=%d: %d mismatches\n", scheme, bits, m, bad);
      CHECK(bad == 0);
      if (scheme == FSS_SCHEME_DPF) { /* full-domain evaluation agrees */
        uint64_t* all0 = (uint64_t*)xmalloc(D * D * sizeof(uint64_t));
        uint64_t* all1 = (uint64_t*)xmalloc(D * D * sizeof(uint64_t));
        EXPECT_OK(fss_dpf_eval_all(0, k0, len, all0, D * D));
        EXPECT_OK(fss_dpf_eval_all(1, k1, len, all1, D * D));
        int bad_all = 0;
        for (size_t i = 0; i < D; ++i)
          for (uint64_t xv = 0; xv < D; ++xv)
            if (((all0[i * D + xv] + all1[i * D + xv]) & mask_bits(m)) != direct(scheme, alpha[i], beta[i], xv, m))
              ++bad_all;
        CHECK(bad_all == 0);
        EXPECT_STATUS(fss_dpf_eval_all(0, k0, len, all0, D * D - 1), FSS_ERR_INVALID_ARGUMENT, "out_len");
        EXPECT_STATUS(fss_dpf_eval_all(0, k0, len, NULL, D * D), FSS_ERR_INVALID_ARGUMENT, "out");
        EXPECT_STATUS(fss_dpf_eval_all(1, k0, len, all0, D * D), FSS_ERR_INVALID_ARGUMENT, "party");
        { /* fused lookup: two tables, every key at every public x, against the direct sum */
          uint64_t* tab = (uint64_t*)xmalloc(2 * D * sizeof(uint64_t));
          uint64_t* l0 = (uint64_t*)xmalloc(2 * D * sizeof(uint64_t));
          uint64_t* l1 = (uint64_t*)xmalloc(2 * D * sizeof(uint64_t));
          for (size_t j = 0; j < 2 * D; ++j) tab[j] = next_u64();
          int bad_lut = 0;
          for (uint64_t xv = 0; xv < D; ++xv) {
            for (size_t i = 0; i < D; ++i) x[i] = (xv + i) & (D - 1);
            EXPECT_OK(fss_dpf_lookup(0, k0, len, x, tab, 2, l0));
            EXPECT_OK(fss_dpf_lookup(1, k1, len, x, tab, 2, l1));
            for (size_t t = 0; t < 2; ++t)
              for (size_t i = 0; i < D; ++i) {
                uint64_t want = 0;
                for (uint64_t j = 0; j < D; ++j)
                  want += tab[t * D + ((x[i] - j) & (D - 1))] * (all0[i * D + j] + all1[i * D + j]);
                if (((l0[t * D + i] + l1[t * D + i]) & mask_bits(m)) != (want & mask_bits(m))) ++bad_lut;
              }
          }
          CHECK(bad_lut == 0);
          EXPECT_STATUS(fss_dpf_lookup(0, k0, len, x, tab, 0, l0), FSS_ERR_INVALID_ARGUMENT, "ntab");
          EXPECT_STATUS(fss_dpf_lookup(0, k0, len, x, NULL, 2, l0), FSS_ERR_INVALID_ARGUMENT, "tables");
          EXPECT_STATUS(fss_dpf_lookup(1, k0, len, x, tab, 2, l0), FSS_ERR_INVALID_ARGUMENT, "party");
          free(tab); free(l0); free(l1);
        }
        free(all0);
        free(all1);
      }
      free(alpha); free(beta); free(x); free(y0); free(y1); free(k0); free(k1);
    }
  }
}

/* ------------------------------------------------------------- 64-bit edge cases, slice */
static void test_wide(int scheme, int out_bits) {
  enum { N = 70 };
  gen_fn gen = scheme == FSS_SCHEME_DPF ? fss_dpf_gen : fss_dcf_gen;
  eval_fn eval = scheme == FSS_SCHEME_DPF ? fss_dpf_eval : fss_dcf_eval;
  uint64_t alpha[N], beta[N], x[N], y0[N], y1[N];
  for (int i = 0; i < N; ++i) {
    alpha[i] = next_u64();
    beta[i] = next_u64();
    switch (i % 7) {
      case 0: x[i] = alpha[i]; break;
      case 1: x[i] = alpha[i] - 1; break;
      case 2: x[i] = alpha[i] + 1; break;
      case 3: alpha[i] = 0; x[i] = i % 2 ? 0 : next_u64(); break;
      case 4: alpha[i] = ~(uint64_t)0; x[i] = i % 2 ? alpha[i] : alpha[i] - 1; break;
      case 5: x[i] = alpha[i] ^ ((uint64_t)1 << (i % 64)); break;
      default: x[i] = next_u64();
    }
  }
  size_t len = 0;
  EXPECT_OK(fss_key_buffer_size(scheme, 64, out_bits, N, &len));
  uint8_t* k0 = (uint8_t*)xmalloc(len);
  uint8_t* k1 = (uint8_t*)xmalloc(len);
  EXPECT_OK(gen(64, out_bits, N, alpha, beta, 0, NULL, k0, k1, len));
  EXPECT_OK(eval(0, k0, len, x, y0, N));
  EXPECT_OK(eval(1, k1, len, x, y1, N));
  int bad = 0;
  for (int i = 0; i < N; ++i)
    if (((y0[i] + y1[i]) & mask_bits(out_bits)) != direct(scheme, alpha[i], beta[i], x[i], out_bits)) ++bad;
  CHECK(bad == 0);
  /* validate: metadata */
  fss_key_info info;
  EXPECT_OK(fss_key_validate(k1, len, &info));
  CHECK(info.scheme == scheme && info.party == 1 && info.bits == 64 && info.out_bits == out_bits && info.count == N);
  CHECK(info.buffer_size == len && 32 + info.key_size * N == len);
  /* slice keys [33, 33 + 30): evaluating the slice gives the same shares */
  size_t slen = 0;
  EXPECT_OK(fss_key_buffer_size(scheme, 64, out_bits, 30, &slen));
  uint8_t* s0 = (uint8_t*)xmalloc(slen);
  EXPECT_OK(fss_key_slice(k0, len, 33, 30, s0, slen));
  uint64_t z[30];
  EXPECT_OK(eval(0, s0, slen, x + 33, z, 30));
  CHECK(memcmp(z, y0 + 33, sizeof(z)) == 0);
  EXPECT_STATUS(fss_key_slice(k0, len, 41, 30, s0, slen), FSS_ERR_INVALID_ARGUMENT, "outside");
  EXPECT_STATUS(fss_key_slice(k0, len, 33, 30, s0, slen - 1), FSS_ERR_INVALID_ARGUMENT, "out_len");
  EXPECT_STATUS(fss_key_slice(k0, len, 33, 30, NULL, slen), FSS_ERR_INVALID_ARGUMENT, "out");
  EXPECT_STATUS(fss_key_slice(NULL, len, 33, 30, s0, slen), FSS_ERR_INVALID_ARGUMENT, "key");
  EXPECT_STATUS(fss_key_slice(k0, len, 0, 30, k0 + 64, slen), FSS_ERR_INVALID_ARGUMENT, "overlap");
  k0[100] ^= 1; /* slicing must not launder a corrupted batch into a valid checksum */
  EXPECT_STATUS(fss_key_slice(k0, len, 33, 30, s0, slen), FSS_ERR_CORRUPT_KEY, "checksum");
  free(s0); free(k0); free(k1);
}

/* ------------------------------------------------------- determinism and AES path equality */
static void test_seeded(void) {
  enum { N = 50 };
  uint64_t alpha[N], beta = 12345;
  for (int i = 0; i < N; ++i) alpha[i] = next_u64();
  size_t len = 0;
  EXPECT_OK(fss_key_buffer_size(FSS_SCHEME_DCF, 64, 64, N, &len));
  uint8_t* a0 = (uint8_t*)xmalloc(len); uint8_t* a1 = (uint8_t*)xmalloc(len);
  uint8_t* b0 = (uint8_t*)xmalloc(len); uint8_t* b1 = (uint8_t*)xmalloc(len);
  EXPECT_OK(fss_set_aes_path("portable"));
  EXPECT_OK(fss_dcf_gen(64, 64, N, alpha, &beta, 1, kSeed, a0, a1, len));
  const char* paths[] = {"aes-ni", "vaes256", "vaes"};
  for (int p = 0; p < 3; ++p) {
    if (fss_set_aes_path(paths[p]) != FSS_OK) continue; /* not on this CPU */
    EXPECT_OK(fss_dcf_gen(64, 64, N, alpha, &beta, 1, kSeed, b0, b1, len));
    CHECK(memcmp(a0, b0, len) == 0 && memcmp(a1, b1, len) == 0);
  }
  EXPECT_OK(fss_dcf_gen(64, 64, N, alpha, &beta, 1, NULL, b0, b1, len)); /* OS randomness */
  CHECK(memcmp(a0, b0, len) != 0);
  free(a0); free(a1); free(b0); free(b1);
}

/* -------------------------------------------------------------------------------- PRG */
static void test_prg(void) {
  enum { N = 300 };
  uint8_t* buf = (uint8_t*)xmalloc(16 * N + 1);
  uint8_t* in = buf + 1; /* deliberately misaligned */
  uint8_t* ref = (uint8_t*)xmalloc(16 * N);
  uint8_t* out = (uint8_t*)xmalloc(16 * N);
  for (int i = 0; i < 16 * N; ++i) in[i] = (uint8_t)next_u64();
  EXPECT_OK(fss_prg_hash(in, ref, N, 1));
  memcpy(out, in, 16 * N);
  EXPECT_OK(fss_prg_hash(out, out, N, 1)); /* in place */
  CHECK(memcmp(out, ref, 16 * N) == 0);
  EXPECT_OK(fss_prg_hash(in, out, N, 0));
  CHECK(memcmp(out, ref, 16 * N) != 0); /* the tweak matters */
  EXPECT_OK(fss_prg_hash(NULL, NULL, 0, 0));
  EXPECT_STATUS(fss_prg_hash(NULL, out, N, 0), FSS_ERR_INVALID_ARGUMENT, "in");
  EXPECT_STATUS(fss_prg_hash(in, NULL, N, 0), FSS_ERR_INVALID_ARGUMENT, "out");
  EXPECT_STATUS(fss_prg_hash(in, in + 16, N - 1, 0), FSS_ERR_INVALID_ARGUMENT, "overlap");
  EXPECT_STATUS(fss_prg_hash(in, out, (size_t)1 << 62, 0), FSS_ERR_INVALID_ARGUMENT, "n_blocks");
  /* Known answer: H(0, 0) = AES_K(0) with K = 00 01 .. 0f (FIPS-197 key, zero plaintext). */
  uint8_t zero[16] = {0}, h[16];
  static const uint8_t aes_k_0[16] = {0xc6, 0xa1, 0x3b, 0x37, 0x87, 0x8f, 0x5b, 0x82,
                                      0x6f, 0x4f, 0x81, 0x62, 0xa1, 0xc8, 0xd8, 0x79};
  EXPECT_OK(fss_prg_hash(zero, h, 1, 0));
  CHECK(memcmp(h, aes_k_0, 16) == 0);
  free(buf); free(ref); free(out);
}

/* --------------------------------------------------------------------------- ring GEMM */
static void naive_matmul(size_t m, size_t k, size_t n, const uint64_t* a, const uint64_t* b, uint64_t* c) {
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      uint64_t s = 0;
      for (size_t p = 0; p < k; ++p) s += a[i * k + p] * b[p * n + j];
      c[i * n + j] = s;
    }
}

static void test_ring(void) {
  static const size_t shapes[][4] = {{1, 1, 1, 1}, {1, 3, 5, 7}, {2, 17, 33, 9}, {3, 64, 70, 65}, {1, 100, 1, 100},
                                     {2, 1, 200, 1}, {1, 130, 257, 50}};
  for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); ++s) {
    const size_t B = shapes[s][0], m = shapes[s][1], k = shapes[s][2], n = shapes[s][3];
    uint64_t* a = (uint64_t*)xmalloc(B * m * k * sizeof(uint64_t));
    uint64_t* b = (uint64_t*)xmalloc(B * k * n * sizeof(uint64_t));
    uint64_t* c = (uint64_t*)xmalloc(B * m * n * sizeof(uint64_t));
    uint64_t* r = (uint64_t*)xmalloc(m * n * sizeof(uint64_t));
    for (size_t i = 0; i < B * m * k; ++i) a[i] = next_u64();
    for (size_t i = 0; i < B * k * n; ++i) b[i] = (i % 5 == 0) ? ~(uint64_t)0 : next_u64();
    EXPECT_OK(fss_ring_matmul(B, m, k, n, a, b, c, m * k, k * n));
    int bad = 0;
    for (size_t bi = 0; bi < B; ++bi) {
      naive_matmul(m, k, n, a + bi * m * k, b + bi * k * n, r);
      if (memcmp(r, c + bi * m * n, m * n * sizeof(uint64_t)) != 0) ++bad;
    }
    /* broadcast B (stride 0) */
    EXPECT_OK(fss_ring_matmul(B, m, k, n, a, b, c, m * k, 0));
    for (size_t bi = 0; bi < B; ++bi) {
      naive_matmul(m, k, n, a + bi * m * k, b, r);
      if (memcmp(r, c + bi * m * n, m * n * sizeof(uint64_t)) != 0) ++bad;
    }
    if (bad) fprintf(stderr, "ring shape %zu x %zu x %zu x %zu: %d mismatches\n", B, m, k, n, bad);
    CHECK(bad == 0);
    free(a); free(b); free(c); free(r);
  }
  uint64_t a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 2, 3, 4, 5, 6}, c[4];
  c[0] = c[1] = c[2] = c[3] = 99;
  EXPECT_OK(fss_ring_matmul(1, 2, 0, 2, NULL, NULL, c, 0, 0)); /* k = 0: zeros */
  CHECK(c[0] == 0 && c[1] == 0 && c[2] == 0 && c[3] == 0);
  EXPECT_OK(fss_ring_matmul(0, 2, 3, 2, NULL, NULL, NULL, 0, 0)); /* empty batch */
  EXPECT_STATUS(fss_ring_matmul(1, 2, 3, 2, NULL, b, c, 0, 0), FSS_ERR_INVALID_ARGUMENT, "a");
  EXPECT_STATUS(fss_ring_matmul(1, 2, 3, 2, a, NULL, c, 0, 0), FSS_ERR_INVALID_ARGUMENT, "b");
  EXPECT_STATUS(fss_ring_matmul(1, 2, 3, 2, a, b, NULL, 0, 0), FSS_ERR_INVALID_ARGUMENT, "c");
  EXPECT_STATUS(fss_ring_matmul(1, 2, 3, 2, a, b, a, 0, 0), FSS_ERR_INVALID_ARGUMENT, "overlap");
  EXPECT_STATUS(fss_ring_matmul(1, (size_t)1 << 40, (size_t)1 << 40, 2, a, b, c, 0, 0), FSS_ERR_INVALID_ARGUMENT,
                "overflow");
  EXPECT_OK(fss_ring_matmul(1, 2, 3, 2, a, b, c, 0, 0));
  CHECK(c[0] == 22 && c[1] == 28 && c[2] == 49 && c[3] == 64);
}

/* Issue 16 item 8 / item 6: byte sizes that wrap size_t or exceed the 2^40-byte buffer limit
   are rejected before any memory is touched (these read out of bounds / silently returned
   FSS_OK before), and the thread count is capped. */
static void test_size_limits(void) {
  uint64_t a[2] = {3, 5}, b[2] = {7, 11}, c[2] = {99, 99};
  /* element extent fits size_t, byte extent (x 8) wraps: stride SIZE_MAX / 8 */
  EXPECT_STATUS(fss_ring_matmul(2, 1, 1, 1, a, b, c, SIZE_MAX / 8, 0), FSS_ERR_INVALID_ARGUMENT, "a: size too large");
  EXPECT_STATUS(fss_ring_matmul(2, 1, 1, 1, a, b, c, 0, SIZE_MAX / 8), FSS_ERR_INVALID_ARGUMENT, "b: size too large");
  /* batch SIZE_MAX: c spans SIZE_MAX elements (bytes wrap); was FSS_OK without computing */
  EXPECT_STATUS(fss_ring_matmul(SIZE_MAX, 1, 1, 1, a, b, c, 0, 0), FSS_ERR_INVALID_ARGUMENT, "size too large");
  /* just above the limit: 2^37 + 1 elements of 8 bytes */
  EXPECT_STATUS(fss_ring_matmul(1, ((size_t)1 << 37) + 1, 1, 1, a, b, c, 0, 0), FSS_ERR_INVALID_ARGUMENT, "a");
  CHECK(c[0] == 99 && c[1] == 99); /* nothing written */
  EXPECT_OK(fss_ring_matmul(2, 1, 1, 1, a, b, c, 1, 1));
  CHECK(c[0] == 21 && c[1] == 55);
  /* key counts: the whole buffer must stay <= 2^40 bytes */
  size_t len = 0;
  EXPECT_STATUS(fss_key_buffer_size(FSS_SCHEME_DCF, 64, 64, (size_t)1 << 61, &len), FSS_ERR_INVALID_ARGUMENT, "count");
  EXPECT_STATUS(fss_key_buffer_size(FSS_SCHEME_DPF, 8, 8, SIZE_MAX, &len), FSS_ERR_INVALID_ARGUMENT, "count");
  EXPECT_OK(fss_key_buffer_size(FSS_SCHEME_DCF, 64, 64, (((size_t)1 << 40) - 32) / 1560, &len));
  CHECK(len <= ((size_t)1 << 40));
  /* thread cap: 8 x cores, at most 1024 */
  const int before = fss_get_num_threads();
  EXPECT_STATUS(fss_set_num_threads(100000), FSS_ERR_INVALID_ARGUMENT, "n");
  EXPECT_STATUS(fss_set_num_threads(1025), FSS_ERR_INVALID_ARGUMENT, "n");
  CHECK(fss_get_num_threads() == before);
  EXPECT_OK(fss_set_num_threads(before));
}

/* The fastest AES path this CPU has (the default). */
static void set_best_path(void) {
  if (fss_set_aes_path("vaes") != FSS_OK && fss_set_aes_path("aes-ni") != FSS_OK) (void)fss_set_aes_path("portable");
}

int main(void) {
  static const int wide_outs[] = {1, 2, 8, 16, 32, 40, 64};
  const char* best;
  test_info(); /* leaves the portable path selected */
  set_best_path();
  best = fss_aes_path();
  test_sizes();
  test_gen_errors(fss_dpf_gen, FSS_SCHEME_DPF);
  test_gen_errors(fss_dcf_gen, FSS_SCHEME_DCF);
  test_eval_errors(fss_dpf_gen, fss_dpf_eval, FSS_SCHEME_DPF);
  test_eval_errors(fss_dcf_gen, fss_dcf_eval, FSS_SCHEME_DCF);
  test_exhaustive(FSS_SCHEME_DPF, 6);
  test_exhaustive(FSS_SCHEME_DCF, 6);
  for (size_t i = 0; i < sizeof(wide_outs) / sizeof(wide_outs[0]); ++i) {
    test_wide(FSS_SCHEME_DPF, wide_outs[i]);
    test_wide(FSS_SCHEME_DCF, wide_outs[i]);
  }
  test_seeded(); /* key bytes identical on every AES path */
  /* the table-free portable AES (slow): a smaller exhaustive run */
  EXPECT_OK(fss_set_aes_path("portable"));
  test_exhaustive(FSS_SCHEME_DPF, 3);
  test_exhaustive(FSS_SCHEME_DCF, 3);
  test_wide(FSS_SCHEME_DCF, 64);
  set_best_path();
  test_prg();
  test_ring();
  test_size_limits();
  printf("test_capi: %d checks, %d failures (aes path %s)\n", g_checks, g_failures, best);
  return g_failures ? 1 : 0;
}
