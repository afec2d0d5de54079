#!/usr/bin/env python3
"""PyTorch side of benchmarks/backbone.bench.ts: the default model (same seeded weights)
as torchvision resnet18 layers up to the last tap, eval + no_grad, on a batch of N x 3 x 84 x 84.
Prints one JSON line: {"msPerImage": median over reps / N, "threads": ..., "torch": version}.
    /usr/bin/python3 tools/reference/bench_torch_backbone.py --batch 80 --threads 2 --reps 5
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

from default_weights import default_state_dict  # noqa: E402
from resnet_taps import resnet18_from_state  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=80)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--reps", type=int, default=5)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    net = resnet18_from_state(default_state_dict())
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((a.batch, 3, 84, 84)).astype(np.float32))

    def forward():
        with torch.no_grad():
            h = net.maxpool(net.relu(net.bn1(net.conv1(x))))
            h = net.layer3(net.layer2(net.layer1(h)))
            t7 = net.layer4[0](h)
            t8 = net.layer4[1](t7)
            return torch.cat([F.adaptive_avg_pool2d(t7, 3), F.adaptive_avg_pool2d(t8, 3)], 1)

    forward()
    times = []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        forward()
        times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({"msPerImage": float(np.median(times)) / a.batch, "threads": a.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
