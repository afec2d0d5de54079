"""Writes the lwfm-spm backbone ONNX graph (same layout as src/model/backbone_graph.ts).

A small protobuf encoder for the ONNX subset used (opset 17), so that converting a
checkpoint needs only numpy and torch: no `onnx` package, no exporter quirks.

Graph: input `images` [N, 3, S, S]; ResNet-18 with BatchNorm folded into the convs;
each tap pooled to F x F (identity, GlobalAveragePool, AveragePool when the size divides,
otherwise Reshape + MatMul with a constant matrix + Reshape); output `features`
[N, C, F, F] = pooled taps concatenated along channels in tap order.
"""
import math
import struct

import numpy as np

ONNX_IR_VERSION = 8
ONNX_OPSET = 17
FLOAT = 1
INT64 = 7
BN_EPS = 1e-5

TAP_CHANNELS = [64, 64, 64, 128, 128, 256, 256, 512, 512]


def _varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


class _Msg:
    def __init__(self):
        self.parts = []

    def int(self, field, v):
        self.parts += [_varint(field << 3), _varint(int(v))]
        return self

    def float(self, field, v):
        self.parts += [_varint((field << 3) | 5), struct.pack("<f", v)]
        return self

    def bytes(self, field, b):
        self.parts += [_varint((field << 3) | 2), _varint(len(b)), b]
        return self

    def string(self, field, s):
        return self.bytes(field, s.encode("utf-8"))

    def msg(self, field, m):
        return self.bytes(field, m.finish())

    def finish(self):
        return b"".join(self.parts)


def _attr(name, value):
    a = _Msg().string(1, name)
    if isinstance(value, int):
        a.int(3, value).int(20, 2)
    elif isinstance(value, float):
        a.float(2, value).int(20, 1)
    else:
        for v in value:
            a.int(8, v)
        a.int(20, 7)
    return a


def _node(op, inputs, outputs, name=None, **attrs):
    m = _Msg()
    for i in inputs:
        m.string(1, i)
    for o in outputs:
        m.string(2, o)
    if name:
        m.string(3, name)
    m.string(4, op)
    for k, v in attrs.items():
        m.msg(5, _attr(k, v))
    return m


def _tensor(name, array):
    m = _Msg()
    for d in array.shape:
        m.int(1, d)
    if array.dtype == np.float32:
        m.int(2, FLOAT)
    elif array.dtype == np.int64:
        m.int(2, INT64)
    else:
        raise TypeError(array.dtype)
    m.string(8, name)
    m.bytes(9, np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes())
    return m


def _value_info(name, dims):
    shape = _Msg()
    for d in dims:
        shape.msg(1, _Msg().int(1, d) if isinstance(d, int) else _Msg().string(2, d))
    tensor_type = _Msg().int(1, FLOAT).msg(2, shape)
    return _Msg().string(1, name).msg(2, _Msg().msg(1, tensor_type))


def conv_specs():
    """(conv name, bn name, out, in, kernel, stride) in forward order, torchvision names."""
    specs = [("conv1", "bn1", 64, 3, 7, 2)]
    in_ch = 64
    for s, w in enumerate([64, 128, 256, 512]):
        for b in range(2):
            p = f"layer{s + 1}.{b}"
            stride = 2 if s > 0 and b == 0 else 1
            specs.append((f"{p}.conv1", f"{p}.bn1", w, in_ch, 3, stride))
            specs.append((f"{p}.conv2", f"{p}.bn2", w, w, 3, 1))
            if stride != 1 or in_ch != w:
                specs.append((f"{p}.downsample.0", f"{p}.downsample.1", w, in_ch, 1, stride))
            in_ch = w
    return specs


def tap_sizes(crop):
    def out(h, k, s, p):
        return (h + 2 * p - k) // s + 1

    h = out(out(crop, 7, 2, 3), 3, 2, 1)
    sizes = [h]
    for i in range(8):
        stride = 2 if i in (2, 4, 6) else 1
        h = out(h, 3, stride, 1)
        sizes.append(h)
    return sizes


def fold_batchnorm(weight, bn_weight, bn_bias, mean, var, eps=BN_EPS):
    """Conv (no bias) followed by inference-mode BN -> (weight, bias), in float64."""
    scale = bn_weight.astype(np.float64) / np.sqrt(var.astype(np.float64) + eps)
    w = weight.astype(np.float64) * scale[:, None, None, None]
    b = bn_bias.astype(np.float64) - mean.astype(np.float64) * scale
    return w.astype(np.float32), b.astype(np.float32)


def _pool_1d(kind, h, f):
    m = np.zeros((f, h), dtype=np.float64)
    for i in range(f):
        if kind == "average":
            lo, hi = (i * h) // f, -((-(i + 1) * h) // f)
            m[i, lo:hi] = 1.0 / (hi - lo)
        else:
            src = i * (h - 1) / (f - 1) if f > 1 else 0.0
            lo = min(int(math.floor(src)), h - 1)
            hi = min(lo + 1, h - 1)
            w = src - lo
            m[i, lo] += 1 - w
            m[i, hi] += w
    return m


def pooling_matrix(kind, h, f):
    """[H*H, F*F]: pooled[c, i*F+j] = sum x[c, y*H+x] * M[y*H+x, i*F+j]."""
    a = _pool_1d(kind, h, f)
    return np.einsum("iy,jx->yxij", a, a).reshape(h * h, f * f).astype(np.float32)


def build_backbone_onnx(convs, taps, feature_size, pooling, crop, producer_version):
    """convs: {conv name: (folded weight float32 [o,i,k,k], bias float32 [o])}."""
    specs = {s[0]: s for s in conv_specs()}
    nodes, inits = [], []

    def conv(name, x, y):
        _, _, o, i, k, s = specs[name]
        w, b = convs[name]
        assert w.shape == (o, i, k, k) and b.shape == (o,), name
        inits.append(_tensor(f"{name}.weight", w))
        inits.append(_tensor(f"{name}.bias", b))
        p = (k - 1) // 2
        nodes.append(_node("Conv", [x, f"{name}.weight", f"{name}.bias"], [y], name,
                           kernel_shape=[k, k], strides=[s, s], pads=[p, p, p, p]))

    conv("conv1", "images", "stem.conv")
    nodes.append(_node("Relu", ["stem.conv"], ["stem.relu"]))
    nodes.append(_node("MaxPool", ["stem.relu"], ["tap0"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
    x = "tap0"
    for i in range(max(taps)):
        p = f"layer{i // 2 + 1}.{i % 2}"
        conv(f"{p}.conv1", x, f"{p}.c1")
        nodes.append(_node("Relu", [f"{p}.c1"], [f"{p}.r1"]))
        conv(f"{p}.conv2", f"{p}.r1", f"{p}.c2")
        shortcut = x
        if f"{p}.downsample.0" in specs:
            conv(f"{p}.downsample.0", x, f"{p}.ds")
            shortcut = f"{p}.ds"
        nodes.append(_node("Add", [f"{p}.c2", shortcut], [f"{p}.sum"]))
        nodes.append(_node("Relu", [f"{p}.sum"], [f"tap{i + 1}"]))
        x = f"tap{i + 1}"

    sizes = tap_sizes(crop)
    f = feature_size
    outs = []
    for t in taps:
        h, c, out = sizes[t], TAP_CHANNELS[t], f"pooled{t}"
        if h == f:
            outs.append(f"tap{t}")
            continue
        if pooling == "average" and f == 1:
            nodes.append(_node("GlobalAveragePool", [f"tap{t}"], [out]))
        elif pooling == "average" and h % f == 0:
            k = h // f
            nodes.append(_node("AveragePool", [f"tap{t}"], [out], kernel_shape=[k, k], strides=[k, k]))
        else:
            inits.append(_tensor(f"pool{t}.flat_shape", np.array([0, c, h * h], dtype=np.int64)))
            inits.append(_tensor(f"pool{t}.matrix", pooling_matrix(pooling, h, f)))
            inits.append(_tensor(f"pool{t}.out_shape", np.array([0, c, f, f], dtype=np.int64)))
            nodes.append(_node("Reshape", [f"tap{t}", f"pool{t}.flat_shape"], [f"pool{t}.flat"]))
            nodes.append(_node("MatMul", [f"pool{t}.flat", f"pool{t}.matrix"], [f"pool{t}.mm"]))
            nodes.append(_node("Reshape", [f"pool{t}.mm", f"pool{t}.out_shape"], [out]))
        outs.append(out)
    channels = sum(TAP_CHANNELS[t] for t in taps)
    if len(outs) == 1:
        nodes.append(_node("Identity", outs, ["features"]))
    else:
        nodes.append(_node("Concat", outs, ["features"], axis=1))

    g = _Msg()
    for n in nodes:
        g.msg(1, n)
    g.string(2, "lwfm_spm_backbone")
    for t in inits:
        g.msg(5, t)
    g.msg(11, _value_info("images", ["N", 3, crop, crop]))
    g.msg(12, _value_info("features", ["N", channels, f, f]))
    opset = _Msg().string(1, "").int(2, ONNX_OPSET)
    return (_Msg().int(1, ONNX_IR_VERSION).string(2, "lwfm-spm convert_checkpoint.py")
            .string(3, producer_version).msg(7, g).msg(8, opset).finish())


def write_safetensors(path, tensors, metadata=None):
    """tensors: {name: float32 array}; little-endian, offsets in insertion order."""
    import json

    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        data = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(h)))
        fh.write(h)
        for b in blobs:
            fh.write(b)
