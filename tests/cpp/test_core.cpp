// Tests of the C++ API (fsskernels/fsskernels.h): bad input throws std::invalid_argument
// (never undefined behaviour), corrupted keys are caught by parse_key_header(full=true),
// and the C++ and C APIs produce the same key bytes. Exit status 0 = all passed.
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "fsskernels/c_api.h"
#include "fsskernels/fsskernels.h"

namespace {

int g_failures = 0, g_checks = 0;

#define CHECK(cond)                                                              \
  do {                                                                           \
    ++g_checks;                                                                  \
    if (!(cond)) {                                                               \
      ++g_failures;                                                              \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                            \
  } while (0)

// fn() must throw std::invalid_argument whose message starts with `prefix`.
void expect_invalid(const char* what, const std::function<void()>& fn, const std::string& prefix) {
  ++g_checks;
  try {
    fn();
  } catch (const std::invalid_argument& e) {
    if (std::string(e.what()).rfind(prefix, 0) != 0) {
      ++g_failures;
      std::fprintf(stderr, "%s: message '%s' does not start with '%s'\n", what, e.what(), prefix.c_str());
    }
    return;
  } catch (const std::exception& e) {
    ++g_failures;
    std::fprintf(stderr, "%s: wrong exception type: %s\n", what, e.what());
    return;
  }
  ++g_failures;
  std::fprintf(stderr, "%s: no exception\n", what);
}

uint64_t mask_bits(int m) { return m >= 64 ? ~uint64_t(0) : (uint64_t(1) << m) - 1; }

struct Pair {
  std::vector<uint8_t> k0, k1;
};

Pair gen(fss::Scheme s, int bits, int out_bits, const std::vector<uint64_t>& alpha, const std::vector<uint64_t>& beta,
         const uint8_t* seed) {
  const size_t len = fss::key_buffer_size(s, bits, out_bits, alpha.size());
  Pair p{std::vector<uint8_t>(len), std::vector<uint8_t>(len)};
  fss::GenArgs a;
  a.bits = bits;
  a.out_bits = out_bits;
  a.count = alpha.size();
  a.alpha = alpha.data();
  a.beta = beta.data();
  a.beta_scalar = beta.size() == 1 && alpha.size() != 1;
  a.seed16 = seed;
  a.key0 = p.k0.data();
  a.key1 = p.k1.data();
  a.key_len = len;
  if (s == fss::Scheme::DPF) fss::dpf_gen(a); else fss::dcf_gen(a);
  return p;
}

std::vector<uint64_t> eval(fss::Scheme s, int party, const std::vector<uint8_t>& key, const std::vector<uint64_t>& x) {
  std::vector<uint64_t> out(x.size());
  fss::EvalArgs a;
  a.party = party;
  a.key = key.data();
  a.key_len = key.size();
  a.x = x.data();
  a.out = out.data();
  if (s == fss::Scheme::DPF) fss::dpf_eval(a); else fss::dcf_eval(a);
  return out;
}

void test_correctness() {
  std::mt19937_64 rng(7);
  for (fss::Scheme s : {fss::Scheme::DPF, fss::Scheme::DCF}) {
    for (int bits : {1, 5, 17, 32, 63, 64}) {
      for (int out_bits : {1, 2, 12, 32, 64}) {
        const size_t n = 100;
        std::vector<uint64_t> alpha(n), beta(n), x(n);
        for (size_t i = 0; i < n; ++i) {
          alpha[i] = rng() & mask_bits(bits);
          beta[i] = rng();
          const uint64_t r = rng() & mask_bits(bits);
          x[i] = i % 4 == 0 ? alpha[i] : i % 4 == 1 ? (alpha[i] - 1) & mask_bits(bits) : r;
        }
        const Pair p = gen(s, bits, out_bits, alpha, beta, nullptr);
        const auto y0 = eval(s, 0, p.k0, x), y1 = eval(s, 1, p.k1, x);
        int bad = 0;
        for (size_t i = 0; i < n; ++i) {
          const bool hit = s == fss::Scheme::DPF ? x[i] == alpha[i] : x[i] < alpha[i];
          const uint64_t want = hit ? beta[i] & mask_bits(out_bits) : 0;
          if (((y0[i] + y1[i]) & mask_bits(out_bits)) != want) ++bad;
        }
        if (bad) std::fprintf(stderr, "scheme %d bits %d out %d: %d wrong\n", int(s), bits, out_bits, bad);
        CHECK(bad == 0);
      }
    }
  }
}

void test_same_bytes_as_c_api() {
  const uint8_t seed[16] = {42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  std::vector<uint64_t> alpha = {0, 1, 12345678901234567ull, ~uint64_t(0)}, beta = {3, 4, 5, 6};
  for (fss::Scheme s : {fss::Scheme::DPF, fss::Scheme::DCF}) {
    for (int out_bits : {1, 64}) {
      const Pair p = gen(s, 64, out_bits, alpha, beta, seed);
      std::vector<uint8_t> c0(p.k0.size()), c1(p.k1.size());
      auto cgen = s == fss::Scheme::DPF ? fss_dpf_gen : fss_dcf_gen;
      CHECK(cgen(64, out_bits, alpha.size(), alpha.data(), beta.data(), 0, seed, c0.data(), c1.data(), c0.size()) ==
            FSS_OK);
      CHECK(c0 == p.k0 && c1 == p.k1);
    }
  }
}

void test_bad_input() {
  std::vector<uint64_t> alpha = {1, 2}, beta = {1, 1}, x = {0, 0}, out(2);
  expect_invalid("bits 0", [&] { gen(fss::Scheme::DCF, 0, 8, alpha, beta, nullptr); }, "bits:");
  expect_invalid("bits 65", [&] { gen(fss::Scheme::DCF, 65, 8, alpha, beta, nullptr); }, "bits:");
  expect_invalid("out_bits 65", [&] { gen(fss::Scheme::DPF, 8, 65, alpha, beta, nullptr); }, "out_bits:");
  expect_invalid("alpha range", [&] { gen(fss::Scheme::DPF, 1, 8, alpha, beta, nullptr); }, "alpha:");
  expect_invalid("null alpha", [&] {
    std::vector<uint8_t> k0(fss::key_buffer_size(fss::Scheme::DCF, 8, 8, 2)), k1(k0.size());
    fss::GenArgs a;
    a.bits = 8; a.out_bits = 8; a.count = 2; a.beta = beta.data();
    a.key0 = k0.data(); a.key1 = k1.data(); a.key_len = k0.size();
    fss::dcf_gen(a);
  }, "alpha:");
  expect_invalid("key_len", [&] {
    std::vector<uint8_t> k0(10), k1(10);
    fss::GenArgs a;
    a.bits = 8; a.out_bits = 8; a.count = 2; a.alpha = alpha.data(); a.beta = beta.data();
    a.key0 = k0.data(); a.key1 = k1.data(); a.key_len = k0.size();
    fss::dcf_gen(a);
  }, "key_len:");

  Pair p = gen(fss::Scheme::DCF, 8, 8, alpha, beta, nullptr);
  expect_invalid("party mismatch", [&] { eval(fss::Scheme::DCF, 1, p.k0, x); }, "party:");
  expect_invalid("party 2", [&] { eval(fss::Scheme::DCF, 2, p.k0, x); }, "party:");
  expect_invalid("scheme", [&] { eval(fss::Scheme::DPF, 0, p.k0, x); }, "keys:");
  expect_invalid("x range", [&] { eval(fss::Scheme::DCF, 0, p.k0, {0, 256}); }, "x:");
  expect_invalid("null key", [&] { fss::parse_key_header(nullptr, 10, true); }, "keys:");
  std::vector<uint8_t> trunc(p.k0.begin(), p.k0.end() - 1);
  expect_invalid("truncated", [&] { eval(fss::Scheme::DCF, 0, trunc, x); }, "keys:");
  expect_invalid("truncated parse", [&] { fss::parse_key_header(trunc.data(), trunc.size(), true); }, "keys:");
  std::vector<uint8_t> flipped = p.k0;
  flipped[flipped.size() / 2] ^= 4;
  expect_invalid("flipped", [&] { fss::parse_key_header(flipped.data(), flipped.size(), true); }, "keys:");
  flipped = p.k0;
  flipped[0] ^= 1;
  expect_invalid("magic", [&] { eval(fss::Scheme::DCF, 0, flipped, x); }, "keys:");
  expect_invalid("threads", [&] { fss::set_num_threads(0); }, "n:");
  expect_invalid("ring null", [&] {
    fss::RingGemmArgs g;
    g.m = g.k = g.n = 2;
    fss::ring_matmul(g);
  }, "a:");
  expect_invalid("dpf_eval_all bits", [&] {
    Pair q = gen(fss::Scheme::DPF, 30, 8, {5}, {1}, nullptr);
    std::vector<uint64_t> o(1);
    fss::dpf_eval_all(0, q.k0.data(), q.k0.size(), o.data(), o.size());
  }, "bits:");
  // Valid keys pass full validation and report their header.
  const fss::KeyHeader h = fss::parse_key_header(p.k1.data(), p.k1.size(), true);
  CHECK(h.scheme == fss::Scheme::DCF && h.party == 1 && h.bits == 8 && h.out_bits == 8 && h.count == 2);
}

// Every ring GEMM path this CPU supports (forced through FSS_RING_PATH), against a naive loop
// (uint64 arithmetic wraps mod 2^64), on shapes that reach each path's drivers and tails.
void test_ring() {
  static const char* const paths[] = {"portable", "avx2", "avx512", "ifma"};
  static const size_t shapes[][3] = {{37, 129, 41}, {1, 300, 19}, {3, 17, 9}, {130, 257, 17}, {5, 1, 1}};
  std::mt19937_64 rng(3);
  for (const char* path : paths) {
    setenv("FSS_RING_PATH", path, 1);
    for (const auto& s : shapes) {
      const size_t m = s[0], k = s[1], n = s[2];
      std::vector<uint64_t> a(m * k), b(k * n), c(m * n);
      for (auto& v : a) v = (rng() % 5 == 0) ? ~uint64_t(0) : rng();
      for (auto& v : b) v = (rng() % 7 == 0) ? uint64_t(1) << 63 : rng();
      fss::RingGemmArgs g;
      g.m = m; g.k = k; g.n = n; g.a = a.data(); g.b = b.data(); g.c = c.data();
      try {
        fss::ring_matmul(g);
      } catch (const std::invalid_argument&) {  // path not supported by this CPU
        break;
      }
      int bad = 0;
      for (size_t i = 0; i < m; ++i)
        for (size_t j = 0; j < n; ++j) {
          uint64_t acc = 0;
          for (size_t p = 0; p < k; ++p) acc += a[i * k + p] * b[p * n + j];
          if (acc != c[i * n + j]) ++bad;
        }
      if (bad) std::fprintf(stderr, "ring path %s, %zu x %zu x %zu: %d mismatches\n", path, m, k, n, bad);
      CHECK(bad == 0);
    }
  }
  unsetenv("FSS_RING_PATH");
}

}  // namespace

int main() {
  test_correctness();
  test_same_bytes_as_c_api();
  test_bad_input();
  test_ring();
  std::printf("test_core: %d checks, %d failures (aes path %s, %d threads)\n", g_checks, g_failures,
              fss::aes_path_name(fss::aes_path()), fss::num_threads());
  return g_failures ? 1 : 0;
}
