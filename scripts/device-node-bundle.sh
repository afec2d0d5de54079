#!/usr/bin/env bash
# Packs what scripts/device-node-tests.sh needs on a GPU machine that has no Node and no
# package registry (the lent H200 of this project): the CUDA addon built here for one
# architecture, this machine's Node binary and node_modules (xz), with onnxruntime-node and
# sharp replaced by stubs (the GPU test files never run the backbone). Everything goes to
# .gpu/ (ignored); pass `.gpu` and `build-cuda/Release/lwfm_spm.node` as the device's carry.
#
#   scripts/device-node-bundle.sh [ARCH]   # ARCH: CUDA architecture, default 90-real (H100/H200)
set -euo pipefail
cd "$(dirname "$0")/.."
ARCH="${1:-90-real}"
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
mkdir -p .gpu
npx cmake-js rebuild --out build-cuda "--CDLWFM_CUDA_ARCHS=$ARCH"
stubs="$(mktemp -d)"
for p in onnxruntime-node sharp; do
  mkdir -p "$stubs/$p"
  echo "{\"name\":\"$p\",\"version\":\"0.0.0-stub\",\"main\":\"index.js\"}" > "$stubs/$p/package.json"
  echo "module.exports = {}; // stub: the GPU test run never decodes images or runs ONNX" > "$stubs/$p/index.js"
done
tar -C "$stubs" -cJf .gpu/stubs.tar.xz onnxruntime-node sharp
tar --exclude=node_modules/onnxruntime-node --exclude=node_modules/@img --exclude=node_modules/typescript \
    --exclude=node_modules/sharp --exclude=node_modules/@types --exclude=node_modules/node-gyp \
    --exclude=node_modules/ml-spectra-processing -cf - node_modules | xz -T0 -6 > .gpu/node_modules.tar.xz
xz -T0 -6 -c "$(readlink -f "$(command -v node)")" > .gpu/node.xz
cp scripts/device-node-tests.sh .gpu/run.sh
du -ch .gpu/* build-cuda/Release/lwfm_spm.node | tail -n 1
echo "carry: .gpu build-cuda/Release/lwfm_spm.node; command: bash .gpu/run.sh"
