// Constant-time check of CPU key generation (ctgrind method, A. Langley 2010): the secret
// inputs alpha, beta and the master seed are marked *undefined* for valgrind's memcheck
// (VALGRIND_MAKE_MEM_UNDEFINED). Memcheck then reports every conditional branch and every
// memory address that depends on them ("Conditional jump or move depends on uninitialised
// value(s)", "Use of uninitialised value of size 8"). A clean run under
// `valgrind --error-exitcode=1` shows that key generation has no secret-dependent branches
// or memory accesses on the AES paths valgrind can run (portable, AES-NI; valgrind has no
// AVX-512, so the VAES path is not covered). The same is checked for evaluation with the key
// bodies marked secret and x public.
//
// Outside valgrind the client requests are no-ops: the program then only checks that the
// keys it made are correct (against direct computation). `--leaky` adds a deliberate branch
// on alpha, so scripts/check_cpp.sh can show the check detects leaks (negative control).
// Run by scripts/check_cpp.sh (docs/kernels.md section 7).
#include <valgrind/memcheck.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "fsskernels/fsskernels.h"

namespace {

int g_fail = 0;

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t mask(int m) { return m >= 64 ? ~uint64_t(0) : (uint64_t(1) << m) - 1; }

volatile uint64_t g_sink = 0;

void run(fss::Scheme scheme, int bits, int out_bits, bool leaky) {
  const uint64_t n = 37;  // two full groups of 16 and a partial one
  uint64_t rng = 0x1234 + static_cast<uint64_t>(bits * 131 + out_bits);
  std::vector<uint64_t> alpha(n), beta(n), x(n);
  for (uint64_t i = 0; i < n; ++i) {
    alpha[i] = splitmix(rng) & mask(bits);
    beta[i] = splitmix(rng);
    // public inputs: below, equal to and above alpha
    x[i] = i % 3 == 0 ? alpha[i] : (i % 3 == 1 ? (alpha[i] - 1) & mask(bits) : (alpha[i] + 1) & mask(bits));
  }
  uint8_t seed[16];
  for (int i = 0; i < 16; ++i) seed[i] = static_cast<uint8_t>(splitmix(rng));
  const size_t len = fss::key_buffer_size(scheme, bits, out_bits, n);
  std::vector<uint8_t> k0(len), k1(len);

  // Secret: the bytes of alpha that hold its `bits` low bits (higher bytes are public zeros,
  // so the documented range check `alpha >> bits` stays defined), all of beta, the seed.
  const size_t secret_bytes = static_cast<size_t>((bits + 7) / 8);
  for (uint64_t i = 0; i < n; ++i) VALGRIND_MAKE_MEM_UNDEFINED(&alpha[i], secret_bytes);
  VALGRIND_MAKE_MEM_UNDEFINED(beta.data(), n * sizeof(uint64_t));
  VALGRIND_MAKE_MEM_UNDEFINED(seed, sizeof(seed));
  if (leaky && (alpha[0] & 1)) g_sink = g_sink + 1;  // negative control: a secret branch

  fss::GenArgs g;
  g.bits = bits; g.out_bits = out_bits; g.count = n;
  g.alpha = alpha.data(); g.beta = beta.data(); g.seed16 = seed;
  g.key0 = k0.data(); g.key1 = k1.data(); g.key_len = len;
  if (scheme == fss::Scheme::DPF) fss::dpf_gen(g); else fss::dcf_gen(g);

  // Evaluation: key bodies secret (headers are public metadata), x public.
  std::vector<uint64_t> y0(n), y1(n);
  VALGRIND_MAKE_MEM_DEFINED(k0.data(), len);
  VALGRIND_MAKE_MEM_DEFINED(k1.data(), len);
  VALGRIND_MAKE_MEM_UNDEFINED(k0.data() + fss::kKeyHeaderSize, len - fss::kKeyHeaderSize);
  VALGRIND_MAKE_MEM_UNDEFINED(k1.data() + fss::kKeyHeaderSize, len - fss::kKeyHeaderSize);
  for (int party = 0; party < 2; ++party) {
    fss::EvalArgs e;
    e.party = party; e.key = party ? k1.data() : k0.data(); e.key_len = len;
    e.x = x.data(); e.out = party ? y1.data() : y0.data();
    if (scheme == fss::Scheme::DPF) fss::dpf_eval(e); else fss::dcf_eval(e);
  }

  // Declassify and check the results against direct computation.
  VALGRIND_MAKE_MEM_DEFINED(alpha.data(), n * sizeof(uint64_t));
  VALGRIND_MAKE_MEM_DEFINED(beta.data(), n * sizeof(uint64_t));
  VALGRIND_MAKE_MEM_DEFINED(y0.data(), n * sizeof(uint64_t));
  VALGRIND_MAKE_MEM_DEFINED(y1.data(), n * sizeof(uint64_t));
  int bad = 0;
  for (uint64_t i = 0; i < n; ++i) {
    const bool hit = scheme == fss::Scheme::DPF ? x[i] == alpha[i] : x[i] < alpha[i];
    const uint64_t want = hit ? beta[i] & mask(out_bits) : 0;
    if (((y0[i] + y1[i]) & mask(out_bits)) != want) ++bad;
  }
  if (bad) {
    std::fprintf(stderr, "%s bits=%d out_bits=%d path=%s: %d wrong results\n", scheme == fss::Scheme::DPF ? "DPF" : "DCF",
                 bits, out_bits, fss::aes_path_name(fss::aes_path()), bad);
    ++g_fail;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bool leaky = argc > 1 && std::strcmp(argv[1], "--leaky") == 0;
  fss::set_num_threads(1);
  static const int shapes[][2] = {{64, 64}, {64, 1}, {32, 16}, {16, 8}, {8, 2}, {8, 1}, {32, 40}};
  int runs = 0;
  for (fss::AesPath p : {fss::AesPath::Portable, fss::AesPath::AesNi, fss::AesPath::Vaes256, fss::AesPath::Vaes}) {
    if (!fss::aes_path_supported(p)) continue;
    fss::set_aes_path(p);
    for (auto scheme : {fss::Scheme::DPF, fss::Scheme::DCF})
      for (const auto& s : shapes) {
        run(scheme, s[0], s[1], leaky);
        ++runs;
        if (leaky) return g_fail ? 1 : 0;  // the negative control needs one configuration
      }
    std::printf("ct_keygen: path %s checked\n", fss::aes_path_name(p));
  }
  std::printf("ct_keygen: %d configurations, %d failures%s\n", runs, g_fail,
              RUNNING_ON_VALGRIND ? " (under valgrind)" : " (not under valgrind: correctness only)");
  return g_fail ? 1 : 0;
}
