"""The untrained default model's weights (mirror of src/model/default_weights.ts), as an
unfolded torchvision state dict: Kaiming-normal (fan_out) convs from the counter RNG,
BN weight 1, bias 0, mean 0, running_var[o] = m2_in * sum(w[o]^2) with the tracked
second moments documented in the TS file."""
import numpy as np

from lwfm_rng import normal, stream_key

DEFAULT_SEED = 20241109


def conv_order():
    """(conv name, bn name, out, in, k, block index or -1) in forward order."""
    specs = [("conv1", "bn1", 64, 3, 7, -1)]
    in_ch, idx = 64, 0
    for s, w in enumerate([64, 128, 256, 512]):
        for b in range(2):
            p = f"layer{s + 1}.{b}"
            stride = 2 if s > 0 and b == 0 else 1
            specs.append((f"{p}.conv1", f"{p}.bn1", w, in_ch, 3, idx))
            specs.append((f"{p}.conv2", f"{p}.bn2", w, w, 3, idx))
            if stride != 1 or in_ch != w:
                specs.append((f"{p}.downsample.0", f"{p}.downsample.1", w, in_ch, 1, idx))
            in_ch, idx = w, idx + 1
    return specs


def default_state_dict(seed=DEFAULT_SEED):
    state = {}
    m2_in = {}
    m2 = 0.5
    specs = conv_order()
    # second moments of each conv's input, same rule as the TS file
    m2_in["conv1"] = 1.0
    for blk in range(8):
        names = [s[0] for s in specs if s[5] == blk]
        c1, c2 = names[0], names[1]
        m2_in[c1] = m2
        m2_in[c2] = 0.5
        shortcut = m2
        if len(names) == 3:
            m2_in[names[2]] = m2
            shortcut = 1.0
        m2 = 0.5 * (1.0 + shortcut)
    for stream, (name, bn, o, i, k, _) in enumerate(specs):
        w = normal(stream_key(seed, stream), o * i * k * k, np.sqrt(2.0 / (o * k * k))).reshape(o, i, k, k)
        state[f"{name}.weight"] = w
        var = (m2_in[name] * np.sum(w.reshape(o, -1).astype(np.float64) ** 2, axis=1)).astype(np.float32)
        state[f"{bn}.weight"] = np.ones(o, np.float32)
        state[f"{bn}.bias"] = np.zeros(o, np.float32)
        state[f"{bn}.running_mean"] = np.zeros(o, np.float32)
        state[f"{bn}.running_var"] = var
    return state
