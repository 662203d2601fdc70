"""The seed recipe on the LiteRT runtime: the same network, converted to a .tflite file ahead of time.

The packaged app carries no TensorFlow (its library alone is ~600 MB): `build/build.sh` builds the network
with TensorFlow (litert_build.py), bundles the .tflite file in resources/models/, and the frozen app runs it
with `ai-edge-litert` (~60 MB) through tflite_runtime.py. Preprocessing is recipe.py's, unchanged.
A weights file chosen at run time is written into the bundled template instead (tflite_patch.py).
This module and those it imports need numpy, h5py and the interpreter, never TensorFlow.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..paths import resources_dir
from ..weights import Weights
from . import tflite_patch
from .base import l2_normalise
from .recipe import ALGORITHM, DIM, INPUT_SIZE, fingerprint, preprocess
from .shared_runtime import SharedRuntime
from .tflite_runtime import TFLiteForward

RUNTIME = "litert"


def models_dir() -> Path:
    return resources_dir() / "models"


def converted_model_name(weights: Weights) -> str:
    return f"{ALGORITHM}-{weights.tag()}.tflite"


class LiteRTResNet50Embedder:
    name = "resnet50"
    dim = DIM
    input_size = INPUT_SIZE
    precision = "fp32"
    backend = RUNTIME  # how it runs, as ResNet50Embedder.backend says it (the bench prints it)

    def __init__(self, weights: Weights, folder: Path | None = None):
        self.weights = weights
        self.model_path = (folder or models_dir()) / converted_model_name(weights)
        self.load_report = ""  # what load() did
        self._runtime = SharedRuntime(self._make_runtime)

    @property
    def fingerprint(self) -> str:
        # Equivalent to the Keras vectors (tested), but not bit-identical: a separate cache.
        return fingerprint(self.weights, runtime=RUNTIME)

    def describe(self) -> str:
        return f"ResNet50 (LiteRT) · {self.weights.describe()}"

    def load(self) -> None:
        self._runtime.get()

    def _make_runtime(self) -> TFLiteForward:
        started = time.perf_counter()
        if self.model_path.is_file():
            self.load_report = f"converted model {self.model_path}"
        else:
            self.model_path = self._model_from_template()
            self.load_report = (f"model of the weights file from the bundled template "
                                f"({time.perf_counter() - started:.1f} s): {self.model_path}")
        return TFLiteForward(self.model_path)  # ai-edge-litert's interpreters, as the tflite backend

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

    def forward(self, preprocessed: np.ndarray) -> np.ndarray:
        """Raw pooled features of an already preprocessed float32 batch (no normalisation); several threads
        may run it at a time (shared_runtime.py)."""
        return self._runtime.get()(preprocessed)

    def embed(self, batch: np.ndarray) -> np.ndarray:
        return l2_normalise(self.forward(preprocess(batch)))
