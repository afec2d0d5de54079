#!/usr/bin/env bash
# Runs on the GPU machine from a bundle made by scripts/device-node-bundle.sh: unpacks Node
# and node_modules, then runs npm test's GPU test files and `npm run bench:cuda` against the
# carried CUDA addon. Logs go to $OUT (the device tool's output folder) when set.
set -uo pipefail
mkdir -p /tmp/nodebin
xz -dc .gpu/node.xz > /tmp/nodebin/node && chmod +x /tmp/nodebin/node
export PATH=/tmp/nodebin:$PATH
tar -xJf .gpu/node_modules.tar.xz
tar -C node_modules -xJf .gpu/stubs.tar.xz
node --version
export LWFM_SPM_NATIVE=$PWD/build-cuda/Release/lwfm_spm.node
OUTDIR=${OUT:-/tmp/out}
mkdir -p "$OUTDIR"
timeout 300 node node_modules/vitest/vitest.mjs run test/cuda_device.test.ts test/cuda_auction.test.ts \
  test/cuda_exact.test.ts test/cuda_head.test.ts test/head_device.test.ts 2>&1 | tee "$OUTDIR/vitest.log" | grep -vE '^\s*$' | tail -40
echo "vitest rc=${PIPESTATUS[0]}"
timeout 200 node --import tsx benchmarks/cuda.bench.ts 2>&1 | tee "$OUTDIR/bench-cuda.log"
echo "bench rc=${PIPESTATUS[0]}"
