"""The seed recipe (recipe.py) on a backend of the user's choice, with TensorFlow installed.

The backend is chosen by `--backend`, the FASHIONREC_BACKEND environment variable, or `DEFAULT_BACKEND`:

- "tflite": the Keras model converted once to TensorFlow Lite (tflite_convert.py) and run by a TFLite
  interpreter (tflite_runtime.py: ai-edge-litert's when installed, else TensorFlow's own; XNNPACK kernels,
  one thread per core). The fastest on CPU; the converted model is cached in the user cache dir, keyed
  by the weights and library versions.
- "keras": the Keras model as a `tf.function` with a fixed input signature (no retracing).
- "keras-xla": the same with `jit_compile=True` (XLA).

Their vectors agree to cosine ≥ 0.999999 but are not bit-identical, so the backend is part of the
fingerprint: a store never mixes vectors from two backends. Without TensorFlow (the packaged app),
litert.py runs the recipe instead.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import numpy as np

from ..errors import UserError
from ..weights import Weights
from .base import l2_normalise
from .keras_forward import KerasForward, build_keras_model
from .recipe import DIM, INPUT_SIZE, fingerprint, preprocess
from .shared_runtime import SharedRuntime
from .tflite_convert import convert_in_child_process, tflite_cache_path
from .tflite_runtime import TFLiteForward

log = logging.getLogger(__name__)

BACKENDS = ("tflite", "keras", "keras-xla")
DEFAULT_BACKEND = "tflite"
BACKEND_ENV = "FASHIONREC_BACKEND"


def resolve_backend(name: str | None = None) -> str:
    """The backend asked for (argument, then FASHIONREC_BACKEND), else the default."""
    name = name or os.environ.get(BACKEND_ENV) or DEFAULT_BACKEND
    if name not in BACKENDS:
        raise UserError(f"Unknown backend '{name}'. Available: {', '.join(BACKENDS)}")
    return name


class ResNet50Embedder:
    name = "resnet50"
    dim = DIM
    input_size = INPUT_SIZE
    precision = "fp32"

    def __init__(self, weights: Weights, backend: str | None = None):
        self.weights = weights
        self.backend = resolve_backend(backend)
        self.load_report = ""  # what load() did, e.g. "converted to TFLite in 14.2 s"
        self._keras_model = None
        self._lock = threading.RLock()  # guards building (the Keras model, the runtime), never a forward pass
        self._runtime: SharedRuntime[TFLiteForward | KerasForward] = SharedRuntime(self._make_runtime, self._lock)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.weights, backend=self.backend)

    def describe(self) -> str:
        return f"ResNet50 · {self.weights.describe()} · {self.backend} backend"

    def keras_model(self):
        """The Keras reference model (built on first use; the tflite backend only needs it to convert)."""
        with self._lock:
            if self._keras_model is None:
                self._keras_model = build_keras_model(self.weights)
            return self._keras_model

    _model = property(keras_model)  # older name, used by tests written before the backends existed

    def load(self) -> None:
        """Import TensorFlow and prepare the network (seconds; the first tflite use converts it,
        about 15 s once per weights file); later calls return at once."""
        self._runtime.get()

    def _make_runtime(self) -> TFLiteForward | KerasForward:
        started = time.perf_counter()
        if self.backend == "tflite":
            runtime: TFLiteForward | KerasForward = self._load_tflite()
        else:
            runtime = KerasForward(self.keras_model(), jit_compile=self.backend == "keras-xla")
            self.load_report = f"Keras model built in {time.perf_counter() - started:.1f} s"
        log.info("resnet50 %s backend ready: %s", self.backend, self.load_report)
        return runtime

    def _load_tflite(self) -> TFLiteForward:
        started = time.perf_counter()
        path = tflite_cache_path(self.weights)
        if path.is_file():
            self.load_report = f"TFLite model loaded from cache {path}"
        else:
            convert_in_child_process(self.weights, path)
            self.load_report = (f"converted to TFLite in {time.perf_counter() - started:.1f} s "
                                f"(once; cached as {path})")
        return TFLiteForward(path)

    def forward(self, preprocessed: np.ndarray) -> np.ndarray:
        """Raw pooled features of an already preprocessed float32 batch (no normalisation); several threads
        may run it at a time (shared_runtime.py)."""
        return self._runtime.get()(preprocessed)

    def embed(self, batch: np.ndarray) -> np.ndarray:
        return l2_normalise(self.forward(preprocess(batch)))
