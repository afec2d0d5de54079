#!/usr/bin/env python3
"""Converts an LWFM-SPM checkpoint (or a torchvision ResNet state dict) to an lwfm-spm model bundle.

    python3 tools/convert_checkpoint.py CHECKPOINT OUTDIR [--arch resnet18|resnet34|resnet50]
        [--taps 7 8] [--feature-size 3] [--pooling average|bilinear] [--temperature-attn 5]
        [--temperature 0.2] [--matcher-weight 0.25] [--top-k 1]
        [--norm authors|torchvision|cifar] [--resize 92] [--crop 84] [--force]

This script only reads the checkpoint (PyTorch is needed for that): it writes the backbone's
tensors in torchvision names to safetensors, plus the settings, and hands them to lwfm-spm's
TypeScript bundle writer (Node.js), which folds BatchNorm and writes OUTDIR/backbone.onnx,
OUTDIR/model.json and, when the checkpoint has matcher MLPs, OUTDIR/matcher.safetensors
(tensors `matcher.{t}.w1` [C_t/2, C_t] and `matcher.{t}.w2` [C_t, C_t/2], t = index in tap
order). Layouts read (docs/computation.md section 5):
  * the authors' `torch.save(dict(params=state_dict, ...))`, keys optionally prefixed by
    `module.`: `feature_extractor.initial_block.conv1/bn1`, `feature_extractor.layerN.B...`,
    `matchers.{t}.linear.0.weight` (W1) and `matchers.{t}.linear.2.weight` (W2); `fc.*` is ignored;
  * a plain torchvision resnet18/34/50 state dict (`conv1`, `bn1`, `layerN...`; `fc.*` ignored): no matcher.
--arch defaults to the architecture the keys show. --norm: `authors` = the constants of the
authors' miniImageNet code (125.3/123.0/113.9 over 255, std 63.0/62.1/66.7 over 255; these are
CIFAR-10's statistics), `torchvision` = torchvision's ImageNet normalisation (0.485/0.456/0.406,
0.229/0.224/0.225), `cifar` = CIFAR-100's statistics. Default: `authors` for the authors'
layout, `torchvision` for a torchvision state dict. (`imagenet` is the old name of `authors`.)
Needs numpy and torch (Debian: apt-get install python3-torch; pip: pip install torch) and Node.js.
"""
import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys

try:
    import numpy as np
    import torch  # noqa: F401
except ImportError as _e:
    print(f"convert_checkpoint.py needs numpy and PyTorch ({_e}): apt-get install python3-torch (Debian/Ubuntu) "
          "or pip install torch", file=sys.stderr)
    sys.exit(3)

CONVERTER_VERSION = "2.0.0"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NORMS = {
    "authors": ([125.3 / 255, 123.0 / 255, 113.9 / 255], [63.0 / 255, 62.1 / 255, 66.7 / 255]),
    "torchvision": ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    "cifar": ([0.5071, 0.4866, 0.4409], [0.2009, 0.1984, 0.2023]),
}
NORM_ALIASES = {"imagenet": "authors"}
BLOCKS = {"resnet18": [2, 2, 2, 2], "resnet34": [3, 4, 6, 3], "resnet50": [3, 4, 6, 3]}


class ConversionError(Exception):
    pass


def tap_channels(arch):
    expansion = 4 if arch == "resnet50" else 1
    out = [64]
    for width, n in zip([64, 128, 256, 512], BLOCKS[arch]):
        out += [width * expansion] * n
    return out


def parse_args(argv):
    p = argparse.ArgumentParser(prog="convert_checkpoint.py", description=__doc__.split("\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("outdir")
    p.add_argument("--arch", choices=sorted(BLOCKS), default=None)
    p.add_argument("--taps", type=int, nargs="+", default=None)
    p.add_argument("--feature-size", type=int, default=3)
    p.add_argument("--pooling", choices=["average", "bilinear"], default="average")
    p.add_argument("--temperature-attn", type=float, default=5.0)
    p.add_argument("--temperature", type=float, default=0.2)
    p.add_argument("--matcher-weight", type=float, default=None)
    p.add_argument("--top-k", type=int, default=1)
    p.add_argument("--norm", choices=sorted([*NORMS, *NORM_ALIASES]), default=None)
    p.add_argument("--resize", type=int, default=92)
    p.add_argument("--crop", type=int, default=84)
    p.add_argument("--force", action="store_true", help="replace OUTDIR if it exists")
    a = p.parse_args(argv)
    if a.taps is not None and (not a.taps or any(t < 0 or t > 16 for t in a.taps) or sorted(set(a.taps)) != a.taps):
        p.error(f"--taps must be strictly increasing ids in 0..8 (resnet18) or 0..16 (resnet34/50), got {a.taps}")
    if not 1 <= a.feature_size <= 64:
        p.error(f"--feature-size must be in 1..64, got {a.feature_size}")
    if not 1 <= a.top_k <= a.feature_size ** 2:
        p.error(f"--top-k must be in 1..featureSize^2, got {a.top_k}")
    if a.temperature_attn <= 0 or a.temperature <= 0 or (a.matcher_weight is not None and a.matcher_weight < 0):
        p.error("temperatures must be > 0 and --matcher-weight >= 0")
    if not 16 <= a.crop <= a.resize <= 4096:
        p.error(f"need 16 <= --crop <= --resize <= 4096, got crop {a.crop}, resize {a.resize}")
    return a


def check_outdir(path, force):
    if os.path.lexists(path) and not os.path.isdir(path):
        raise ConversionError(f"output path {path} exists and is not a directory; choose another OUTDIR")
    if os.path.isdir(path) and not force:
        raise ConversionError(f"output directory {path} already exists; pass --force to replace it")


def describe_start(path):
    with open(path, "rb") as fh:
        head = fh.read(16)
    if not head:
        return "an empty file"
    try:
        return f"text starting with {head.decode('utf-8')!r}"
    except UnicodeDecodeError:
        return f"{os.path.getsize(path)} bytes starting with 0x{head[:4].hex()}"


def load_state_dict(path):
    import torch

    if not os.path.exists(path):
        raise ConversionError(f"checkpoint {path} does not exist")
    if os.path.isdir(path):
        raise ConversionError(f"checkpoint {path} is a directory, expected a file written by torch.save")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    # torch.save writes a zip archive (PK\x03\x04); files from before PyTorch 1.6 are a pickle (0x80).
    if not (magic.startswith(b"PK\x03\x04") or magic[:1] == b"\x80"):
        raise ConversionError(f"checkpoint {path} is not a PyTorch checkpoint: expected a file written by torch.save, "
                              f"found {describe_start(path)}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickles with arbitrary objects are refused on purpose
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConversionError(f"checkpoint {path} cannot be read as a dictionary of tensors "
                              f"(torch.load with weights_only=True: {first})")
    if isinstance(obj, dict) and isinstance(obj.get("params"), dict):
        obj = obj["params"]
    elif isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise ConversionError(f"checkpoint {path} holds a {type(obj).__name__}, expected a state dict (a dictionary of tensors)")
    state = {}
    for k, v in obj.items():
        if not hasattr(v, "detach"):
            continue
        while k.startswith("module."):
            k = k[len("module."):]
        state[k] = v.detach().cpu().float().numpy() if v.is_floating_point() else v.detach().cpu().numpy()
    if not state:
        keys = ", ".join(str(k) for k in list(obj)[:8])
        raise ConversionError(f"checkpoint {path} has no tensors: expected a state dict, found "
                              f"{'keys ' + keys if keys else 'an empty dictionary'}")
    return state


def to_torchvision_names(path, state):
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
    raise ConversionError(f"checkpoint {path}: expected an LWFM-SPM checkpoint (keys feature_extractor.*) or a torchvision "
                          f"ResNet state dict (conv1.weight, layer1.0.conv1.weight), found keys {sample}")


def detect_arch(backbone):
    if "layer1.0.conv3.weight" in backbone:
        return "resnet50"
    return "resnet34" if "layer3.5.conv1.weight" in backbone else "resnet18"


def backbone_tensors(backbone):
    """Float32 backbone tensors (BatchNorm statistics included); num_batches_tracked is not used."""
    out = {}
    for k, v in backbone.items():
        if k.endswith("num_batches_tracked") or not np.issubdtype(np.asarray(v).dtype, np.floating):
            continue
        v = np.asarray(v, dtype=np.float32)
        if not np.all(np.isfinite(v)):
            raise ConversionError(f"{k} has non-finite values")
        out[k] = v
    return out


def _get(d, key, shape):
    if key not in d:
        raise ConversionError(f"checkpoint lacks {key}")
    v = np.asarray(d[key], dtype=np.float32)
    if v.shape != shape:
        raise ConversionError(f"{key} has shape {list(v.shape)}, expected {list(shape)}")
    if not np.all(np.isfinite(v)):
        raise ConversionError(f"{key} has non-finite values")
    return v


def matcher_tensors(matchers, taps, channels):
    if not matchers:
        return None
    ids = sorted({int(k.split(".")[1]) for k in matchers})
    if ids != list(range(len(taps))):
        raise ConversionError(f"checkpoint has matchers {ids} but --taps {taps} needs matchers 0..{len(taps) - 1}")
    extra = [k for k in matchers if not k.endswith((".linear.0.weight", ".linear.2.weight"))]
    if extra:
        raise ConversionError(f"unsupported matcher parameters (docs/computation.md §3.3 has bias-free MLPs): {', '.join(extra[:4])}")
    out = {}
    for t, tap in enumerate(taps):
        c = channels[tap]
        out[f"matcher.{t}.w1"] = _get(matchers, f"matchers.{t}.linear.0.weight", (c // 2, c))
        out[f"matcher.{t}.w2"] = _get(matchers, f"matchers.{t}.linear.2.weight", (c, c // 2))
    return out


def write_safetensors(path, tensors, metadata=None):
    header, offset = {}, 0
    for name, arr in tensors.items():
        n = arr.size * 4
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + n]}
        offset += n
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as fh:
        fh.write(len(h).to_bytes(8, "little"))
        fh.write(h)
        for arr in tensors.values():
            fh.write(np.ascontiguousarray(arr, dtype="<f4").tobytes())


def node_command():
    """Node.js and lwfm-spm's bundle writer: the sources through tsx in a source checkout, else dist/."""
    node = os.environ.get("LWFM_SPM_NODE") or shutil.which("node") or shutil.which("nodejs")
    if not node:
        raise ConversionError("Node.js is needed to write the bundle (lwfm-spm's ONNX writer is TypeScript); install "
                              "Node.js >= 20 or set LWFM_SPM_NODE")
    src = os.path.join(ROOT, "src", "model", "assemble_main.ts")
    if os.path.exists(src) and os.path.isdir(os.path.join(ROOT, "node_modules", "tsx")):
        return [node, "--import", "tsx", src]
    dist = os.path.join(ROOT, "dist", "model", "assemble_main.js")
    if not os.path.exists(dist):
        raise ConversionError(f"{dist} is missing: build lwfm-spm first (npm run build:ts)")
    return [node, dist]


def convert(a):
    check_outdir(a.outdir, a.force)
    state = load_state_dict(a.checkpoint)
    backbone, matchers, layout = to_torchvision_names(a.checkpoint, state)
    found = detect_arch(backbone)
    arch = a.arch or found
    if arch != found:
        raise ConversionError(f"--arch {arch} given, but checkpoint {a.checkpoint} holds {found} weights")
    channels = tap_channels(arch)
    taps = a.taps if a.taps is not None else [len(channels) - 2, len(channels) - 1]
    if taps[-1] >= len(channels):
        raise ConversionError(f"--taps {taps}: {arch} has taps 0..{len(channels) - 1}")
    matcher = matcher_tensors(matchers, taps, channels)
    norm = NORM_ALIASES.get(a.norm, a.norm) or ("authors" if layout == "authors" else "torchvision")
    mean, std = NORMS[norm]
    config = {
        "schema": "lwfm-spm/model",
        "schemaVersion": 1,
        "arch": arch,
        "taps": taps,
        "channels": [channels[t] for t in taps],
        "featureSize": a.feature_size,
        "pooling": a.pooling,
        "resize": a.resize,
        "crop": a.crop,
        "mean": mean,
        "std": std,
        "temperatureAttn": a.temperature_attn,
        "temperature": a.temperature,
        "matcherWeight": 0.25 if a.matcher_weight is None else a.matcher_weight,
        "topK": a.top_k,
        "provenance": {
            "source": os.path.basename(a.checkpoint),
            "converterVersion": CONVERTER_VERSION,
            "trained": True,
            "createdAt": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        },
    }
    staging = f"{os.path.abspath(a.outdir).rstrip(os.sep)}.staging-{os.getpid()}"
    try:
        os.makedirs(staging)
        write_safetensors(os.path.join(staging, "weights.safetensors"), backbone_tensors(backbone))
        if matcher is not None:
            write_safetensors(os.path.join(staging, "matcher.safetensors"), matcher, {"taps": json.dumps(taps)})
        with open(os.path.join(staging, "model.json"), "w") as fh:
            json.dump(config, fh, indent=2)
        cmd = node_command() + [staging, os.path.abspath(a.outdir), "--source", a.checkpoint] + (["--force"] if a.force else [])
        r = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
            raise ConversionError(lines[-1] if len(lines) == 1 else (r.stderr.strip() or f"bundle writer exited with {r.returncode}"))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return layout, arch, taps, norm, matcher is not None, config["matcherWeight"]


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    if a.norm in NORM_ALIASES:
        print(f"note: --norm {a.norm} is the authors' constants (CIFAR-10's statistics), now called --norm authors; "
              "for torchvision's ImageNet normalisation use --norm torchvision", file=sys.stderr)
    try:
        layout, arch, taps, norm, has_matcher, matcher_weight = convert(a)
    except ConversionError as e:
        print(f"convert_checkpoint.py: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"convert_checkpoint.py: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return 1
    print(f"wrote {a.outdir} ({layout} layout, {arch}, taps {taps}, featureSize {a.feature_size}, norm {norm}, "
          f"{'with' if has_matcher else 'no'} matcher MLP)")
    if not has_matcher and matcher_weight > 0:
        print(f"note: the checkpoint has no matcher MLPs, so matcherWeight {matcher_weight:g} is applied without an MLP "
              "(the matching score compares the matched pixels' features directly, docs/computation.md section 3.3)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # one line, never a traceback
        print(f"convert_checkpoint.py: unexpected error: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
