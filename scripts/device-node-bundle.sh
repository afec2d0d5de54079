#!/usr/bin/env bash
# Packs what scripts/device-node-tests.sh needs on a GPU machine that has no Node and no
# package registry (such as the H200 machine the GPU results were measured on): the CUDA addon built here for one
# architecture, this machine's Node binary and node_modules (xz; the real onnxruntime-node
# and sharp, so the whole pipeline runs there with the head on the GPU). Everything goes to
# .gpu/ (ignored); pass `.gpu` and `build-cuda/Release/lwfm_spm.node` as the device's carry.
#
#   [LWFM_AUTHORS_CODE=CHECKOUT] scripts/device-node-bundle.sh [ARCH]
#     ARCH: CUDA architecture, default 90-real (H100/H200); CHECKOUT: the authors' code, timed
#     on the same GPU by the benchmark
set -euo pipefail
cd "$(dirname "$0")/.."
ARCH="${1:-90-real}"
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
mkdir -p .gpu
npx cmake-js rebuild --out build-cuda "--CDLWFM_CUDA_ARCHS=$ARCH"
# onnxruntime-node and sharp travel with their Linux x64 binaries only (the other
# platforms' ~270 MB would not fit the 64 MiB the device tool carries).
ort=node_modules/onnxruntime-node/bin/napi-v6
tar --exclude=$ort/darwin --exclude=$ort/win32 --exclude=$ort/linux/arm64 --exclude=node_modules/typescript \
    --exclude=node_modules/@types --exclude=node_modules/node-gyp --exclude=node_modules/ml-spectra-processing \
    --exclude=node_modules/tar -cf - node_modules | xz -T0 -6 > .gpu/node_modules.tar.xz
xz -T0 -6 -c "$(readlink -f "$(command -v node)")" > .gpu/node.xz
# The authors' code (github.com/Halo2Tang/Code-for-LWFM-SPM, ~100 KB) as the GPU head's peer.
rm -rf .gpu/authors
if [ -n "${LWFM_AUTHORS_CODE:-}" ]; then
  mkdir -p .gpu/authors && (cd "$LWFM_AUTHORS_CODE" && git ls-files -z | xargs -0 tar -cf -) | tar -C .gpu/authors -xf -
fi
cp scripts/device-node-tests.sh .gpu/run.sh
du -ch .gpu/* build-cuda/Release/lwfm_spm.node | tail -n 1
echo "carry: .gpu build-cuda/Release/lwfm_spm.node; command: bash .gpu/run.sh"
