"""Independent PyTorch reference of docs/computation.md §2 (backbone taps + pooling).

Uses torchvision's resnet18/34/50 modules with unfolded BatchNorm in eval mode and torch's own
pooling functions, so it shares no code with the ONNX writers it checks.
"""
import numpy as np
import torch
import torch.nn.functional as F
import torchvision


def resnet18_from_state(state):
    """state: {torchvision name: numpy/tensor}; fc.* may be absent."""
    return resnet_from_state(state, "resnet18")


def resnet_from_state(state, arch):
    """torchvision `arch` (resnet18/34/50) in eval mode with the tensors of `state`; fc.* may be absent."""
    net = getattr(torchvision.models, arch)()
    sd = net.state_dict()
    for k in list(sd):
        if k.startswith("fc.") or k.endswith("num_batches_tracked"):
            continue
        if k in state:
            sd[k] = torch.as_tensor(np.asarray(state[k])).to(sd[k].dtype)
    net.load_state_dict(sd)
    return net.eval()


def tap_maps(net, images):
    """Returns the tap maps (0 = after maxpool, t = after residual block t in forward order)."""
    x = net.maxpool(net.relu(net.bn1(net.conv1(images))))
    maps = [x]
    for layer in (net.layer1, net.layer2, net.layer3, net.layer4):
        for block in layer:
            x = block(x)
            maps.append(x)
    return maps


def pooled_features(net, images, taps, feature_size, pooling):
    """[N, C, F, F] float32: pooled taps concatenated in tap order."""
    with torch.no_grad():
        maps = tap_maps(net, torch.as_tensor(np.asarray(images), dtype=torch.float32))
        outs = []
        for t in taps:
            m = maps[t]
            if pooling == "average":
                outs.append(F.adaptive_avg_pool2d(m, feature_size))
            else:
                outs.append(F.interpolate(m, size=(feature_size, feature_size), mode="bilinear", align_corners=True))
        return torch.cat(outs, dim=1).numpy().astype(np.float32)
