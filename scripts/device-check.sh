#!/usr/bin/env bash
# GPU device check for the CUDA engine: builds the native core, the CUDA kernels
# and a C++ test-and-benchmark executable with plain CMake + nvcc (no Node, no package
# registry needed), runs it and prints one table. On a machine without a GPU it builds
# everything and exits 0 saying there is no device.
#
#   scripts/device-check.sh [--quick] [--all-archs]
#     --quick      timings on 1/10 of the batch sizes
#     --all-archs  build every release architecture instead of only this GPU's (slower)
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=""
ARCHS=""
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK="--quick" ;;
    --all-archs) ARCHS="all" ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

NVCC="${CUDACXX:-$(command -v nvcc || true)}"
[ -z "$NVCC" ] && [ -x /usr/local/cuda/bin/nvcc ] && NVCC=/usr/local/cuda/bin/nvcc
if [ -z "$NVCC" ]; then
  echo "device-check: nvcc not found (install the CUDA toolkit or set CUDACXX)" >&2
  exit 1
fi
export CUDACXX="$NVCC"

BUILD="${LWFM_DEVICE_CHECK_BUILD:-build-device-check}"
EXTRA=()
if [ -z "$ARCHS" ] && command -v nvidia-smi >/dev/null 2>&1; then
  # Only this machine's architecture: a much faster build ("native" needs CMake >= 3.24).
  CC_MAJOR_MINOR="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n1 | tr -d ' .')"
  if [ -n "$CC_MAJOR_MINOR" ]; then EXTRA+=("-DLWFM_CUDA_ARCHS=${CC_MAJOR_MINOR}-real"); fi
fi

GEN=()
command -v ninja >/dev/null 2>&1 && GEN=(-G Ninja)
JOBS="$(nproc 2>/dev/null || echo 4)"
start=$(date +%s)
cmake -S . -B "$BUILD" ${GEN[@]+"${GEN[@]}"} -DCMAKE_BUILD_TYPE=Release ${EXTRA[@]+"${EXTRA[@]}"} >"$BUILD.configure.log" 2>&1 || {
  cat "$BUILD.configure.log"; exit 1; }
grep -E "lwfm_cuda" "$BUILD.configure.log" || true
if ! grep -q "CUDA architectures" "$BUILD.configure.log"; then
  echo "device-check: CMake did not enable CUDA (see $BUILD.configure.log)" >&2
  exit 1
fi
cmake --build "$BUILD" --target lwfm_device_check -j "$JOBS"
echo "device-check: built in $(( $(date +%s) - start )) s"
"$BUILD/lwfm_device_check" $QUICK
