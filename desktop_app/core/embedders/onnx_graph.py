"""The recipe's network (Keras ResNet50 without top + global max pooling) as an ONNX graph, built from the
weights with numpy and `onnx.helper`: no TensorFlow, so any weights file chosen at run time works, also in
the packaged app.

The input is the caffe-preprocessed batch, NHWC float32 (resnet50.preprocess); the output the raw pooled
2048-d features. Each convolution carries its batch normalisation folded in (tflite_patch.fold, the same
fold the TFLite converter does). Keras pads with zeros before the first max pool; ONNX pads with -inf, which
gives the same maximum there because the pool reads ReLU outputs (≥ 0).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import UserError
from ..weights import WEIGHTS_FILENAME, Weights, weighted_layers
from .onnx_build import OUTPUT_NAME, GraphBuilder, OnnxNetwork
from .recipe import ALGORITHM, DIM, PREPROCESSING, preprocess
from .tflite_patch import fold

STAGES = ((2, 3, 1), (3, 4, 2), (4, 6, 2), (5, 3, 2))  # (stage, blocks, stride of its first block)
BN_EPSILON = 1.001e-5  # keras.applications.resnet


def block_layers(name: str, shortcut_conv: bool) -> list[str]:
    """A block's weighted layers in the order Keras' ResNet50 lists them (its shortcut among the last)."""
    if not shortcut_conv:
        return [f"{name}_{i}_{kind}" for i in (1, 2, 3) for kind in ("conv", "bn")]
    return [f"{name}_{part}" for part in ("1_conv", "1_bn", "2_conv", "2_bn", "0_conv", "3_conv", "0_bn", "3_bn")]


def keras_layer_order() -> list[str]:
    """The 106 weighted layers of keras.applications.ResNet50 (no top), in its order."""
    order = ["conv1_conv", "conv1_bn"]
    for stage, blocks, _ in STAGES:
        for i in range(1, blocks + 1):
            order += block_layers(f"conv{stage}_block{i}", shortcut_conv=i == 1)
    return order


def layer_arrays_from_h5(path: Path) -> dict[str, list[np.ndarray]]:
    """{Keras layer name: weight arrays} of a .h5 weights file (numpy + h5py). Matched by position, as Keras'
    legacy loader does: the ImageNet file's own layer names are those of an older Keras ResNet50."""
    import h5py

    order = keras_layer_order()
    try:
        with h5py.File(path, "r") as f:
            layers = weighted_layers(f)
            if len(layers) != len(order):
                raise UserError(f"{path} holds {len(layers)} layers with weights; ResNet50 without top has "
                                f"{len(order)}. Expected '{WEIGHTS_FILENAME}'.")
            return {name: [np.asarray(a, np.float32) for a in arrays]
                    for name, (_, arrays) in zip(order, layers, strict=True)}
    except OSError as err:
        raise UserError(f"Cannot read the weights file {path}: {err}") from None


def layer_arrays_from_keras(weights: Weights) -> dict[str, list[np.ndarray]]:
    """The same for the seeded random init, which only Keras can make (needs TensorFlow)."""
    from .keras_forward import build_keras_model

    base = build_keras_model(weights).layers[0]
    return {layer.name: layer.get_weights() for layer in base.layers if layer.weights}


def layer_arrays(weights: Weights) -> dict[str, list[np.ndarray]]:
    if weights.path is None:
        return layer_arrays_from_keras(weights)
    return layer_arrays_from_h5(weights.path)


class _GraphBuilder(GraphBuilder):
    def __init__(self, arrays: dict[str, list[np.ndarray]], source: str):
        super().__init__()
        self.arrays = arrays
        self.source = source

    def conv_bn(self, x: str, layer: str, stride: int = 1, pad: int = 0) -> str:
        """`{layer}_conv` with `{layer}_bn` folded in."""
        try:
            conv, bn = self.arrays[f"{layer}_conv"], self.arrays[f"{layer}_bn"]
            out_channels = conv[0].shape[-1]
            if conv[0].ndim != 4 or [a.shape for a in (conv[1], *bn)] != [(out_channels,)] * 5:
                raise ValueError(f"arrays of shapes {[a.shape for a in (*conv, *bn)]}")
            kernel, bias = fold(conv, bn, BN_EPSILON)  # OHWI
        except (KeyError, TypeError, ValueError) as err:
            raise UserError(f"{self.source} does not fit ResNet50 at layer '{layer}' ({type(err).__name__}: "
                            f"{err}). Expected the no-top file '{WEIGHTS_FILENAME}'.") from None
        return self.conv(x, f"{layer}_conv", kernel.transpose(0, 3, 1, 2), bias, stride, (pad,) * 4)

    def relu(self, x: str, name: str) -> str:
        return self.node("Relu", [x], name)

    def block(self, x: str, name: str, stride: int, shortcut_conv: bool) -> str:
        """keras.applications.resnet.block1: 1×1 (with the stride) → 3×3 → 1×1, plus the shortcut."""
        shortcut = self.conv_bn(x, f"{name}_0", stride) if shortcut_conv else x
        y = self.relu(self.conv_bn(x, f"{name}_1", stride), f"{name}_1_relu")
        y = self.relu(self.conv_bn(y, f"{name}_2", 1, pad=1), f"{name}_2_relu")
        y = self.node("Add", [shortcut, self.conv_bn(y, f"{name}_3")], f"{name}_add")
        return self.relu(y, f"{name}_out")

    def build(self):
        x = self.relu(self.conv_bn(self.to_nchw(), "conv1", 2, pad=3), "conv1_relu")
        x = self.node("MaxPool", [x], "pool1_pool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
        for stage, blocks, stride in STAGES:
            for i in range(1, blocks + 1):
                x = self.block(x, f"conv{stage}_block{i}", stride if i == 1 else 1, shortcut_conv=i == 1)
        pooled = self.node("GlobalMaxPool", [x], "max_pool")
        return self.model("resnet50_gmp", 224, self.node("Flatten", [pooled], OUTPUT_NAME), 2048)


def build_model(arrays: dict[str, list[np.ndarray]], source: str = "the weights"):
    """The ONNX ModelProto of ResNet50+GMP with these layer arrays ({Keras layer name: weights})."""
    return _GraphBuilder(arrays, source).build()


def build_model_for(weights: Weights):
    return build_model(layer_arrays(weights), str(weights.path or weights.describe()))


def resnet50_network(weights: Weights) -> OnnxNetwork:
    """The recipe's network with these weights, as int8 quantizes it."""
    return OnnxNetwork("resnet50", "ResNet50", ALGORITHM, weights.tag(), weights.describe(), PREPROCESSING, DIM,
                       preprocess, lambda: build_model_for(weights))
