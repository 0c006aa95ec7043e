// The header checksum of key batches generated on the GPU (docs/kernels.md section 5):
// fsk_checksum(header[0:24] || tile digests). Pass 1: one warp per tile of each party, lane l
// hashing checksum lane l (words l, l + 32, ...: 256-byte coalesced loads), the 32 lanes
// folded through warp shuffles. Pass 2: one warp per party over the header and the digests,
// writing bytes 24..31 of the header.
#include "fss_host.cuh"

namespace fss {
namespace cuda {
namespace detail {
namespace {

__device__ __forceinline__ uint64_t warp_fold(uint64_t lane_h, uint64_t len) {
  uint64_t v = len;
#pragma unroll
  for (int l = 0; l < dev::kChecksumLanes; ++l) v = dev::cs_fold(v, __shfl_sync(0xffffffffu, lane_h, l));
  return dev::cs_final(v);
}

__global__ void __launch_bounds__(256) tile_digest_kernel(const uint8_t* body0, const uint8_t* body1,
                                                          const dev::KeyGeom g, const uint64_t ntiles, uint64_t* d0,
                                                          uint64_t* d1) {
  const int lane = static_cast<int>(threadIdx.x & 31);
  const uint64_t nwarps = (static_cast<uint64_t>(gridDim.x) * blockDim.x) >> 5;
  // Warp-uniform loop: every lane of a warp runs the same iterations (the shuffles need all).
  for (uint64_t w = (static_cast<uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5; w < 2 * ntiles;
       w += nwarps) {
    const bool party1 = w >= ntiles;
    const uint64_t t = party1 ? w - ntiles : w;
    const uint64_t len = dev::tile_bytes(g, t);
    const dev::ByteWords words{dev::tile_start(party1 ? body1 : body0, g, t), len};
    const uint64_t v = warp_fold(dev::cs_lane(words, dev::n_words(len), lane), len);
    if (lane == 0) (party1 ? d1 : d0)[t] = v;
  }
}

__global__ void __launch_bounds__(64) header_checksum_kernel(uint8_t* key0, uint8_t* key1, const uint64_t* d0,
                                                             const uint64_t* d1, const uint64_t ntiles) {
  const int lane = static_cast<int>(threadIdx.x & 31);
  const bool party1 = threadIdx.x >= 32;
  uint8_t* key = party1 ? key1 : key0;
  const dev::HeaderWords words{key, party1 ? d1 : d0};
  const uint64_t len = 24 + 8 * ntiles;
  const uint64_t v = warp_fold(dev::cs_lane(words, 3 + ntiles, lane), len);
  if (lane == 0) *reinterpret_cast<uint64_t*>(key + 24) = v;
}

}  // namespace

void write_key_checksums(uint8_t* key0, uint8_t* key1, const dev::KeyGeom& g, cudaStream_t stream) {
  const uint64_t ntiles = (g.count + 31) / 32;
  Scratch digests(static_cast<size_t>(2 * ntiles * 8), stream);
  uint64_t* d0 = static_cast<uint64_t*>(digests.get());
  uint64_t* d1 = d0 + ntiles;
  if (ntiles) {
    const unsigned grid = grid_blocks(reinterpret_cast<const void*>(tile_digest_kernel), 2 * ntiles * 32, 256, 0);
    tile_digest_kernel<<<grid, 256, 0, stream>>>(key0 + kKeyHeaderSize, key1 + kKeyHeaderSize, g, ntiles, d0, d1);
    check_launch("tile_digest_kernel");
  }
  header_checksum_kernel<<<1, 64, 0, stream>>>(key0, key1, d0, d1, ntiles);
  check_launch("header_checksum_kernel");
}

}  // namespace detail
}  // namespace cuda
}  // namespace fss
