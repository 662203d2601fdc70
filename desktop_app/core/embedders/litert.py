"""The ResNet50 recipe on the LiteRT runtime: the same network, converted to a .tflite file ahead of time.

The packaged app carries no TensorFlow (its library alone is ~600 MB): `build/build.sh` builds the network
with TensorFlow (`convert`, the Keras recipe of resnet50.py), bundles the .tflite file in resources/models/,
and the frozen app runs it with `ai-edge-litert` (~60 MB). Preprocessing is resnet50.py's, unchanged.
A weights file chosen at run time is written into the bundled template instead (tflite_patch.py).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..paths import resources_dir
from ..weights import Weights
from . import l2_normalise, tflite_patch
from .resnet50 import PREPROCESSING, TFLiteForward, preprocess

RUNTIME = "litert"


def models_dir() -> Path:
    return resources_dir() / "models"


def converted_model_name(weights: Weights) -> str:
    return f"resnet50-gmp-{weights.tag()}.tflite"


def convert(weights: Weights, folder: Path) -> Path:
    """Build the Keras network for `weights` and write it as a float32 .tflite file (needs TensorFlow)."""
    from .resnet50 import _write_atomically, build_keras_model, convert_to_tflite

    target = folder / converted_model_name(weights)
    _write_atomically(target, convert_to_tflite(build_keras_model(weights)))
    return target


class LiteRTResNet50Embedder:
    name = "resnet50"
    dim = 2048
    input_size = (224, 224)

    def __init__(self, weights: Weights, folder: Path | None = None):
        self.weights = weights
        self.model_path = (folder or models_dir()) / converted_model_name(weights)
        self._forward: TFLiteForward | None = None
        self._lock = threading.Lock()

    @property
    def fingerprint(self) -> str:
        # Equivalent to the Keras vectors (tested), but not bit-identical: a separate cache.
        return json.dumps(
            {"algorithm": "resnet50-gmp", "weights": self.weights.tag(), "preprocessing": PREPROCESSING,
             "dim": self.dim, "runtime": RUNTIME},
            sort_keys=True,
        )

    def describe(self) -> str:
        return f"ResNet50 (LiteRT) · {self.weights.describe()}"

    def load(self) -> None:
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> None:
        if self._forward is not None:
            return
        if not self.model_path.is_file():
            self.model_path = self._model_from_template()
        self._forward = TFLiteForward(self.model_path)  # ai-edge-litert's interpreter, as the tflite backend

    def _model_from_template(self) -> Path:
        """A weights file converted at build time is bundled; any other is written into the bundled
        template (tflite_patch.py) once, into the user cache."""
        folder = self.model_path.parent
        if self.weights.is_random or not tflite_patch.has_template(folder):
            raise UserError(
                f"This build of fashionrec runs ResNet50 converted ahead of time and has no converted model "
                f"for {self.weights.describe()} (looked for {self.model_path}). Rebuild it with that weights "
                f"file in resources/, or run fashionrec from source with TensorFlow."
            )
        return tflite_patch.patched_model_path(self.weights, folder)

    def embed(self, batch: np.ndarray) -> np.ndarray:
        with self._lock:
            self._load_locked()
            features = self._forward(preprocess(batch))
        return l2_normalise(features)


def main(argv: list[str] | None = None) -> int:
    """`python -m desktop_app.core.embedders.litert OUT_DIR [WEIGHTS.h5 ...]`: what build/build.sh bundles.

    Always converts the seeded random init (seed 0, for the self-test and demos); also each weights file given.
    """
    import argparse

    from ..weights import check_weights_file, random_weights

    parser = argparse.ArgumentParser(prog="python -m desktop_app.core.embedders.litert")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("weights_files", nargs="*", type=Path)
    args = parser.parse_args(argv)
    choices = [random_weights(0)] + [Weights(path=check_weights_file(p), source="build") for p in args.weights_files]
    for weights in choices:
        print(f"converted {weights.describe()} → {convert(weights, args.out_dir)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
