// Device discovery for the CUDA backend: count, names, compiled architectures. Every query
// tolerates a machine without a GPU or driver (device_count() == 0, no exception).
#include <cuda_runtime.h>

#include <string>

#include "fss_host.cuh"
#include "fsskernels/cuda.h"
#include "fsskernels/errors.h"

#define FSS_STR2(x) #x
#define FSS_STR(x) FSS_STR2(x)

namespace fss {
namespace cuda {

int device_count() noexcept {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();  // no driver / no device: not an error for discovery
    return 0;
  }
  return n;
}

std::string device_name(int i) {
  const int n = device_count();
  if (i < 0 || i >= n)
    bad_arg("device", "index " + std::to_string(i) + " out of range (" + std::to_string(n) + " devices)");
  cudaDeviceProp prop{};
  detail::check(cudaGetDeviceProperties(&prop, i), "cudaGetDeviceProperties");
  return std::string(prop.name);
}

const char* compiled_archs() noexcept {
  // __CUDA_ARCH_LIST__ (nvcc >= 11.5) lists the virtual architectures of this compilation,
  // e.g. 900 or 800,900; reported as "90" / "80,90".
#ifdef __CUDA_ARCH_LIST__
  static const std::string archs = [] {
    const std::string raw = FSS_STR(__CUDA_ARCH_LIST__);
    std::string outs, cur;
    for (char ch : raw + ",") {
      if (ch >= '0' && ch <= '9') {
        cur += ch;
      } else if (ch == ',' && !cur.empty()) {
        if (!outs.empty()) outs += ",";
        outs += std::to_string(std::stoi(cur) / 10);
        cur.clear();
      }
    }
    return outs;
  }();
  return archs.c_str();
#else
  return "unknown";
#endif
}

int current_device_sm_count() {
  int dev = 0, sms = 0;
  detail::check(cudaGetDevice(&dev), "cudaGetDevice");
  detail::check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev), "cudaDeviceGetAttribute");
  return sms;
}

DeviceGuard::DeviceGuard(int device) {
  const int n = device_count();
  if (device < 0 || device >= n)
    bad_arg("device", "cuda:" + std::to_string(device) + " does not exist (" + std::to_string(n) + " devices)");
  int cur = 0;
  detail::check(cudaGetDevice(&cur), "cudaGetDevice");
  if (cur != device) {
    detail::check(cudaSetDevice(device), "cudaSetDevice");
    prev_ = cur;
  }
}

DeviceGuard::~DeviceGuard() {
  if (prev_ >= 0) (void)cudaSetDevice(prev_);
}

}  // namespace cuda
}  // namespace fss
