"""Times the authors' own PyTorch head (Method.cca of github.com/Halo2Tang/Code-for-LWFM-SPM)
on an episode written by benchmarks/head.bench.ts, and prints its logits, so the benchmark can
compare both speed and scores with the code the issue quotes ("about 110 ms and 860 ms").

Nothing of the authors' code is copied here: it is imported from a checkout the user names.

    python3 tools/bench/authors_head.py CHECKOUT EPISODE_DIR THREADS REPEATS [cpu|cuda]

With cuda, their head runs on the GPU as their training code runs it (its Hungarian solves
still go through SciPy on the CPU) and each timed call waits for the device.

EPISODE_DIR holds episode.json (channels, feature_size, labels, queries, temperature_attn,
temperature, matcher_weight, top_k) and float32 little-endian files support.f32 (S x C x P),
query.f32 (Q x C x P) and, per tap t when the model has a matcher MLP, w1_t.f32 / w2_t.f32. Prints one JSON line:
{"ms": median, "min": fastest, "logits": Q x way, row-major}.
"""
import json
import os
import statistics
import sys
import time
import types


def stub_plotting_imports() -> None:
    # models/method.py imports t-SNE and matplotlib for a visualisation it does not use at
    # inference, and common/utils.py imports termcolor; Debian's torch install has none of them.
    for name in ("sklearn", "sklearn.manifold", "matplotlib", "matplotlib.pyplot", "termcolor"):
        if name not in sys.modules:
            try:
                __import__(name)
            except ImportError:
                sys.modules[name] = types.ModuleType(name)
    sys.modules["sklearn.manifold"].__dict__.setdefault("TSNE", object)
    sys.modules["matplotlib.pyplot"].__dict__.setdefault("rcParams", {})
    sys.modules["termcolor"].__dict__.setdefault("colored", lambda text, *a, **k: text)


def main() -> None:
    checkout, episode_dir, threads, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    device = sys.argv[5] if len(sys.argv) > 5 else "cpu"
    sys.path.insert(0, checkout)
    stub_plotting_imports()
    import numpy as np
    import torch
    from torch import nn
    from models.matcher import HungarianMatcher
    from models.method import FeatureL2Norm, Method

    torch.set_num_threads(threads)
    case = json.load(open(f"{episode_dir}/episode.json"))
    channels, f = case["channels"], case["feature_size"]
    c, p = sum(channels), f * f
    labels = case["labels"]
    way = max(labels) + 1
    shots = [labels.count(k) for k in range(way)]
    if len(set(shots)) != 1:
        raise SystemExit("the authors' head needs the same number of shots in every class")
    shot = shots[0]
    support = np.fromfile(f"{episode_dir}/support.f32", dtype="<f4").reshape(len(labels), c, f, f)
    query = np.fromfile(f"{episode_dir}/query.f32", dtype="<f4").reshape(case["queries"], c, f, f)
    # Their episode layout is shot-major (support index = shot * way + class).
    order = [[i for i, y in enumerate(labels) if y == k][s] for s in range(shot) for k in range(way)]
    support = support[order]

    # Method.__init__ also builds the backbone, which the head does not use: set only what
    # Method.cca reads.
    method = Method.__new__(Method)
    nn.Module.__init__(method)
    method.args = types.SimpleNamespace(temperature_attn=case["temperature_attn"], temperature=case["temperature"],
                                        shot=shot, way=way)
    method.feature_extractor = types.SimpleNamespace(hyperpixel_dims=channels)
    method.feature_size = f
    method.l2norm = FeatureL2Norm()
    method.matcher_prob = case["matcher_weight"]
    if case["top_k"] != 1:
        raise SystemExit("the authors' head uses topK = 1")
    has_mlp = os.path.exists(f"{episode_dir}/w1_0.f32")
    if method.matcher_prob > 0:
        method.matchers = nn.ModuleList([HungarianMatcher(cl, has_mlp) for cl in channels])
        for t, cl in enumerate(channels if has_mlp else []):
            w1 = np.fromfile(f"{episode_dir}/w1_{t}.f32", dtype="<f4").reshape(cl // 2, cl)
            w2 = np.fromfile(f"{episode_dir}/w2_{t}.f32", dtype="<f4").reshape(cl, cl // 2)
            with torch.no_grad():
                method.matchers[t].linear[0].weight.copy_(torch.from_numpy(w1))
                method.matchers[t].linear[2].weight.copy_(torch.from_numpy(w2))
    method.eval()
    method.to(device)

    spt = torch.from_numpy(support).unsqueeze(0).to(device)
    qry = torch.from_numpy(query).to(device)
    # CUDA launches are asynchronous: a timed call ends when the device is done.
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    times = []
    with torch.no_grad():
        logits = method.cca(spt, qry)  # warm-up: their first call is slower
        sync()
        for _ in range(repeats):
            t0 = time.perf_counter()
            logits = method.cca(spt, qry)
            sync()
            times.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps(dict(ms=statistics.median(times), min=min(times), logits=logits.reshape(-1).cpu().tolist())))


if __name__ == "__main__":
    main()
