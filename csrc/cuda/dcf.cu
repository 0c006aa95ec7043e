// DCF on the GPU (docs/kernels.md sections 3 and 4): the BCG construction (Boyle et al.,
// EUROCRYPT 2021) for out_bits >= 2 and the DPF-tree comparison (SIGMA) for out_bits == 1,
// one thread per key (fss_walk.cuh).
#include "launch.cuh"

namespace fss {
namespace cuda {
namespace detail {
namespace {

struct DcfGenOp : WriteHeaders {
  static __device__ void run(const dev::GenParams& p, uint64_t k, const dev::SmemT0& T) { dev::dcf_gen_key(p, k, T); }
};
struct Dcf1GenOp : WriteHeaders {
  static __device__ void run(const dev::GenParams& p, uint64_t k, const dev::SmemT0& T) { dev::dcf1_gen_key(p, k, T); }
};
struct DcfEvalOp : NoPrologue {
  static __device__ void run(const dev::EvalParams& p, uint64_t k, const dev::SmemT0& T) {
    p.out[k] = dev::dcf_eval_key(p, k, T);
  }
};
struct Dcf1EvalOp : NoPrologue {
  static __device__ void run(const dev::EvalParams& p, uint64_t k, const dev::SmemT0& T) {
    p.out[k] = dev::dcf1_eval_key(p, k, T);
  }
};

}  // namespace
}  // namespace detail

void dcf_gen(const GenArgs& a, void* stream) {
  const cudaStream_t s = detail::as_stream(stream);
  if (a.out_bits == 1)
    detail::run_gen<detail::Dcf1GenOp>(a, Scheme::DCF, s, "dcf_gen (one-bit) kernel");
  else
    detail::run_gen<detail::DcfGenOp>(a, Scheme::DCF, s, "dcf_gen kernel");
}

void dcf_eval(const EvalArgs& a, void* stream) {
  const cudaStream_t s = detail::as_stream(stream);
  // out_bits decides the variant; the header is parsed (again) inside run_eval.
  uint8_t hdr[32];
  detail::fetch_header(a.key, a.key_len, a.host_header, hdr, s);
  EvalArgs b = a;
  b.host_header = hdr;
  const KeyHeader h = parse_key_header(hdr, a.key_len, false);
  if (h.out_bits == 1)
    detail::run_eval<detail::Dcf1EvalOp>(b, Scheme::DCF, s, "dcf_eval (one-bit) kernel");
  else
    detail::run_eval<detail::DcfEvalOp>(b, Scheme::DCF, s, "dcf_eval kernel");
}

}  // namespace cuda
}  // namespace fss
