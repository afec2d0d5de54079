// Host <-> device copies of pageable memory (Node's ArrayBuffers, std::vectors) through a
// process-wide pinned staging buffer. A plain cudaMemcpy from pageable memory is staged by
// the driver with one thread and measured about 6.4 GB/s on an H200 machine (5.8 ms for the
// 1000-query head's 37 MB); here several host threads fill one half of the staging buffer
// while the copy engine drains the other.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

namespace lwfm {
namespace cuda {

// Enqueues the copy of `bytes` from host `src` to device `dst` on `stream` and returns once
// `src` may be reused (the last slice may still be in flight: later work on `stream` sees it).
void StagedUpload(void* dst, const void* src, std::size_t bytes, cudaStream_t stream);

// Copies `bytes` from device `src` to host `dst` after the work already queued on `stream`;
// returns when `dst` holds them.
void StagedDownload(void* dst, const void* src, std::size_t bytes, cudaStream_t stream);

}  // namespace cuda
}  // namespace lwfm
