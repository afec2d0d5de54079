#!/usr/bin/env python3
"""PyTorch side of benchmarks/pretrained.bench.ts: torchvision's resnet18/34/50 with the weights
of a timm/torchvision-named safetensors file, run up to the last tap with each tap pooled
(adaptive average) and concatenated, eval + no_grad, on a random N x 3 x S x S batch.
Serves timed forwards so the benchmark can interleave them with its own rounds: after loading
and one warm-up forward it prints "ready"; then every line "run" on stdin gets one line with the
forward's wall time in ms.
    /usr/bin/python3 tools/reference/bench_torch_pretrained.py --arch resnet50 --weights W.safetensors \
        --taps 15 16 --batch 80 --crop 84 --feature-size 3 --threads 2
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from resnet_taps import resnet_from_state  # noqa: E402


def read_safetensors(path):
    with open(path, "rb") as fh:
        data = fh.read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    out = {}
    for k, v in header.items():
        if k == "__metadata__" or v["dtype"] != "F32":
            continue
        a, b = v["data_offsets"]
        out[k] = np.frombuffer(data[8 + n + a:8 + n + b], dtype="<f4").reshape(v["shape"])
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", required=True)
    p.add_argument("--weights", required=True)
    p.add_argument("--taps", type=int, nargs="+", required=True)
    p.add_argument("--batch", type=int, default=80)
    p.add_argument("--crop", type=int, default=84)
    p.add_argument("--feature-size", type=int, default=3)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    net = resnet_from_state(read_safetensors(a.weights), a.arch)
    blocks = [b for layer in (net.layer1, net.layer2, net.layer3, net.layer4) for b in layer][:max(a.taps)]
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((a.batch, 3, a.crop, a.crop)).astype(np.float32))

    def forward():
        with torch.no_grad():
            h = net.maxpool(net.relu(net.bn1(net.conv1(x))))
            maps = [h]
            for b in blocks:
                h = b(h)
                maps.append(h)
            return torch.cat([F.adaptive_avg_pool2d(maps[t], a.feature_size) for t in a.taps], 1)

    forward()
    print(json.dumps({"ready": True, "torch": torch.__version__}), flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        t0 = time.perf_counter()
        forward()
        print((time.perf_counter() - t0) * 1000, flush=True)


if __name__ == "__main__":
    main()
