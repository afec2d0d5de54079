#!/usr/bin/env python3
"""Converts an LWFM-SPM checkpoint (or a torchvision resnet18 state dict) to an lwfm-spm model bundle.

    python3 tools/convert_checkpoint.py CHECKPOINT OUTDIR [--taps 7 8] [--feature-size 3]
        [--pooling average|bilinear] [--temperature-attn 5] [--temperature 0.2]
        [--matcher-weight 0.25] [--top-k 1] [--norm imagenet|cifar] [--resize 92] [--crop 84]

Writes OUTDIR/model.json, OUTDIR/backbone.onnx and, when the checkpoint has matcher MLPs,
OUTDIR/matcher.safetensors (tensors `matcher.{t}.w1` [C_t/2, C_t] and `matcher.{t}.w2`
[C_t, C_t/2], t = index in tap order). Layouts read (SPEC.md section 5):
  * the authors' `torch.save(dict(params=state_dict, ...))`, keys optionally prefixed by
    `module.`: `feature_extractor.initial_block.conv1/bn1`, `feature_extractor.layerN.B...`,
    `matchers.{t}.linear.0.weight` (W1) and `matchers.{t}.linear.2.weight` (W2); `fc.*` is ignored;
  * a plain torchvision resnet18 state dict (`conv1`, `bn1`, `layerN...`; `fc.*` ignored): no matcher.
Needs numpy and torch (Debian: apt-get install python3-torch; pip: pip install torch).
"""
import argparse
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    import numpy as np
    import torch  # noqa: F401
except ImportError as _e:
    print(f"convert_checkpoint.py needs numpy and PyTorch ({_e}): apt-get install python3-torch (Debian/Ubuntu) "
          "or pip install torch", file=sys.stderr)
    sys.exit(3)

from lwfm_onnx import TAP_CHANNELS, build_backbone_onnx, conv_specs, fold_batchnorm, write_safetensors  # noqa: E402

CONVERTER_VERSION = "1.0.0"
NORMS = {
    "imagenet": ([125.3 / 255, 123.0 / 255, 113.9 / 255], [63.0 / 255, 62.1 / 255, 66.7 / 255]),
    "cifar": ([0.5071, 0.4866, 0.4409], [0.2009, 0.1984, 0.2023]),
}


class ConversionError(Exception):
    pass


def parse_args(argv):
    p = argparse.ArgumentParser(prog="convert_checkpoint.py", description=__doc__.split("\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("outdir")
    p.add_argument("--taps", type=int, nargs="+", default=[7, 8])
    p.add_argument("--feature-size", type=int, default=3)
    p.add_argument("--pooling", choices=["average", "bilinear"], default="average")
    p.add_argument("--temperature-attn", type=float, default=5.0)
    p.add_argument("--temperature", type=float, default=0.2)
    p.add_argument("--matcher-weight", type=float, default=0.25)
    p.add_argument("--top-k", type=int, default=1)
    p.add_argument("--norm", choices=sorted(NORMS), default="imagenet")
    p.add_argument("--resize", type=int, default=92)
    p.add_argument("--crop", type=int, default=84)
    a = p.parse_args(argv)
    if not a.taps or any(t < 0 or t > 8 for t in a.taps) or sorted(set(a.taps)) != a.taps:
        p.error(f"--taps must be strictly increasing ids in 0..8, got {a.taps}")
    if not 1 <= a.feature_size <= 64:
        p.error(f"--feature-size must be in 1..64, got {a.feature_size}")
    if not 1 <= a.top_k <= a.feature_size ** 2:
        p.error(f"--top-k must be in 1..featureSize^2, got {a.top_k}")
    if a.temperature_attn <= 0 or a.temperature <= 0 or a.matcher_weight < 0:
        p.error("temperatures must be > 0 and --matcher-weight >= 0")
    if not 16 <= a.crop <= a.resize <= 4096:
        p.error(f"need 16 <= --crop <= --resize <= 4096, got crop {a.crop}, resize {a.resize}")
    return a


def load_state_dict(path):
    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ConversionError(f"checkpoint {path} does not exist")
    except Exception as e:  # pickles with arbitrary objects are refused on purpose
        raise ConversionError(f"cannot read checkpoint {path} as a tensor dictionary: {e}")
    if isinstance(obj, dict) and isinstance(obj.get("params"), dict):
        obj = obj["params"]
    elif isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise ConversionError(f"checkpoint {path} holds a {type(obj).__name__}, expected a state dict")
    state = {}
    for k, v in obj.items():
        if not hasattr(v, "detach"):
            continue
        while k.startswith("module."):
            k = k[len("module."):]
        state[k] = v.detach().cpu().float().numpy() if v.is_floating_point() else v.detach().cpu().numpy()
    return state


def to_torchvision_names(state):
    """Returns (backbone dict in torchvision names, matcher dict, layout name)."""
    if any(k.startswith("feature_extractor.") for k in state):
        backbone, matchers = {}, {}
        for k, v in state.items():
            if k.startswith("feature_extractor."):
                k = k[len("feature_extractor."):]
                if k.startswith("initial_block."):
                    k = k[len("initial_block."):]
                backbone[k] = v
            elif k.startswith("matchers."):
                matchers[k] = v
        return backbone, matchers, "authors"
    if "conv1.weight" in state and "layer1.0.conv1.weight" in state:
        return {k: v for k, v in state.items() if not k.startswith("fc.")}, {}, "torchvision"
    sample = ", ".join(sorted(state)[:8])
    raise ConversionError(f"unrecognised key layout (expected feature_extractor.* or torchvision resnet18 keys); first keys: {sample}")


def fold_all(backbone, last_tap):
    needed = [s for s in conv_specs() if _block_index(s[0]) < last_tap]
    convs = {}
    for name, bn, o, i, k, _ in needed:
        w = _get(backbone, f"{name}.weight", (o, i, k, k))
        g = _get(backbone, f"{bn}.weight", (o,))
        b = _get(backbone, f"{bn}.bias", (o,))
        m = _get(backbone, f"{bn}.running_mean", (o,))
        v = _get(backbone, f"{bn}.running_var", (o,))
        if np.any(v < 0):
            raise ConversionError(f"{bn}.running_var has negative entries")
        convs[name] = fold_batchnorm(w, g, b, m, v)
    return convs


def _block_index(conv_name):
    if conv_name == "conv1":
        return -1
    stage, block = conv_name.split(".")[:2]
    return (int(stage[len("layer"):]) - 1) * 2 + int(block)


def _get(d, key, shape):
    if key not in d:
        raise ConversionError(f"checkpoint lacks {key}")
    v = np.asarray(d[key], dtype=np.float32)
    if v.shape != shape:
        raise ConversionError(f"{key} has shape {list(v.shape)}, expected {list(shape)}")
    if not np.all(np.isfinite(v)):
        raise ConversionError(f"{key} has non-finite values")
    return v


def matcher_tensors(matchers, taps):
    if not matchers:
        return None
    ids = sorted({int(k.split(".")[1]) for k in matchers})
    if ids != list(range(len(taps))):
        raise ConversionError(f"checkpoint has matchers {ids} but --taps {taps} needs matchers 0..{len(taps) - 1}")
    extra = [k for k in matchers if not k.endswith((".linear.0.weight", ".linear.2.weight"))]
    if extra:
        raise ConversionError(f"unsupported matcher parameters (SPEC.md 3.3 has bias-free MLPs): {', '.join(extra[:4])}")
    out = {}
    for t, tap in enumerate(taps):
        c = TAP_CHANNELS[tap]
        out[f"matcher.{t}.w1"] = _get(matchers, f"matchers.{t}.linear.0.weight", (c // 2, c))
        out[f"matcher.{t}.w2"] = _get(matchers, f"matchers.{t}.linear.2.weight", (c, c // 2))
    return out


def convert(a):
    state = load_state_dict(a.checkpoint)
    backbone, matchers, layout = to_torchvision_names(state)
    convs = fold_all(backbone, max(a.taps))
    matcher = matcher_tensors(matchers, a.taps)
    os.makedirs(a.outdir, exist_ok=True)
    onnx = build_backbone_onnx(convs, a.taps, a.feature_size, a.pooling, a.crop, CONVERTER_VERSION)
    with open(os.path.join(a.outdir, "backbone.onnx"), "wb") as fh:
        fh.write(onnx)
    matcher_path = os.path.join(a.outdir, "matcher.safetensors")
    if matcher is not None:
        write_safetensors(matcher_path, matcher, {"taps": json.dumps(a.taps)})
    elif os.path.exists(matcher_path):
        os.remove(matcher_path)  # a stale matcher from an earlier conversion would be loaded
    mean, std = NORMS[a.norm]
    config = {
        "schema": "lwfm-spm/model",
        "schemaVersion": 1,
        "taps": a.taps,
        "channels": [TAP_CHANNELS[t] for t in a.taps],
        "featureSize": a.feature_size,
        "pooling": a.pooling,
        "resize": a.resize,
        "crop": a.crop,
        "mean": mean,
        "std": std,
        "temperatureAttn": a.temperature_attn,
        "temperature": a.temperature,
        "matcherWeight": a.matcher_weight,
        "topK": a.top_k,
        "provenance": {
            "source": os.path.basename(a.checkpoint),
            "converterVersion": CONVERTER_VERSION,
            "trained": True,
            "createdAt": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        },
    }
    with open(os.path.join(a.outdir, "model.json"), "w") as fh:
        json.dump(config, fh, indent=2)
        fh.write("\n")
    return layout, matcher is not None


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        layout, has_matcher = convert(a)
    except ConversionError as e:
        print(f"convert_checkpoint.py: {e}", file=sys.stderr)
        return 1
    print(f"wrote {a.outdir} ({layout} layout, taps {a.taps}, featureSize {a.feature_size}, "
          f"{'with' if has_matcher else 'no'} matcher MLP)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
