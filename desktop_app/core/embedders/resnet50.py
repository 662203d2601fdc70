"""The seed recipe: Keras ResNet50 (ImageNet, no top, 224×224) + global max pooling, caffe preprocessing.

The same network runs on one of several backends (`BACKENDS`), chosen by `--backend`, the
FASHIONREC_BACKEND environment variable, or `DEFAULT_BACKEND`:

- "tflite": the Keras model converted once to TensorFlow Lite and run by a TFLite interpreter
  (ai-edge-litert's when installed, else TensorFlow's own; XNNPACK kernels, one thread per core).
  The fastest on CPU; the converted model is cached in the user cache dir, keyed by the weights and
  library versions.
- "keras": the Keras model as a `tf.function` with a fixed input signature (no retracing).
- "keras-xla": the same with `jit_compile=True` (XLA).

Their vectors agree to cosine ≥ 0.999999 but are not bit-identical, so the backend is part of the
fingerprint: a store never mixes vectors from two backends.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import logging
import os
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import platformdirs

from ..errors import UserError
from ..paths import APP_NAME
from ..weights import WEIGHTS_FILENAME, Weights
from . import l2_normalise

log = logging.getLogger(__name__)

# keras.applications.resnet50.preprocess_input ("caffe"): RGB→BGR, minus the ImageNet mean (BGR order).
CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)
PREPROCESSING = "keras-load_img-nearest-224/caffe-bgr-mean"
INPUT_SHAPE = (224, 224, 3)
BACKENDS = ("tflite", "keras", "keras-xla")
DEFAULT_BACKEND = "tflite"
BACKEND_ENV = "FASHIONREC_BACKEND"
CACHE_DIR_ENV = "FASHIONREC_CACHE_DIR"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported: no C++ info spam


def preprocess(batch: np.ndarray) -> np.ndarray:
    """Exactly keras' `preprocess_input` for ResNet50 on a (n, h, w, 3) RGB uint8 batch."""
    return batch[..., ::-1].astype(np.float32) - CAFFE_MEAN_BGR


def build_keras_model(weights: Weights):
    """ResNet50(include_top=False, 224×224×3) + GlobalMaxPooling2D, with the given weights."""
    import keras

    if weights.is_random:
        keras.utils.set_random_seed(weights.random_seed)  # deterministic random init
    try:
        base = keras.applications.ResNet50(
            weights=None if weights.is_random else str(weights.path),
            include_top=False,
            input_shape=INPUT_SHAPE,
        )
    except Exception as err:  # noqa: BLE001 - any failure to load is a bad file for the person
        raise UserError(
            f"Could not load ResNet50 weights from {weights.path}: it is not the no-top ResNet50 "
            f"weights file '{WEIGHTS_FILENAME}' ({type(err).__name__}: {str(err)[:200]})"
        ) from err
    return keras.Sequential([base, keras.layers.GlobalMaxPooling2D()], name="resnet50_gmp")


def resolve_backend(name: str | None = None) -> str:
    """The backend asked for (argument, then FASHIONREC_BACKEND), else the default."""
    name = name or os.environ.get(BACKEND_ENV) or DEFAULT_BACKEND
    if name not in BACKENDS:
        raise UserError(f"Unknown backend '{name}'. Available: {', '.join(BACKENDS)}")
    return name


def _keras_function(model, jit_compile: bool = False):
    """The model as a tf.function over float32 batches of any size, traced once."""
    import tensorflow as tf

    return tf.function(
        lambda x: model(x, training=False),
        input_signature=[tf.TensorSpec((None, *INPUT_SHAPE), tf.float32)],
        jit_compile=jit_compile,
    )


class KerasForward:
    """Preprocessed float32 batch → raw pooled features, with Keras/TensorFlow."""

    def __init__(self, model, jit_compile: bool = False):
        self._function = _keras_function(model, jit_compile)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self._function(batch).numpy()


def model_cache_dir() -> Path:
    """Converted models: a per-user cache (FASHIONREC_CACHE_DIR overrides it), shared by every data dir,
    so the one-off conversion is not repeated per catalog data dir (tests use one data dir each)."""
    override = os.environ.get(CACHE_DIR_ENV)
    return Path(override) if override else Path(platformdirs.user_cache_dir(APP_NAME)) / "models"


def library_version(*distributions: str) -> str:
    """The installed version of the first of these packages found, read without importing it."""
    for name in distributions:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            return importlib.metadata.version(name)
    return "none"


def tflite_cache_path(weights: Weights) -> Path:
    """Where the converted model of these weights lives; library versions are part of the key
    (the random init, the converter and the file format may change with them). Finding it imports
    no TensorFlow: with ai-edge-litert, a cached model runs without TensorFlow ever loading."""
    tensorflow = library_version("tensorflow", "tensorflow-cpu")
    key = f"{weights.tag()}-{PREPROCESSING}-tf{tensorflow}-keras{library_version('keras')}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return model_cache_dir() / f"resnet50-gmp-{digest}.tflite"


def convert_to_tflite(model) -> bytes:
    """The Keras model as a TFLite flatbuffer, weights frozen in as constants (float32, no quantisation)."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    frozen = convert_variables_to_constants_v2(_keras_function(model).get_concrete_function())
    return tf.lite.TFLiteConverter.from_concrete_functions([frozen]).convert()


def convert_to_file(weights: Weights, path: Path) -> None:
    try:
        _write_atomically(path, convert_to_tflite(build_keras_model(weights)))
    except OSError as err:
        raise UserError(f"Cannot save the converted model to {path} ({err.strerror or err}). "
                        "Free some disk space, or use --backend keras.") from None


def convert_in_child_process(weights: Weights, path: Path) -> None:
    """Converting needs TensorFlow and peaks near 2 GB, which the allocator keeps afterwards: a child
    process converts, so the process that then indexes stays small (~0.5 GB). A frozen app converts
    in-process (it cannot run `python -m`)."""
    if getattr(sys, "frozen", False):
        convert_to_file(weights, path)
        return
    source = ["--random-seed", str(weights.random_seed)] if weights.is_random else ["--weights", str(weights.path)]
    child = subprocess.run([sys.executable, "-m", __name__, str(path), *source], capture_output=True, text=True)
    if child.returncode != 0 or not path.is_file():
        said = [line for line in child.stderr.splitlines() if line.startswith(_CHILD_ERROR)]
        reason = said[-1][len(_CHILD_ERROR):] if said else f"exit code {child.returncode}: {child.stderr[-300:]}"
        raise UserError(f"Could not convert the model for the tflite backend: {reason}")


_CHILD_ERROR = "conversion failed: "


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob("*.partial"):  # left by a process killed while writing
        with contextlib.suppress(OSError):
            if time.time() - stale.stat().st_mtime > 3600:
                stale.unlink()
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)  # another process converting at the same time writes the same bytes


def interpreter_class():
    """The TFLite interpreter: ai-edge-litert's when installed (the maintained one, a newer XNNPACK, about
    7 % faster here), else the one inside TensorFlow (deprecated, still shipped in 2.21). Both give
    bit-identical vectors from the same .tflite file (tested), so the choice is not in the fingerprint."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        warnings.filterwarnings("ignore", message=r"\s*Warning: tf.lite.Interpreter is deprecated")
        Interpreter = tf.lite.Interpreter
    return Interpreter


class TFLiteForward:
    """Preprocessed float32 batch → raw pooled features, with the TFLite interpreter (XNNPACK).

    An interpreter has a fixed batch size; we keep one for single images (queries) and one for the
    indexing batch size. A smaller last batch runs image by image instead of building a third.
    """

    def __init__(self, model_path: Path, threads: int | None = None, interpreter=None):
        self.model_path = model_path
        self.threads = threads or os.cpu_count() or 1
        self._interpreter_class = interpreter or interpreter_class()
        self._interpreters: dict[int, object] = {}
        self._batch_size = 1

    def _interpreter(self, batch_size: int):
        interpreter = self._interpreters.get(batch_size)
        if interpreter is None:
            interpreter = self._interpreter_class(model_path=str(self.model_path), num_threads=self.threads)
            index = interpreter.get_input_details()[0]["index"]
            interpreter.resize_tensor_input(index, [batch_size, *INPUT_SHAPE])
            interpreter.allocate_tensors()
            self._interpreters[batch_size] = interpreter
        return interpreter

    def _output_dim(self) -> int:
        return int(self._interpreter(1).get_output_details()[0]["shape"][-1])

    def _run(self, batch: np.ndarray) -> np.ndarray:
        interpreter = self._interpreter(len(batch))
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], batch)
        interpreter.invoke()
        return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        n = len(batch)
        if n == 0:
            return np.zeros((0, self._output_dim()), np.float32)
        if n in (1, self._batch_size):
            return self._run(batch)
        if n > self._batch_size:  # a new indexing batch size: it replaces the previous one
            if self._batch_size != 1:
                del self._interpreters[self._batch_size]
            self._batch_size = n
            return self._run(batch)
        return np.concatenate([self._run(batch[i : i + 1]) for i in range(n)])


class ResNet50Embedder:
    name = "resnet50"
    dim = 2048
    input_size = (224, 224)

    def __init__(self, weights: Weights, backend: str | None = None):
        self.weights = weights
        self.backend = resolve_backend(backend)
        self.load_report = ""  # what load() did, e.g. "converted to TFLite in 14.2 s"
        self._keras_model = None
        self._forward = None
        self._lock = threading.RLock()  # one forward pass at a time (indexing thread + GUI query)

    @property
    def fingerprint(self) -> str:
        return json.dumps(
            {"algorithm": "resnet50-gmp", "weights": self.weights.tag(), "preprocessing": PREPROCESSING,
             "dim": self.dim, "backend": self.backend},
            sort_keys=True,
        )

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
        with self._lock:
            if self._forward is not None:
                return
            started = time.perf_counter()
            if self.backend == "tflite":
                self._forward = self._load_tflite()
            else:
                self._forward = KerasForward(self.keras_model(), jit_compile=self.backend == "keras-xla")
                self.load_report = f"Keras model built in {time.perf_counter() - started:.1f} s"
            log.info("resnet50 %s backend ready: %s", self.backend, self.load_report)

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
        """Raw pooled features of an already preprocessed float32 batch (no normalisation)."""
        self.load()
        with self._lock:
            return self._forward(preprocessed)

    def embed(self, batch: np.ndarray) -> np.ndarray:
        return l2_normalise(self.forward(preprocess(batch)))


def main(argv: list[str] | None = None) -> int:
    """`python -m desktop_app.core.embedders.resnet50 OUT.tflite (--random-seed N | --weights FILE)`."""
    import argparse

    parser = argparse.ArgumentParser(description=convert_in_child_process.__doc__)
    parser.add_argument("out", type=Path)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--random-seed", type=int)
    source.add_argument("--weights", type=Path)
    args = parser.parse_args(argv)
    weights = Weights(random_seed=args.random_seed) if args.weights is None else Weights(path=args.weights)
    try:
        convert_to_file(weights, args.out)
    except UserError as err:
        print(f"{_CHILD_ERROR}{err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
