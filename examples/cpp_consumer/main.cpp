// Example consumer of fsskernels::core through the C++ API.
//
//   fss_consumer [--n N]                 DCF (64-bit in/out), 1-bit DCF comparison and DPF keys
//                                        for N random alphas; both parties evaluate; the
//                                        shares must reconstruct; then the C example runs.
//   fss_consumer --write-keys PATH [--scheme dcf|dpf] [--bits B] [--out-bits M] [--count N]
//                [--seed S|none]         writes a key file (format below), keys made in C++
//   fss_consumer --eval-keys PATH        evaluates both parties' keys of a key file (for
//                                        instance written by Python) and checks them
// Exit status 0 on success, 1 on a wrong result or an error, 2 on bad usage.
//
// Key file (little-endian): "FSSXKEYS", u64 n, u64 key_len, u64 alpha[n], u64 beta[n],
// key0[key_len], key1[key_len]; key0/key1 are the two parties' key batches in the shared
// byte format (docs/kernels.md section 5; scheme, bits, out_bits are in their headers).
// With --seed S the keys are derived from the 16-byte seed S (little-endian), exactly as
// Python's dcf_gen(..., seed=S): the same bytes in every language.
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <fsskernels/c_api.h>
#include <fsskernels/fsskernels.h>

extern "C" int run_c_example(void);

namespace {

uint64_t mask_bits(int m) { return m >= 64 ? ~uint64_t(0) : (uint64_t(1) << m) - 1; }

struct KeyPair {
  std::vector<uint8_t> k0, k1;
};

// Key generation with the C++ API (throws std::invalid_argument on bad input).
KeyPair generate(fss::Scheme scheme, int bits, int out_bits, const std::vector<uint64_t>& alpha,
                 const std::vector<uint64_t>& beta, bool beta_scalar, const uint8_t* seed16) {
  const size_t len = fss::key_buffer_size(scheme, bits, out_bits, alpha.size());
  KeyPair p{std::vector<uint8_t>(len), std::vector<uint8_t>(len)};
  fss::GenArgs a;
  a.bits = bits;
  a.out_bits = out_bits;
  a.count = alpha.size();
  a.alpha = alpha.data();
  a.beta = beta.data();
  a.beta_scalar = beta_scalar;
  a.seed16 = seed16;  // nullptr: the OS CSPRNG
  a.key0 = p.k0.data();
  a.key1 = p.k1.data();
  a.key_len = len;
  if (scheme == fss::Scheme::DPF)
    fss::dpf_gen(a);
  else
    fss::dcf_gen(a);
  return p;
}

std::vector<uint64_t> evaluate(int party, const std::vector<uint8_t>& keys, const std::vector<uint64_t>& x) {
  const fss::KeyHeader h = fss::parse_key_header(keys.data(), keys.size(), /*full=*/false);
  std::vector<uint64_t> out(x.size());
  fss::EvalArgs a;
  a.party = party;
  a.key = keys.data();
  a.key_len = keys.size();
  a.x = x.data();
  a.out = out.data();
  if (h.scheme == fss::Scheme::DPF)
    fss::dpf_eval(a);
  else
    fss::dcf_eval(a);
  return out;
}

// Evaluates both parties at x and counts the keys whose shares do not reconstruct f(x).
size_t count_wrong(const KeyPair& p, const std::vector<uint64_t>& alpha, const std::vector<uint64_t>& beta,
                   bool beta_scalar, const std::vector<uint64_t>& x) {
  const fss::KeyHeader h = fss::parse_key_header(p.k0.data(), p.k0.size(), /*full=*/true);
  const auto y0 = evaluate(0, p.k0, x), y1 = evaluate(1, p.k1, x);
  const uint64_t mm = mask_bits(h.out_bits);
  size_t wrong = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const bool hit = h.scheme == fss::Scheme::DPF ? x[i] == alpha[i] : x[i] < alpha[i];
    const uint64_t want = hit ? (beta_scalar ? beta[0] : beta[i]) & mm : 0;
    if (((y0[i] + y1[i]) & mm) != want) ++wrong;
  }
  return wrong;
}

// Points around each alpha (alpha - 1, alpha, alpha + 1) and random points, within `bits`.
std::vector<std::vector<uint64_t>> probe_points(const std::vector<uint64_t>& alpha, int bits, std::mt19937_64& rng) {
  std::vector<std::vector<uint64_t>> xs(4, std::vector<uint64_t>(alpha.size()));
  const uint64_t mb = mask_bits(bits);
  for (size_t i = 0; i < alpha.size(); ++i) {
    xs[0][i] = (alpha[i] - 1) & mb;
    xs[1][i] = alpha[i];
    xs[2][i] = (alpha[i] + 1) & mb;
    xs[3][i] = rng() & mb;
  }
  return xs;
}

size_t check_scheme(const char* name, fss::Scheme scheme, int bits, int out_bits, size_t n, bool beta_scalar,
                    std::mt19937_64& rng) {
  std::vector<uint64_t> alpha(n), beta(beta_scalar ? 1 : n);
  for (auto& a : alpha) a = rng() & mask_bits(bits);
  for (auto& b : beta) b = beta_scalar ? 1 : rng();
  const KeyPair p = generate(scheme, bits, out_bits, alpha, beta, beta_scalar, nullptr);
  size_t wrong = 0;
  for (const auto& x : probe_points(alpha, bits, rng)) wrong += count_wrong(p, alpha, beta, beta_scalar, x);
  if (wrong) std::fprintf(stderr, "%s: %zu wrong reconstructions\n", name, wrong);
  return wrong;
}

// --------------------------------------------------------------------- key files
void put_u64(std::string& s, uint64_t v) { s.append(reinterpret_cast<const char*>(&v), 8); }

void write_key_file(const std::string& path, const std::vector<uint64_t>& alpha, const std::vector<uint64_t>& beta,
                    const KeyPair& p) {
  std::string s("FSSXKEYS");
  put_u64(s, alpha.size());
  put_u64(s, p.k0.size());
  for (uint64_t a : alpha) put_u64(s, a);
  for (uint64_t b : beta) put_u64(s, b);
  s.append(reinterpret_cast<const char*>(p.k0.data()), p.k0.size());
  s.append(reinterpret_cast<const char*>(p.k1.data()), p.k1.size());
  std::ofstream f(path, std::ios::binary);
  if (!(f << s) || !f.flush()) throw std::runtime_error("cannot write " + path);
}

struct KeyFile {
  std::vector<uint64_t> alpha, beta;
  KeyPair keys;
};

KeyFile read_key_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  const std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto u64_at = [&](size_t off) {
    if (off + 8 > s.size()) throw std::runtime_error(path + ": truncated key file");
    uint64_t v;
    std::memcpy(&v, s.data() + off, 8);
    return v;
  };
  if (s.compare(0, 8, "FSSXKEYS") != 0) throw std::runtime_error(path + ": not a key file (magic)");
  const uint64_t n = u64_at(8), len = u64_at(16);
  if (n > (uint64_t(1) << 32) || len > (uint64_t(1) << 40) || s.size() != 24 + 16 * n + 2 * len)
    throw std::runtime_error(path + ": inconsistent key file sizes");
  KeyFile kf;
  kf.alpha.resize(n);
  kf.beta.resize(n);
  std::memcpy(kf.alpha.data(), s.data() + 24, 8 * n);
  std::memcpy(kf.beta.data(), s.data() + 24 + 8 * n, 8 * n);
  const char* k = s.data() + 24 + 16 * n;
  kf.keys.k0.assign(k, k + len);
  kf.keys.k1.assign(k + len, k + 2 * len);
  return kf;
}

int eval_key_file(const std::string& path) {
  const KeyFile kf = read_key_file(path);
  // Keys from elsewhere: full validation first (std::invalid_argument "keys: ..." if corrupted).
  const fss::KeyHeader h0 = fss::parse_key_header(kf.keys.k0.data(), kf.keys.k0.size(), true);
  const fss::KeyHeader h1 = fss::parse_key_header(kf.keys.k1.data(), kf.keys.k1.size(), true);
  if (h0.party != 0 || h1.party != 1 || h0.scheme != h1.scheme || h0.count != kf.alpha.size())
    throw std::runtime_error(path + ": key headers do not match the file");
  std::mt19937_64 rng(99);
  size_t wrong = 0;
  for (const auto& x : probe_points(kf.alpha, h0.bits, rng)) wrong += count_wrong(kf.keys, kf.alpha, kf.beta, false, x);
  std::printf("eval-keys: %s %s bits=%d out_bits=%d count=%" PRIu64 ": %zu wrong\n", wrong ? "FAILED" : "OK",
              h0.scheme == fss::Scheme::DPF ? "dpf" : "dcf", h0.bits, h0.out_bits, h0.count, wrong);
  return wrong ? 1 : 0;
}

int write_keys(const std::string& path, fss::Scheme scheme, int bits, int out_bits, size_t count,
               const std::string& seed) {
  uint8_t seed16[16] = {0};
  const bool seeded = seed != "none";
  if (seeded) {
    const uint64_t s = std::stoull(seed, nullptr, 0);
    std::memcpy(seed16, &s, 8);  // seed as a 128-bit little-endian integer (high half zero)
  }
  std::mt19937_64 rng(seeded ? std::stoull(seed, nullptr, 0) : std::random_device{}());
  std::vector<uint64_t> alpha(count), beta(count);
  for (auto& a : alpha) a = rng() & mask_bits(bits);
  for (auto& b : beta) b = rng() & mask_bits(out_bits);
  const KeyPair p = generate(scheme, bits, out_bits, alpha, beta, false, seeded ? seed16 : nullptr);
  write_key_file(path, alpha, beta, p);
  std::printf("write-keys: %s %s bits=%d out_bits=%d count=%zu key_len=%zu\n", path.c_str(),
              scheme == fss::Scheme::DPF ? "dpf" : "dcf", bits, out_bits, count, p.k0.size());
  return 0;
}

int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--n N]\n"
               "       %s --write-keys PATH [--scheme dcf|dpf] [--bits B] [--out-bits M] [--count N] [--seed S|none]\n"
               "       %s --eval-keys PATH\n",
               argv0, argv0, argv0);
  return 2;
}

int run(int argc, char** argv) {
  std::string write_path, eval_path, seed = "1";
  fss::Scheme scheme = fss::Scheme::DCF;
  int bits = 64, out_bits = 64;
  size_t n = 1000, count = 100;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return usage(argv[0]);
    const std::string val = argv[++i];
    if (arg == "--write-keys") write_path = val;
    else if (arg == "--eval-keys") eval_path = val;
    else if (arg == "--scheme" && (val == "dcf" || val == "dpf")) scheme = val == "dpf" ? fss::Scheme::DPF : fss::Scheme::DCF;
    else if (arg == "--bits") bits = std::stoi(val);
    else if (arg == "--out-bits") out_bits = std::stoi(val);
    else if (arg == "--count") count = std::stoull(val);
    else if (arg == "--n") n = std::stoull(val);
    else if (arg == "--seed") seed = val;
    else return usage(argv[0]);
  }
  if (!write_path.empty()) return write_keys(write_path, scheme, bits, out_bits, count, seed);
  if (!eval_path.empty()) return eval_key_file(eval_path);

  std::mt19937_64 rng(std::random_device{}());
  size_t wrong = 0;
  wrong += check_scheme("dcf 64->64", fss::Scheme::DCF, 64, 64, n, false, rng);
  wrong += check_scheme("dcf 64->1 (x < alpha)", fss::Scheme::DCF, 64, 1, n, true, rng);
  wrong += check_scheme("dcf 32->16", fss::Scheme::DCF, 32, 16, n, false, rng);
  wrong += check_scheme("dpf 64->64", fss::Scheme::DPF, 64, 64, n, false, rng);

  // C++ error handling: a corrupted key raises std::invalid_argument("keys: ...").
  bool caught = false;
  {
    std::vector<uint64_t> alpha = {5}, beta = {1};
    KeyPair p = generate(fss::Scheme::DCF, 16, 8, alpha, beta, false, nullptr);
    p.k0.back() ^= 0x80;
    try {
      fss::parse_key_header(p.k0.data(), p.k0.size(), true);
    } catch (const std::invalid_argument& e) {
      caught = std::strncmp(e.what(), "keys:", 5) == 0;
    }
  }
  if (!caught) std::fprintf(stderr, "corrupted key was not rejected\n");

  const int c_rc = run_c_example();
  const bool ok = wrong == 0 && caught && c_rc == 0;
  std::printf("fss_consumer: %s (fsskernels %s, aes %s, %d threads): dcf64/dcf1/dcf32/dpf64 x %zu keys, %zu wrong; "
              "corrupt key rejected: %s; C API example: %s\n",
              ok ? "OK" : "FAILED", fss_version(), fss_aes_path(), fss::num_threads(), n, wrong, caught ? "yes" : "no",
              c_rc == 0 ? "ok" : "FAILED");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fss_consumer: error: %s\n", e.what());
    return 1;
  }
}
