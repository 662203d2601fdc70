"""EfficientNet-Lite0's forward pass in plain numpy (float64), written from the architecture's description and not
from the app's graph builder: batch norms applied as such (not folded), TensorFlow "SAME" padding with np.pad,
convolutions as sliding windows. The tests compare ONNX Runtime's output with it."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

EPSILON = 1e-3
# (repeats, expand ratio, kernel, stride, output channels) of the seven stages, as in EfficientNet-B0
STAGES = ((1, 1, 3, 1, 16), (2, 6, 3, 2, 24), (2, 6, 5, 2, 40), (3, 6, 3, 2, 80), (3, 6, 5, 1, 112),
          (4, 6, 5, 2, 192), (1, 6, 3, 1, 320))


def _pad_same(x: np.ndarray, kernel: int, stride: int) -> np.ndarray:
    """x: (H, W, C). Pads so that the output has ceil(H / stride) rows; the odd one goes at the bottom/right."""
    pads = []
    for size in x.shape[:2]:
        out = -(-size // stride)
        total = max((out - 1) * stride + kernel - size, 0)
        pads.append((total // 2, total - total // 2))
    return np.pad(x, (*pads, (0, 0)))


def _windows(x: np.ndarray, kernel: int, stride: int) -> np.ndarray:
    """(H', W', C, k, k) windows of the padded input."""
    return sliding_window_view(_pad_same(x, kernel, stride), (kernel, kernel), axis=(0, 1))[::stride, ::stride]


def conv(x: np.ndarray, weight: np.ndarray, stride: int = 1) -> np.ndarray:
    """Full convolution, torch weight layout (out, in, k, k)."""
    return np.einsum("hwcij,ocij->hwo", _windows(x, weight.shape[2], stride), weight, optimize=True)


def depthwise(x: np.ndarray, weight: np.ndarray, stride: int) -> np.ndarray:
    """One filter per channel, torch layout (channels, 1, k, k)."""
    return np.einsum("hwcij,cij->hwc", _windows(x, weight.shape[2], stride), weight[:, 0], optimize=True)


def batch_norm(x: np.ndarray, arrays: dict, name: str) -> np.ndarray:
    mean, var = arrays[f"{name}.running_mean"], arrays[f"{name}.running_var"]
    return (x - mean) / np.sqrt(var + EPSILON) * arrays[f"{name}.weight"] + arrays[f"{name}.bias"]


def relu6(x: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(x, 0.0), 6.0)


def forward(image: np.ndarray, arrays: dict) -> tuple[np.ndarray, np.ndarray]:
    """(1280 average-pooled features, 1000 ImageNet logits) of one (224, 224, 3) uint8 RGB image."""
    arrays = {name: np.asarray(value, np.float64) for name, value in arrays.items()}
    x = (image.astype(np.float64) - 127.0) / 128.0
    x = relu6(batch_norm(conv(x, arrays["_conv_stem.weight"], 2), arrays, "_bn0"))
    block = 0
    for repeats, expand, kernel, stride, _outputs in STAGES:
        for repeat in range(repeats):
            name, inputs = f"_blocks.{block}", x
            if expand != 1:
                x = relu6(batch_norm(conv(x, arrays[f"{name}._expand_conv.weight"]), arrays, f"{name}._bn0"))
            assert arrays[f"{name}._depthwise_conv.weight"].shape[2] == kernel
            x = relu6(batch_norm(depthwise(x, arrays[f"{name}._depthwise_conv.weight"], stride if repeat == 0 else 1),
                                 arrays, f"{name}._bn1"))
            x = batch_norm(conv(x, arrays[f"{name}._project_conv.weight"]), arrays, f"{name}._bn2")
            if repeat > 0:  # same width and stride 1: the residual connection
                x = x + inputs
            block += 1
    x = relu6(batch_norm(conv(x, arrays["_conv_head.weight"]), arrays, "_bn1"))
    pooled = x.mean(axis=(0, 1))
    return pooled, arrays["_fc.weight"] @ pooled + arrays["_fc.bias"]
