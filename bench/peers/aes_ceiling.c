/* The machine's AES-128 ceiling on one core: how many fixed-key AES blocks per second the CPU can
 * encrypt when nothing else is done (the limit for an AES-bound PRG such as the DPF/DCF tree walk).
 * Compiled at run time by fsskernels.bench (cc -O3 -march=native); x86-64 with AES-NI only.
 *
 * Tests, one JSON line each (best of REPS timed repetitions of PASSES passes over a 1 MiB buffer
 * that stays in L2, so memory bandwidth is not what is measured):
 *   aesni_ecb    AES-NI, xmm, 8 independent blocks in flight, fixed key
 *   vaes256_ecb  VAES on ymm (2 blocks per register), 16 blocks in flight   (if __VAES__)
 *   vaes512_ecb  VAES on zmm (4 blocks per register), 16 blocks in flight   (if __VAES__ + AVX-512F)
 *   chain        one dependent Matyas-Meyer-Oseas chain s = AES(s) ^ s (latency bound)
 *   rekeyed      key schedule + 2 blocks per tree node, 8 independent walks (seed-as-key PRGs)
 * Output: {"test": name, "blocks_per_s": v} (rekeyed: "nodes_per_s").
 */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define BLOCKS (1 << 16) /* 1 MiB of blocks */
#define PASSES 16        /* passes per timed repetition */
#define REPS 15

static __m128i data[BLOCKS] __attribute__((aligned(64)));

static double seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* AES-128 key schedule step: fold the keygenassist word into the previous round key. */
static __m128i schedule_step(__m128i key, __m128i assist) {
    assist = _mm_shuffle_epi32(assist, 0xff);
    for (int i = 0; i < 3; ++i) key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    return _mm_xor_si128(key, assist);
}

static void key_schedule(__m128i key, __m128i rk[11]) {
    rk[0] = key;
#define STEP(i, rcon) rk[i] = schedule_step(rk[i - 1], _mm_aeskeygenassist_si128(rk[i - 1], rcon))
    STEP(1, 0x01); STEP(2, 0x02); STEP(3, 0x04); STEP(4, 0x08); STEP(5, 0x10);
    STEP(6, 0x20); STEP(7, 0x40); STEP(8, 0x80); STEP(9, 0x1b); STEP(10, 0x36);
#undef STEP
}

static __m128i encrypt_block(__m128i b, const __m128i rk[11]) {
    b = _mm_xor_si128(b, rk[0]);
    for (int r = 1; r < 10; ++r) b = _mm_aesenc_si128(b, rk[r]);
    return _mm_aesenclast_si128(b, rk[10]);
}

static void report(const char *name, const char *unit, double per_rep, double best) {
    printf("{\"test\": \"%s\", \"%s\": %.6g}\n", name, unit, per_rep / best);
    fflush(stdout);
}

static void aesni_ecb(const __m128i rk[11]) {
    double best = 1e30;
    for (int rep = 0; rep < REPS; ++rep) {
        double t = seconds();
        for (int pass = 0; pass < PASSES; ++pass)
            for (int i = 0; i < BLOCKS; i += 8) {
                __m128i b[8];
                for (int j = 0; j < 8; ++j) b[j] = _mm_xor_si128(data[i + j], rk[0]);
                for (int r = 1; r < 10; ++r)
                    for (int j = 0; j < 8; ++j) b[j] = _mm_aesenc_si128(b[j], rk[r]);
                for (int j = 0; j < 8; ++j) data[i + j] = _mm_aesenclast_si128(b[j], rk[10]);
            }
        t = seconds() - t;
        if (t < best) best = t;
    }
    report("aesni_ecb", "blocks_per_s", (double)BLOCKS * PASSES, best);
}

#if defined(__VAES__)
static void vaes256_ecb(const __m128i rk[11]) {
    __m256i k[11];
    for (int r = 0; r < 11; ++r) k[r] = _mm256_broadcastsi128_si256(rk[r]);
    double best = 1e30;
    for (int rep = 0; rep < REPS; ++rep) {
        double t = seconds();
        for (int pass = 0; pass < PASSES; ++pass)
            for (int i = 0; i < BLOCKS; i += 16) {
                __m256i b[8];
                for (int j = 0; j < 8; ++j)
                    b[j] = _mm256_xor_si256(_mm256_load_si256((const __m256i *)&data[i + 2 * j]), k[0]);
                for (int r = 1; r < 10; ++r)
                    for (int j = 0; j < 8; ++j) b[j] = _mm256_aesenc_epi128(b[j], k[r]);
                for (int j = 0; j < 8; ++j)
                    _mm256_store_si256((__m256i *)&data[i + 2 * j], _mm256_aesenclast_epi128(b[j], k[10]));
            }
        t = seconds() - t;
        if (t < best) best = t;
    }
    report("vaes256_ecb", "blocks_per_s", (double)BLOCKS * PASSES, best);
}
#endif

#if defined(__VAES__) && defined(__AVX512F__)
static void vaes512_ecb(const __m128i rk[11]) {
    __m512i k[11];
    for (int r = 0; r < 11; ++r) k[r] = _mm512_broadcast_i32x4(rk[r]);
    double best = 1e30;
    for (int rep = 0; rep < REPS; ++rep) {
        double t = seconds();
        for (int pass = 0; pass < PASSES; ++pass)
            for (int i = 0; i < BLOCKS; i += 16) {
                __m512i b[4];
                for (int j = 0; j < 4; ++j) b[j] = _mm512_xor_si512(_mm512_load_si512(&data[i + 4 * j]), k[0]);
                for (int r = 1; r < 10; ++r)
                    for (int j = 0; j < 4; ++j) b[j] = _mm512_aesenc_epi128(b[j], k[r]);
                for (int j = 0; j < 4; ++j) _mm512_store_si512(&data[i + 4 * j], _mm512_aesenclast_epi128(b[j], k[10]));
            }
        t = seconds() - t;
        if (t < best) best = t;
    }
    report("vaes512_ecb", "blocks_per_s", (double)BLOCKS * PASSES, best);
}
#endif

static uint64_t chain(const __m128i rk[11]) {
    __m128i s = data[0];
    double best = 1e30;
    for (int rep = 0; rep < 5; ++rep) {
        double t = seconds();
        for (int i = 0; i < BLOCKS * 4; ++i) s = _mm_xor_si128(encrypt_block(s, rk), s);
        t = seconds() - t;
        if (t < best) best = t;
    }
    report("chain", "blocks_per_s", (double)BLOCKS * 4, best);
    return (uint64_t)_mm_cvtsi128_si64(s);
}

static uint64_t rekeyed(void) {
    __m128i seed[8];
    for (int j = 0; j < 8; ++j) seed[j] = data[j];
    double best = 1e30;
    const __m128i zero = _mm_setzero_si128(), one = _mm_set_epi64x(0, 1);
    for (int rep = 0; rep < 5; ++rep) {
        double t = seconds();
        for (int i = 0; i < BLOCKS / 2; ++i)
            for (int j = 0; j < 8; ++j) {
                __m128i k[11];
                key_schedule(seed[j], k);
                seed[j] = _mm_xor_si128(encrypt_block(zero, k), encrypt_block(one, k));
            }
        t = seconds() - t;
        if (t < best) best = t;
    }
    report("rekeyed", "nodes_per_s", (double)BLOCKS / 2 * 8, best);
    return (uint64_t)_mm_cvtsi128_si64(seed[0]);
}

int main(void) {
    __m128i rk[11];
    key_schedule(_mm_set_epi64x(0x243f6a8885a308d3LL, 0x13198a2e03707344LL), rk);
    for (int i = 0; i < BLOCKS; ++i) data[i] = _mm_set_epi64x(i, ~(int64_t)i);
    aesni_ecb(rk);
#if defined(__VAES__)
    vaes256_ecb(rk);
#endif
#if defined(__VAES__) && defined(__AVX512F__)
    vaes512_ecb(rk);
#endif
    volatile uint64_t sink = chain(rk) ^ rekeyed();
    (void)sink;
    return 0;
}
