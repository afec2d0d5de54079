"""Plain, literal PyTorch reference of the LWFM-SPM head (docs/computation.md §3).

Deliberately naive: it loops over every (query, support) pair and every tap, materialises the
attended maps S~ and Q~, solves each assignment with scipy.optimize.linear_sum_assignment and runs
the matcher MLP on the attended vectors. It uses none of the §4 shortcuts, so it checks them.

    from lwfm_head import head_logits
    logits = head_logits(support, labels, query, channels=[512, 512], feature_size=3,
                         temperature_attn=5.0, temperature=0.2, matcher_weight=0.25, top_k=1,
                         matcher=[(w1, w2), ...])   # or matcher=None
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment


def _center(x: torch.Tensor) -> torch.Tensor:
    # One mean per pixel over ALL channels of the concatenated taps (docs/computation.md §3.1).
    return x - x.mean(dim=0, keepdim=True)


def _unit(x: torch.Tensor) -> torch.Tensor:
    return x / torch.sqrt((x * x).sum(dim=0, keepdim=True) + 1e-6)


def _cos_eps(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Column-wise cosine with docs/computation.md's max(|.|, 1e-8) on each norm."""
    na = torch.clamp(torch.sqrt((a * a).sum(dim=0)), min=1e-8)
    nb = torch.clamp(torch.sqrt((b * b).sum(dim=0)), min=1e-8)
    return (a * b).sum(dim=0) / (na * nb)


def _cos_matrix_no_eps(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """cos(a[:, i], b[:, j]) without epsilon; a zero vector gives cosine 0 (docs/computation.md §3.3)."""
    na = torch.sqrt((a * a).sum(dim=0))
    nb = torch.sqrt((b * b).sum(dim=0))
    dots = a.T @ b
    denom = na[:, None] * nb[None, :]
    out = torch.zeros_like(dots)
    ok = denom > 0
    out[ok] = dots[ok] / denom[ok]
    return out


def _attention(n_s: torch.Tensor, n_q: torch.Tensor, t_attn: float):
    r = n_s.T @ n_q  # r[i, j]: support pixel i, query pixel j
    col = (r - r.mean(dim=0, keepdim=True)) / torch.sqrt(r.var(dim=0, unbiased=True, keepdim=True) + 1e-5)
    a_s = torch.softmax(col / t_attn, dim=0).sum(dim=1)
    row = (r - r.mean(dim=1, keepdim=True)) / torch.sqrt(r.var(dim=1, unbiased=True, keepdim=True) + 1e-5)
    a_q = torch.softmax(row / t_attn, dim=1).sum(dim=0)
    return a_s, a_q


def _mlp(z: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
    """g(z) = ReLU(W2 ReLU(W1 z)) applied to each column of z."""
    return torch.relu(w2 @ torch.relu(w1 @ z))


def head_logits(support, labels, query, channels, feature_size=3, temperature_attn=5.0,
                temperature=0.2, matcher_weight=0.25, top_k=1, matcher=None,
                dtype=torch.float64) -> np.ndarray:
    """Q x way logits of docs/computation.md §3. support: S x C x P (or flat), query: Q x C x P, labels: S ints,
    matcher: None or one (w1, w2) per tap with w1 (C_l/2, C_l), w2 (C_l, C_l/2)."""
    p = feature_size * feature_size
    c = int(sum(channels))
    sup = torch.as_tensor(np.asarray(support, dtype=np.float32), dtype=dtype).reshape(-1, c, p)
    qry = torch.as_tensor(np.asarray(query, dtype=np.float32), dtype=dtype).reshape(-1, c, p)
    labels = [int(v) for v in labels]
    way = max(labels) + 1
    offsets = np.concatenate([[0], np.cumsum(channels)]).astype(int)
    taps = len(channels)
    mats = None
    if matcher is not None:
        mats = [(torch.as_tensor(np.asarray(w1, dtype=np.float32), dtype=dtype).reshape(ch // 2, ch),
                 torch.as_tensor(np.asarray(w2, dtype=np.float32), dtype=dtype).reshape(ch, ch // 2))
                for (w1, w2), ch in zip(matcher, channels)]

    sup_c = [_center(x) for x in sup]
    qry_c = [_center(x) for x in qry]
    logits = np.zeros((qry.shape[0], way))
    for qi, zq in enumerate(qry_c):
        for k in range(way):
            shots = [s for s, y in enumerate(labels) if y == k]
            s_tilde, q_tilde, m_vals = [], [], []
            for s in shots:
                zs = sup_c[s]
                st_taps, qt_taps, m_taps = [], [], []
                for l in range(taps):
                    xs = zs[offsets[l]:offsets[l + 1]]
                    xq = zq[offsets[l]:offsets[l + 1]]
                    a_s, a_q = _attention(_unit(xs), _unit(xq), temperature_attn)
                    st = xs * a_s[None, :]
                    qt = xq * a_q[None, :]
                    st_taps.append(st)
                    qt_taps.append(qt)
                    if matcher_weight != 0:
                        cost = 1.0 - _cos_matrix_no_eps(st, qt)
                        rows, cols = linear_sum_assignment(cost.cpu().numpy())
                        sigma = np.empty(p, dtype=np.int64)
                        sigma[rows] = cols
                        u = st
                        v = qt[:, torch.as_tensor(sigma)]
                        if mats is not None:
                            w1, w2 = mats[l]
                            u = u + _mlp(u, w1, w2)
                            v = v + _mlp(v, w1, w2)
                        cosv = _cos_eps(u, v)
                        m_taps.append(torch.topk(cosv, top_k).values.sum())
                s_tilde.append(torch.cat(st_taps, dim=0))
                q_tilde.append(torch.cat(qt_taps, dim=0))
                if matcher_weight != 0:
                    m_vals.append(matcher_weight * torch.stack(m_taps).max())
            a = torch.stack(s_tilde).mean(dim=0).mean(dim=1)
            b = torch.stack(q_tilde).mean(dim=0).mean(dim=1)
            g = _cos_eps(a[:, None], b[:, None])[0]
            m = torch.stack(m_vals).mean() if m_vals else torch.zeros((), dtype=dtype)
            logits[qi, k] = float((g + m) / temperature)
    return logits
