// Device discovery. The runtime is linked statically, so on a machine without a GPU or
// driver the first call reports cudaErrorNoDevice / cudaErrorInsufficientDriver here
// instead of the addon failing to load.
#include <cuda_runtime.h>

#include <mutex>

#include "runtime.cuh"

namespace lwfm {
namespace cuda {

namespace {

// Compiled for the same architectures as every other kernel: if the runtime finds no
// image for this device (e.g. Volta/Turing, for which CUDA 13 builds no code), every
// kernel would fail the same way, so the device is reported unusable up front.
__global__ void ProbeKernel() {}

RuntimeStatus Probe() {
  RuntimeStatus s;
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    if (e == cudaErrorNoDevice) {
      s.reason = "no CUDA device: the CUDA runtime found no GPU (cudaErrorNoDevice)";
    } else if (e == cudaErrorInsufficientDriver) {
      s.reason = "no CUDA device: the NVIDIA driver is missing or older than this build's CUDA " +
                 std::to_string(CUDART_VERSION / 1000) + "." + std::to_string(CUDART_VERSION % 1000 / 10) +
                 " runtime (cudaErrorInsufficientDriver)";
    } else {
      s.reason = std::string("no CUDA device: ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
    }
    return s;
  }
  if (count == 0) {
    s.reason = "no CUDA device: the CUDA runtime reports 0 devices";
    return s;
  }
  for (int d = 0; d < count; ++d) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, d) != cudaSuccess) {
      (void)cudaGetLastError();
      continue;
    }
    DeviceInfo info;
    info.name = p.name;
    info.major = p.major;
    info.minor = p.minor;
    info.memoryBytes = p.totalGlobalMem;
    s.devices.push_back(info);
  }
  if (s.devices.empty()) {
    s.reason = "no CUDA device: no device could be queried";
    return s;
  }
  cudaFuncAttributes attr{};
  const cudaError_t k = cudaFuncGetAttributes(&attr, ProbeKernel);
  if (k != cudaSuccess) {
    (void)cudaGetLastError();
    s.reason = "no CUDA device: this build has no kernels for device 0 (" + s.devices[0].name +
               ", compute capability " + std::to_string(s.devices[0].major) + "." + std::to_string(s.devices[0].minor) +
               "; built for sm_80/86/89/90 + PTX 9.0): " + cudaGetErrorName(k);
    return s;
  }
  s.available = true;
  return s;
}

}  // namespace

const RuntimeStatus& QueryRuntime() {
  static std::once_flag once;
  static RuntimeStatus status;
  std::call_once(once, [] { status = Probe(); });
  return status;
}

void RequireDevice() {
  const RuntimeStatus& s = QueryRuntime();
  if (!s.available) throw CudaError(s.reason, true);
}

}  // namespace cuda
}  // namespace lwfm
