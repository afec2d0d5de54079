// One macro set so the same per-problem code compiles with nvcc (host + device) and with a
// plain C++ compiler (the node-gyp CPU build, the CPU unit tests).
#pragma once

#ifdef __CUDACC__
#define LWFM_HD __host__ __device__ __forceinline__
#define LWFM_HD_NOINLINE __host__ __device__
#else
#define LWFM_HD inline
#define LWFM_HD_NOINLINE inline
#endif

// Unrolls the next loop in device code only: the host compilers (nvcc's host pass, g++ in
// the CPU build) do not know `#pragma unroll` and would warn.
#ifdef __CUDA_ARCH__
#define LWFM_UNROLL _Pragma("unroll")
#else
#define LWFM_UNROLL
#endif
