"""What every network written as an ONNX graph here shares (onnx_graph.py's ResNet50, efficientnet_graph.py's
EfficientNet-Lite0): the input and output names, the opset, and a small builder of nodes and constants.

Inputs are preprocessed batches, NHWC float32 (the network's own preprocessing is numpy, before the graph);
the first node turns them to NCHW, ONNX's layout."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

OPSET = 17
INPUT_NAME, OUTPUT_NAME = "preprocessed", "features"


@dataclass(frozen=True)
class OnnxNetwork:
    """A network as the int8 quantizer and the stores see it: what identifies its vectors (algorithm, weights,
    preprocessing, dim), how a uint8 RGB batch becomes its input, and how to build its fp32 graph."""

    name: str  # the model's name in the registry, e.g. "resnet50"
    label: str  # for people, e.g. "ResNet50"
    algorithm: str  # in fingerprints and cached file names, e.g. "resnet50-gmp"
    weights_tag: str
    weights_description: str
    preprocessing: str
    dim: int
    preprocess: Callable[[np.ndarray], np.ndarray]
    build: Callable[[], Any]  # () -> the fp32 onnx.ModelProto


class GraphBuilder:
    def __init__(self):
        from onnx import helper

        self.helper = helper
        self.nodes: list = []
        self.initializers: list = []

    def node(self, op: str, inputs: list[str], name: str, **attributes) -> str:
        self.nodes.append(self.helper.make_node(op, inputs, [name], name=name, **attributes))
        return name

    def constant(self, name: str, values: np.ndarray) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(values, np.float32), name))
        return name

    def conv(self, x: str, name: str, kernel: np.ndarray, bias: np.ndarray, stride: int,
             pads: tuple[int, int, int, int], group: int = 1) -> str:
        """Convolution with an OIHW kernel; pads as ONNX orders them (top, left, bottom, right)."""
        return self.node("Conv", [x, self.constant(f"{name}_w", kernel), self.constant(f"{name}_b", bias)], name,
                         kernel_shape=list(kernel.shape[2:]), strides=[stride, stride], pads=list(pads),
                         group=group)

    def to_nchw(self) -> str:
        return self.node("Transpose", [INPUT_NAME], "to_nchw", perm=[0, 3, 1, 2])

    def model(self, graph_name: str, input_size: int, output: str, output_dim: int):
        """The ModelProto of the nodes so far, from INPUT_NAME (batch, size, size, 3) to `output` (batch, dim)."""
        from onnx import TensorProto

        helper = self.helper
        graph = helper.make_graph(
            self.nodes, graph_name,
            [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", input_size, input_size, 3])],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, ["batch", output_dim])],
            self.initializers)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="fashionrec")
