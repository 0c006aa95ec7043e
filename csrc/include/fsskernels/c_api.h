/* fsskernels/c_api.h: the C API of fsskernels (target fsskernels::core).
 *
 * A small, stable, exception-free interface over the CPU kernels for C, and for Rust, Go,
 * Zig, ... through FFI: raw buffers with explicit lengths, integer status codes, and a
 * thread-local error message. It computes exactly what the C++ API computes (fss.h,
 * ring.h, aes.h) and reads and writes the same key bytes as the C++ and Python APIs
 * (docs/kernels.md section 5): a key batch made here evaluates in Python and the reverse.
 *
 * Schemes (the papers they follow, details in docs/kernels.md):
 *   DPF  Boyle, Gilboa, Ishai, "Function Secret Sharing: Improvements and Extensions",
 *        CCS 2016, with early termination.
 *        Eval(0,k0,x) + Eval(1,k1,x) = beta if x == alpha else 0          (mod 2^out_bits)
 *   DCF  Boyle, Chandran, Gilboa, Gupta, Ishai, Kumar, Rathee, "Function Secret Sharing for
 *        Mixed-Mode and Fixed-Point Secure Computation", EUROCRYPT 2021; out_bits == 1 uses
 *        the DPF-based comparison of SIGMA / Orca.
 *        Eval(0,k0,x) + Eval(1,k1,x) = beta if x < alpha (unsigned, strict) else 0
 *   PRG  fixed-key AES-128 correlation-robust hash H(x, j) = AES_K(x ^ j) ^ (x ^ j)
 *        (Guo, Katz, Wang, Yu, S&P 2020).
 *   Ring GEMM  C = A @ B over Z_{2^64} (exact, wrap-around uint64 arithmetic).
 *
 * Conventions
 *   - Every function that can fail returns an int status: FSS_OK (0) or one of the positive
 *     FSS_ERR_* codes below. On failure fss_last_error() describes the problem
 *     ("function: argument: why"); output buffers then hold unspecified bytes.
 *   - No C++ exception ever crosses this interface; bad input (null pointers, wrong
 *     lengths, unsupported bit widths, corrupted or truncated keys, wrong party or
 *     scheme) is reported by a status code, never by undefined behaviour.
 *   - Integers are host-endian (little-endian on every supported platform); key buffers
 *     are byte arrays in the documented little-endian format.
 *   - A "key batch" is N keys of one party in one buffer: a 32-byte header followed by the
 *     body. fss_key_buffer_size gives its exact length.
 *
 * Thread safety: all functions may be called concurrently from any number of threads on
 * distinct output buffers (each call may itself use fss_get_num_threads() OpenMP threads).
 * fss_set_num_threads and fss_set_aes_path are global settings: call them at start-up,
 * not while kernels run. fss_last_error is per thread.
 *
 * Constant time: key generation time depends only on sizes; evaluation time depends only
 * on the public inputs x and the sizes, not on alpha, beta or the key contents.
 */
#ifndef FSSKERNELS_C_API_H
#define FSSKERNELS_C_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes returned by every function that can fail. */
enum {
  FSS_OK = 0,
  FSS_ERR_INVALID_ARGUMENT = 1, /* null pointer, wrong length, value out of range, party or scheme mismatch */
  FSS_ERR_CORRUPT_KEY = 2,      /* key bytes malformed: magic, version, header fields, length, checksum */
  FSS_ERR_UNSUPPORTED = 3,      /* bits / out_bits outside 1..64, EvalAll with bits > 24, AES path not on this CPU */
  FSS_ERR_RUNTIME = 4,          /* system failure (e.g. the OS random number generator) or internal error */
  FSS_ERR_ALLOC = 5             /* out of memory */
};

/* Schemes, as stored in byte 6 of a key header. */
enum { FSS_SCHEME_DPF = 1, FSS_SCHEME_DCF = 2 };

/* ---------------------------------------------------------------------------------- info */

/* The library version, e.g. "0.1.0" (static string). */
const char* fss_version(void);

/* The message of the last failed fss_ call on the calling thread, or "" if the last call
 * succeeded. The pointer stays valid until the next fss_ call on the same thread. */
const char* fss_last_error(void);

/* A static name for a status code ("FSS_OK", "FSS_ERR_CORRUPT_KEY", ...; "unknown"). */
const char* fss_status_name(int status);

/* The AES path in use: "vaes", "vaes256", "aes-ni" or "portable" (static string). All paths give
 * identical results. */
const char* fss_aes_path(void);

/* Forces an AES path by name ("vaes", "vaes256", "aes-ni", "portable"), for tests and benchmarks.
 * Errors: INVALID_ARGUMENT (null or unknown name), UNSUPPORTED (not on this CPU). */
int fss_set_aes_path(const char* name);

/* Threads used by every kernel (default: all cores). n >= 1, else INVALID_ARGUMENT. */
int fss_set_num_threads(int n);
int fss_get_num_threads(void);

/* ------------------------------------------------------------------------------ key sizes */

/* *out = the exact byte length of a batch of `count` keys (header included) of `scheme`
 * (FSS_SCHEME_DPF or FSS_SCHEME_DCF) for inputs of `bits` and outputs of `out_bits` bits.
 * Errors: INVALID_ARGUMENT (out null, unknown scheme, count too large),
 *         UNSUPPORTED (bits or out_bits outside 1..64). */
int fss_key_buffer_size(int scheme, int bits, int out_bits, size_t count, size_t* out);

/* ------------------------------------------------------------------------- key generation */

/* Generates `count` DPF key pairs: key i is for the point function
 *   f_i(x) = beta_i if x == alpha[i] else 0   (mod 2^out_bits),
 * beta_i = beta[0] if beta_is_scalar else beta[i]; beta is taken mod 2^out_bits.
 * key0 and key1 receive the two parties' batches, each exactly key_len =
 * fss_key_buffer_size(FSS_SCHEME_DPF, bits, out_bits, count) bytes.
 * seed16: 16 bytes of master randomness for reproducible tests (the same seed gives the same
 * key bytes in C, C++ and Python, where seed=s means s as 16 little-endian bytes); pass NULL
 * in production to draw it from the OS CSPRNG. Keys are secret and one-time.
 * Preconditions (checked): 1 <= bits, out_bits <= 64; alpha[i] < 2^bits; alpha, beta
 * non-null when count > 0; key0 and key1 non-null, distinct and key_len long.
 * Errors: INVALID_ARGUMENT, UNSUPPORTED (bit widths), RUNTIME (OS RNG), ALLOC. */
int fss_dpf_gen(int bits, int out_bits, size_t count, const uint64_t* alpha, const uint64_t* beta,
                int beta_is_scalar, const uint8_t* seed16, uint8_t* key0, uint8_t* key1, size_t key_len);

/* Generates `count` DCF key pairs: key i is for the comparison function
 *   f_i(x) = beta_i if x < alpha[i] else 0    (unsigned, strict; mod 2^out_bits).
 * Arguments, preconditions and errors as fss_dpf_gen, with FSS_SCHEME_DCF sizes.
 * out_bits == 1 gives a secret-shared comparison bit (shares XOR to [x < alpha] when
 * beta = 1; the two shares are added mod 2). */
int fss_dcf_gen(int bits, int out_bits, size_t count, const uint64_t* alpha, const uint64_t* beta,
                int beta_is_scalar, const uint8_t* seed16, uint8_t* key0, uint8_t* key1, size_t key_len);

/* ------------------------------------------------------------------------------ evaluation */

/* Evaluates key i of party `party`'s DPF batch at x[i] for i < count:
 *   out[i] = Eval(party, key_i, x[i]) in [0, 2^out_bits);  out of party 0 + out of party 1
 *   = f_i(x[i]) mod 2^out_bits.
 * The key batch is fully validated first (header, exact length, checksum, must-be-zero
 * bits), so corrupted keys are rejected rather than evaluated.
 * Preconditions (checked): party is 0 or 1 and matches the key header; the batch holds DPF
 * keys; count equals the number of keys in the batch; x[i] < 2^bits; x and out non-null
 * when count > 0; out does not overlap key; out may be x itself (in place) but must not
 * partially overlap it.
 * Errors: INVALID_ARGUMENT, CORRUPT_KEY, ALLOC. */
int fss_dpf_eval(int party, const uint8_t* key, size_t key_len, const uint64_t* x, uint64_t* out, size_t count);

/* As fss_dpf_eval for a DCF batch: party 0's + party 1's out[i] = beta_i if x[i] < alpha_i
 * else 0 (mod 2^out_bits). */
int fss_dcf_eval(int party, const uint8_t* key, size_t key_len, const uint64_t* x, uint64_t* out, size_t count);

/* Full-domain DPF evaluation: out[i * 2^bits + x] = Eval(party, key_i, x) for every key i
 * and every x < 2^bits. out_len must be count * 2^bits (values). Requires bits <= 24
 * (UNSUPPORTED otherwise). Other errors as fss_dpf_eval. */
int fss_dpf_eval_all(int party, const uint8_t* key, size_t key_len, uint64_t* out, size_t out_len);

/* Fused table lookup (the LUT protocol of Pika / SIGMA): for key i and public x[i],
 * out[t * count + i] = sum_j tables[t * 2^bits + (x[i] - j) mod 2^bits] * Eval(party, key_i, j)
 * mod 2^out_bits, for t < ntab; the two parties' outputs add up to beta_i * tables[t][(x[i] -
 * alpha_i) mod 2^bits]. tables holds ntab * 2^bits values, out ntab * count. Requires bits <= 16
 * (UNSUPPORTED otherwise) and 1 <= ntab <= 64. Other errors as fss_dpf_eval. */
int fss_dpf_lookup(int party, const uint8_t* key, size_t key_len, const uint64_t* x, const uint64_t* tables,
                   size_t ntab, uint64_t* out);

/* ------------------------------------------------------------------------ serialization */

/* Description of a key batch (fss_key_validate). */
typedef struct fss_key_info {
  int scheme;          /* FSS_SCHEME_DPF or FSS_SCHEME_DCF */
  int party;           /* 0 or 1 */
  int bits;            /* input width, 1..64 */
  int out_bits;        /* output width, 1..64 */
  uint64_t count;      /* number of keys */
  size_t key_size;     /* body bytes per key */
  size_t buffer_size;  /* whole batch: 32 + key_size * count */
} fss_key_info;

/* Fully validates serialized keys received from elsewhere (file, network, another
 * language): magic, version, scheme, party, bits, out_bits, reserved fields, the exact
 * length, the checksum and the bits that must be zero. On success fills *info (may be NULL).
 * Errors: INVALID_ARGUMENT (key null), CORRUPT_KEY (any defect). */
int fss_key_validate(const uint8_t* key, size_t key_len, fss_key_info* info);

/* Copies keys [start, start + n) of a (fully validated) batch into `out`, a new batch of
 * exactly out_len = fss_key_buffer_size(scheme, bits, out_bits, n) bytes (header and
 * checksum rewritten). `out` must not overlap `key`.
 * Errors: INVALID_ARGUMENT (range, lengths, null pointers), CORRUPT_KEY. */
int fss_key_slice(const uint8_t* key, size_t key_len, size_t start, size_t n, uint8_t* out, size_t out_len);

/* -------------------------------------------------------------------------------- PRG */

/* out = H(in_j, tweak) for the n_blocks 16-byte blocks of `in` (16 * n_blocks bytes each;
 * no alignment required; in and out may be the same buffer, but must not otherwise overlap).
 * Errors: INVALID_ARGUMENT (null pointers, size overflow). */
int fss_prg_hash(const uint8_t* in, uint8_t* out, size_t n_blocks, uint64_t tweak);

/* --------------------------------------------------------------------------- ring GEMM */

/* C[b] = A[b] @ B[b] mod 2^64 for b < batch, all row-major uint64 (int64 two's complement
 * gives the same bits). A[b] is m x k at a + b * a_batch_stride, B[b] is k x n at
 * b + b * b_batch_stride (strides in elements; 0 broadcasts one matrix to every batch item),
 * C[b] is m x n at c + b * m * n (dense). c must not overlap a or b. Zero sizes are allowed
 * (k == 0 writes zeros). Exact for all values.
 * Errors: INVALID_ARGUMENT (null pointers for non-empty operands, overlap, size overflow),
 *         ALLOC. */
int fss_ring_matmul(size_t batch, size_t m, size_t k, size_t n, const uint64_t* a, const uint64_t* b, uint64_t* c,
                    size_t a_batch_stride, size_t b_batch_stride);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* FSSKERNELS_C_API_H */
