#!/usr/bin/env bash
# Runs on the GPU machine from a bundle made by scripts/device-node-bundle.sh: unpacks Node
# and node_modules, then runs npm test's GPU test files (the whole pipeline with the head on
# the GPU included) and `npm run bench:cuda` against the carried CUDA addon, with
# LWFM_DEVICE_BACKBONE=1 the CPU backbone benchmark on the host's cores, and last the C++
# device check (scripts/device-check.sh --quick; LWFM_SKIP_DEVICE_CHECK=1 leaves it out).
# Logs go to $OUT (the device tool's output folder) when set.
set -uo pipefail
mkdir -p /tmp/nodebin
xz -dc .gpu/node.xz > /tmp/nodebin/node && chmod +x /tmp/nodebin/node
export PATH=/tmp/nodebin:$PATH
tar -xJf .gpu/node_modules.tar.xz
node --version
nvidia-smi --query-gpu=name,driver_version,compute_cap --format=csv,noheader || true
export LWFM_SPM_NATIVE=$PWD/build-cuda/Release/lwfm_spm.node
OUTDIR=${OUT:-/tmp/out}
mkdir -p "$OUTDIR"
timeout 240 node node_modules/vitest/vitest.mjs run test/cuda_device.test.ts test/cuda_auction.test.ts \
  test/cuda_exact.test.ts test/cuda_head.test.ts test/head_device.test.ts test/head.test.ts \
  test/classifier_gpu.test.ts 2>&1 | tee "$OUTDIR/vitest.log" | grep -E 'GPU vs CPU|✓|×|FAIL|Error|expected|Test Files|Tests ' | tail -60
echo "vitest rc=${PIPESTATUS[0]}"
if [ -d .gpu/authors ]; then export LWFM_AUTHORS_CODE=$PWD/.gpu/authors LWFM_BENCH_PYTHON=python3; fi
timeout 200 node --import tsx benchmarks/cuda.bench.ts 2>&1 | tee "$OUTDIR/bench-cuda.log"
echo "bench rc=${PIPESTATUS[0]}"
if [ "${LWFM_DEVICE_BACKBONE:-}" = 1 ]; then
  # The CPU backbone on this many-core host: with cores to spare, decoding in the workers
  # should overlap inference (the files path near the bare session) at the same threads.
  for t in 2 8; do
    timeout 150 node --import tsx benchmarks/backbone.bench.ts --threads $t --python python3 2>&1 | tee "$OUTDIR/backbone-$t.log" | tail -12
  done
fi
if [ "${LWFM_SKIP_DEVICE_CHECK:-}" != 1 ]; then
  LWFM_DEVICE_CHECK_BUILD=/tmp/build-device-check timeout 200 bash scripts/device-check.sh --quick 2>&1 | tee "$OUTDIR/device-check.log" | tail -40
  echo "device-check rc=${PIPESTATUS[0]}"
fi
