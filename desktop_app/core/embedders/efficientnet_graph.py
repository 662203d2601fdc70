"""EfficientNet-Lite0 as an ONNX graph, built from its checkpoint's arrays with numpy and `onnx.helper`.

The layout is EfficientNet-B0's without squeeze-excite, with ReLU6 instead of swish, and with a stem of 32 and
a head of 1280 channels: 16 inverted-residual blocks (BLOCKS). Array names are EfficientNet-PyTorch's
(`_conv_stem`, `_bn0`, `_blocks.N._expand_conv`, `._depthwise_conv`, `._project_conv` with their `_bn0/_bn1/_bn2`,
`_conv_head`, `_bn1`, `_fc`). Convolutions pad as TensorFlow's "SAME" does (on stride 2 the extra row and
column go at the end), the padding the network was trained with. Every batch normalisation is folded into
its convolution (tflite_patch.fold, in float64, rounded once).

Heads: "avg" or "max" pool the head's 1280 channels over the 7×7 grid (the raw features; the embedder
L2-normalises them); "classifier" is the ImageNet classifier (average pool, then `_fc`): 1000 logits, which
the tests use to check the whole network against photos whose class is known.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import UserError
from .onnx_build import OUTPUT_NAME, GraphBuilder
from .tflite_patch import fold

INPUT_SIZE = 224
STEM_CHANNELS, HEAD_CHANNELS, CLASSES = 32, 1280, 1000
BN_EPSILON = 1e-3
HEADS = ("avg", "max", "classifier")
LOGITS = "logits"


@dataclass(frozen=True)
class Block:
    expand: int
    kernel: int
    stride: int
    inputs: int
    outputs: int

    @property
    def residual(self) -> bool:
        return self.stride == 1 and self.inputs == self.outputs


def _stage(repeats: int, expand: int, kernel: int, stride: int, inputs: int, outputs: int) -> list[Block]:
    """A stage's blocks: the first has the stride and changes the width, the others keep both."""
    return [Block(expand, kernel, stride if i == 0 else 1, inputs if i == 0 else outputs, outputs)
            for i in range(repeats)]


BLOCKS: tuple[Block, ...] = tuple(
    _stage(1, 1, 3, 1, 32, 16) + _stage(2, 6, 3, 2, 16, 24) + _stage(2, 6, 5, 2, 24, 40)
    + _stage(3, 6, 3, 2, 40, 80) + _stage(3, 6, 5, 1, 80, 112) + _stage(4, 6, 5, 2, 112, 192)
    + _stage(1, 6, 3, 1, 192, 320))


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow "SAME" padding of one axis: (before, after); an odd total puts the extra one after."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def expected_shapes() -> dict[str, tuple[int, ...]]:
    """Every array the network reads, with its shape (batch norms: weight, bias, running mean and variance)."""
    shapes: dict[str, tuple[int, ...]] = {}

    def conv_bn(conv: str, bn: str, shape: tuple[int, ...]) -> None:
        shapes[f"{conv}.weight"] = shape
        for part in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"{bn}.{part}"] = (shape[0],)

    conv_bn("_conv_stem", "_bn0", (STEM_CHANNELS, 3, 3, 3))
    for i, block in enumerate(BLOCKS):
        name, hidden = f"_blocks.{i}", block.inputs * block.expand
        if block.expand != 1:
            conv_bn(f"{name}._expand_conv", f"{name}._bn0", (hidden, block.inputs, 1, 1))
        conv_bn(f"{name}._depthwise_conv", f"{name}._bn1", (hidden, 1, block.kernel, block.kernel))
        conv_bn(f"{name}._project_conv", f"{name}._bn2", (block.outputs, hidden, 1, 1))
    conv_bn("_conv_head", "_bn1", (HEAD_CHANNELS, BLOCKS[-1].outputs, 1, 1))
    shapes["_fc.weight"], shapes["_fc.bias"] = (CLASSES, HEAD_CHANNELS), (CLASSES,)
    return shapes


def check_arrays(arrays: dict[str, np.ndarray], source: str) -> None:
    """UserError naming the first array that is missing or of another shape (extra arrays are ignored:
    the checkpoint also counts batches, `num_batches_tracked`)."""
    for name, shape in expected_shapes().items():
        if name not in arrays:
            raise UserError(f"{source} is not EfficientNet-Lite0: it has no array '{name}'.")
        if tuple(arrays[name].shape) != shape:
            raise UserError(f"{source} is not EfficientNet-Lite0: '{name}' has shape {tuple(arrays[name].shape)}, "
                            f"expected {shape}.")


class _LiteGraph(GraphBuilder):
    def __init__(self, arrays: dict[str, np.ndarray]):
        super().__init__()
        self.arrays = arrays
        self.size = INPUT_SIZE  # of the feature map entering the next layer

    def conv_bn(self, x: str, conv: str, bn: str, stride: int = 1, relu6: bool = True,
                depthwise: bool = False) -> str:
        weight = self.arrays[f"{conv}.weight"]
        kernel, bias = fold(
            (weight.transpose(2, 3, 1, 0), np.zeros(weight.shape[0])),
            [self.arrays[f"{bn}.{part}"] for part in ("weight", "bias", "running_mean", "running_var")],
            BN_EPSILON)
        size = weight.shape[2]
        pad_before, pad_after = same_pads(self.size, size, stride)
        self.size = math.ceil(self.size / stride)
        y = self.conv(x, conv, kernel.transpose(0, 3, 1, 2), bias, stride,
                      (pad_before, pad_before, pad_after, pad_after), group=weight.shape[0] if depthwise else 1)
        return self.relu6(y) if relu6 else y

    def relu6(self, x: str) -> str:
        low, high = self.constant(f"{x}_min", np.float32(0)), self.constant(f"{x}_max", np.float32(6))
        return self.node("Clip", [x, low, high], f"{x}_relu6")

    def block(self, x: str, i: int, block: Block) -> str:
        name = f"_blocks.{i}"
        y = self.conv_bn(x, f"{name}._expand_conv", f"{name}._bn0") if block.expand != 1 else x
        y = self.conv_bn(y, f"{name}._depthwise_conv", f"{name}._bn1", stride=block.stride, depthwise=True)
        y = self.conv_bn(y, f"{name}._project_conv", f"{name}._bn2", relu6=False)
        return self.node("Add", [x, y], f"{name}_add") if block.residual else y

    def build(self, head: str):
        x = self.conv_bn(self.to_nchw(), "_conv_stem", "_bn0", stride=2)
        for i, block in enumerate(BLOCKS):
            x = self.block(x, i, block)
        x = self.conv_bn(x, "_conv_head", "_bn1")
        pool = "GlobalMaxPool" if head == "max" else "GlobalAveragePool"
        pooled = self.node("Flatten", [self.node(pool, [x], "pool")], LOGITS + "_in" if head == "classifier"
                           else OUTPUT_NAME)
        if head != "classifier":
            return self.model("efficientnet_lite0", INPUT_SIZE, pooled, HEAD_CHANNELS)
        logits = self.node("Gemm", [pooled, self.constant("fc_w", self.arrays["_fc.weight"]),
                                    self.constant("fc_b", self.arrays["_fc.bias"])], LOGITS, transB=1)
        return self.model("efficientnet_lite0_classifier", INPUT_SIZE, logits, CLASSES)


def build_model(arrays: dict[str, np.ndarray], head: str = "avg", source: str = "the checkpoint"):
    """The ONNX ModelProto of EfficientNet-Lite0 with these arrays: (batch, 224, 224, 3) preprocessed input
    to the pooled features ("avg", "max") or the ImageNet logits ("classifier")."""
    if head not in HEADS:
        raise ValueError(f"head must be one of {HEADS}, not {head!r}")
    check_arrays(arrays, source)
    return _LiteGraph(arrays).build(head)
