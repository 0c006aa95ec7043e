// Standalone driver for fuzz_keyparse.c without libFuzzer (any C++ compiler; used under
// ASan/UBSan by scripts/check_cpp.sh). Replays every file given on the command line (the seed
// corpus) and, for each, a fixed number of deterministic mutations: bit flips, byte sets,
// truncation, extension, header-field edits (count, bits, out_bits, scheme). Every other
// mutant whose header still parses gets a valid checksum (fss::write_key_header), so the
// mutations also reach the body checks and evaluation, not only the checksum test. The
// mutation generator is a public splitmix64 stream with a fixed seed (no secrets involved).
// Usage: fss_fuzz_keyparse [-n MUTATIONS_PER_FILE] FILE...   (exit 0: no crash)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdexcept>

#include "fsskernels/keyformat.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" size_t fss_fuzz_accepted;

static void fix_checksum(uint8_t* buf, size_t len) {
  try {
    const fss::KeyHeader h = fss::parse_key_header(buf, len, false);
    fss::write_key_header(buf, len, h);
  } catch (const std::invalid_argument&) {
    // header or length no longer consistent: leave the mutant as it is
  }
}

static uint64_t g_state = 0x2545F4914F6CDD1Dull;
static uint64_t next_u64(void) {
  uint64_t z = (g_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static void mutate_and_run(const uint8_t* seed, size_t n, uint8_t* buf, size_t cap) {
  size_t len = n < cap ? n : cap;
  memcpy(buf, seed, len);
  const int edits = 1 + (int)(next_u64() % 4);
  for (int e = 0; e < edits; ++e) {
    const uint64_t r = next_u64();
    switch (r % 8) {
      case 0: if (len) buf[(r >> 8) % len] ^= (uint8_t)(1u << ((r >> 40) % 8)); break;     /* bit flip */
      case 1: if (len) buf[(r >> 8) % len] = (uint8_t)(r >> 48); break;                      /* byte set */
      case 2: len = len ? (size_t)((r >> 8) % len) : 0; break;                               /* truncate */
      case 3: { size_t add = (r >> 8) % 40; if (len + add > cap) add = cap - len;            /* extend */
                for (size_t i = 0; i < add; ++i) buf[len + i] = (uint8_t)next_u64(); len += add; } break;
      case 4: if (len >= 24) { uint64_t c = next_u64() >> (r % 64); memcpy(buf + 16, &c, 8); } break; /* count */
      case 5: if (len >= 10) buf[8 + (r >> 8) % 2] = (uint8_t)((r >> 16) % 70); break;       /* bits / out_bits */
      case 6: if (len >= 8) buf[6 + (r >> 8) % 2] = (uint8_t)((r >> 16) % 4); break;         /* scheme / party */
      default: if (len >= 32) { uint64_t c; memcpy(&c, buf + 24, 8); c ^= next_u64(); memcpy(buf + 24, &c, 8); }
    }
  }
  if (next_u64() & 1) fix_checksum(buf, len);
  LLVMFuzzerTestOneInput(buf, len);
}

int main(int argc, char** argv) {
  long per_file = 200;
  int first = 1;
  if (argc > 2 && strcmp(argv[1], "-n") == 0) { per_file = strtol(argv[2], NULL, 10); first = 3; }
  size_t total = 0;
  for (int a = first; a < argc; ++a) {
    FILE* f = fopen(argv[a], "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", argv[a]); return 2; }
    uint8_t* data = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
      if (n == cap) { cap = cap ? 2 * cap : 4096; data = (uint8_t*)realloc(data, cap); if (!data) return 2; }
      size_t got = fread(data + n, 1, cap - n, f);
      if (!got) break;
      n += got;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(data, n);
    uint8_t* buf = (uint8_t*)malloc(n + 64);
    if (!buf) return 2;
    for (long i = 0; i < per_file; ++i) mutate_and_run(data, n, buf, n + 64);
    total += 1 + (size_t)per_file;
    free(buf);
    free(data);
  }
  printf("fss_fuzz_keyparse: %zu inputs from %d files (%zu validated, then were evaluated and sliced), no crash\n", total,
         argc - first, fss_fuzz_accepted);
  // A mutator that never produces a valid batch would not reach evaluation: fail loudly.
  return argc - first > 0 && fss_fuzz_accepted <= static_cast<size_t>(argc - first) ? 3 : 0;
}
