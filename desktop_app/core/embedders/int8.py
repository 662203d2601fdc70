"""ResNet50 in int8 on ONNX Runtime: the recipe's network (onnx_graph.py) quantized with calibration images.

Static post-training quantization (onnxruntime.quantization.quantize_static): QDQ format, uint8 activations,
int8 weights per output channel in 7 bits (reduce_range), min/max ranges observed on the calibration images.
Chosen by measurement (README, "int8"): ONNX Runtime's int8 kernels were the fastest here and its library is
the smallest. The 7-bit weights are for CPUs without VNNI (AVX2 only): their uint8×int8 kernel adds pairs of
products in 16 bits, which 8-bit weights can overflow (255·127·2 > 32767) and 7-bit ones cannot; so one
model gives the same vectors on every x86 CPU, at the same speed (measured on VNNI: 20.4 vs 20.4 ms/image).

Calibration images are a fixed sample of the catalog: drawn once, evenly over its sorted file list, decoded
to 224×224 and kept in the catalog's data folder (`int8-calibration.npy`), so the same catalog always gets
the same quantized model. The quantized model is cached in the model cache, keyed by the weights, the
calibration images and the library versions, with a sidecar naming the key and the model's SHA-256: a
damaged or foreign file there is rebuilt, never run.

The vectors are not the fp32 recipe's: the fingerprint names the precision, quantization and calibration,
so int8 vectors get their own store and fp32 ones stay exactly as they were.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError
from ..files import save_arrays_atomically, write_atomically
from ..paths import models_cache_dir
from ..versions import library_version
from ..weights import Weights
from . import onnx_graph
from .base import l2_normalise
from .recipe import PREPROCESSING, preprocess

log = logging.getLogger(__name__)

PRECISIONS = ("fp32", "int8")
QUANTIZATION = "onnxruntime-qdq-u8s7-per-channel-minmax"
CACHE_FORMAT = 1
CALIBRATION_IMAGES = 32
CALIBRATION_BATCH = 8


@dataclass(frozen=True)
class Calibration:
    """The images the activation ranges are observed on: (n, 224, 224, 3) uint8 RGB."""

    images: np.ndarray
    source: str = ""
    digest: str = field(init=False)

    def __post_init__(self):
        images = np.ascontiguousarray(self.images, dtype=np.uint8)
        if images.ndim != 4 or images.shape[1:] != (224, 224, 3) or len(images) == 0:
            raise UserError(f"int8 calibration needs at least one 224×224 RGB image, got shape {images.shape}.")
        object.__setattr__(self, "images", images)
        object.__setattr__(self, "digest", hashlib.sha256(images.tobytes()).hexdigest()[:16])

    @classmethod
    def from_files(cls, paths: list[Path], source: str = "") -> Calibration:
        """Decoded like indexed images (images.load_rgb); unreadable files are left out."""
        from ..images import load_readable

        images = load_readable(paths, (224, 224))[1]
        if not images:
            raise UserError(f"No readable image to calibrate int8 on ({source or 'no files given'}).")
        return cls(np.stack(images), source)


def sample_evenly(items: list, count: int = CALIBRATION_IMAGES) -> list:
    """`count` items spread evenly over the list (all of them when there are fewer)."""
    if len(items) <= count:
        return list(items)
    return [items[int(i * len(items) / count)] for i in range(count)]


def catalog_calibration(root: Path, data_dir: Path | None = None) -> Calibration:
    """The catalog's calibration sample: read from its data folder, or drawn and saved there the first time.
    A file that cannot be read back as such a sample is drawn again (the store then follows the new digest)."""
    from ..catalog import no_images_message, scan
    from ..catalog_data import Catalog

    catalog = Catalog(root, data_dir)
    path = catalog.calibration_path
    source = f"{root.name} ({path.name})"
    if path.is_file():
        try:
            return Calibration(np.load(path, allow_pickle=False), source)
        except (OSError, ValueError, UserError) as err:
            log.warning("int8 calibration sample %s is unusable (%s): drawing it again", path, err)
    files = [f for f in scan(root) if not f.problem]
    if not files:
        raise UserError(no_images_message(root))
    calibration = Calibration.from_files([root / f.relpath for f in sample_evenly(files)], f"catalog {root}")
    catalog.writable_folder()
    save_arrays_atomically(path, calibration.images)
    return Calibration(calibration.images, source)


# -- the quantized model, cached -----------------------------------------------------------------------------

def cache_key(weights: Weights, calibration: Calibration) -> dict:
    return {"format": CACHE_FORMAT, "weights": weights.tag(), "calibration": calibration.digest,
            "quantization": QUANTIZATION, "onnxruntime": library_version("onnxruntime"),
            "onnx": library_version("onnx")}


def cached_model_path(key: dict) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return models_cache_dir() / f"resnet50-gmp-int8-{digest}.onnx"


def _sidecar(path: Path) -> Path:
    return path.with_suffix(".json")


def read_cached_model(path: Path, key: dict) -> bytes | None:
    """The cached model's bytes when its sidecar names this key and its SHA-256 matches; else None."""
    try:
        sidecar = json.loads(_sidecar(path).read_text())
        data = path.read_bytes()
    except (OSError, ValueError):
        return None
    if not isinstance(sidecar, dict) or sidecar.get("key") != key:
        log.warning("int8 model %s was made for another key: rebuilding it", path)
        return None
    if sidecar.get("sha256") != hashlib.sha256(data).hexdigest():
        log.warning("int8 model %s is damaged (checksum differs): rebuilding it", path)
        return None
    return data


def write_cached_model(path: Path, key: dict, data: bytes) -> None:
    try:
        write_atomically(path, data)
        sidecar = {"key": key, "sha256": hashlib.sha256(data).hexdigest()}
        write_atomically(_sidecar(path), json.dumps(sidecar, sort_keys=True).encode())
    except OSError as err:
        raise UserError(f"Cannot save the int8 model to {path} ({err.strerror or err}). Free some disk space, "
                        "or use --precision fp32.") from None


def quantize(fp32_model, calibration: Calibration) -> bytes:
    """The fp32 ONNX model quantized statically (QUANTIZATION), ranges observed on the calibration images."""
    from onnxruntime.quantization import CalibrationDataReader

    preprocessed = preprocess(calibration.images)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self._batches = iter(range(0, len(preprocessed), CALIBRATION_BATCH))

        def get_next(self):
            start = next(self._batches, None)
            if start is None:
                return None
            return {onnx_graph.INPUT_NAME: preprocessed[start : start + CALIBRATION_BATCH]}

    quiet = _DropPreprocessingAdvice()
    logging.getLogger().addFilter(quiet)
    try:
        return _quantize_files(fp32_model, Reader())
    finally:
        logging.getLogger().removeFilter(quiet)


class _DropPreprocessingAdvice(logging.Filter):
    """quantize_static advises its shape-inference pre-pass on the root logger; our graph needs none
    (measured: same speed), and a person indexing should not see the advice."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def _quantize_files(fp32_model, reader) -> bytes:
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    with tempfile.TemporaryDirectory(prefix="fashionrec-int8-") as work:
        source, target = Path(work) / "fp32.onnx", Path(work) / "int8.onnx"
        onnx.save(fp32_model, source)
        quantize_static(source, target, reader, quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, reduce_range=True,
                        calibrate_method=CalibrationMethod.MinMax)
        return target.read_bytes()


def quantized_model(weights: Weights, calibration: Calibration) -> tuple[bytes, str]:
    """(model bytes, what was done): from the cache when it holds a sound copy, else quantized now and cached."""
    key = cache_key(weights, calibration)
    path = cached_model_path(key)
    data = read_cached_model(path, key)
    if data is not None:
        return data, f"int8 model loaded from cache {path}"
    started = time.perf_counter()
    data = quantize(onnx_graph.build_model_for(weights), calibration)
    write_cached_model(path, key, data)
    return data, (f"quantized to int8 on {len(calibration.images)} calibration images in "
                  f"{time.perf_counter() - started:.1f} s (once; cached as {path})")


def inference_session(model: bytes, threads: int | None = None):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or os.cpu_count() or 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle worker threads sleep instead of spinning: measured with other programs on the 2 cores, a single
    # query took 24–34 ms this way and 72–99 ms spinning (TFLite fp32: 162–240 ms at the same time).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001 - ORT raises its own exception types
        raise UserError(f"ONNX Runtime cannot load the int8 model ({type(err).__name__}: {str(err)[:200]})") from None


class Int8ResNet50Embedder:
    """The recipe's network in int8. `calibration` is the sample itself or a function drawing it
    (called once, when the fingerprint or the model is first needed)."""

    name = "resnet50"
    dim = 2048
    input_size = (224, 224)
    precision = "int8"
    backend = "onnxruntime-int8"  # how it runs, as the fp32 embedders' `backend` (bench labels)

    def __init__(self, weights: Weights, calibration: Calibration | Callable[[], Calibration]):
        self.weights = weights
        self._calibration: Calibration | Callable[[], Calibration] | UserError = calibration
        self.load_report = ""
        self._session: Any = None  # an onnxruntime.InferenceSession once loaded
        self._lock = threading.RLock()

    @property
    def calibration(self) -> Calibration:
        """The calibration sample; UserError when there is none (a catalog without a readable photo)."""
        with self._lock:
            if callable(self._calibration):
                try:
                    self._calibration = self._calibration()
                except UserError as err:
                    self._calibration = err
            if isinstance(self._calibration, UserError):
                raise self._calibration
            assert isinstance(self._calibration, Calibration)
            return self._calibration

    @property
    def fingerprint(self) -> str:
        # A catalog without a readable photo has nothing to calibrate on, and nothing to embed either: its
        # store (skip reasons only) is keyed "none"; the first readable photo brings a real sample and store.
        try:
            digest = self.calibration.digest
        except UserError:
            digest = "none"
        return json.dumps(
            {"algorithm": "resnet50-gmp", "weights": self.weights.tag(), "preprocessing": PREPROCESSING,
             "dim": self.dim, "precision": self.precision, "quantization": QUANTIZATION,
             "calibration": digest, "runtime": "onnxruntime"},
            sort_keys=True,
        )

    def describe(self) -> str:
        try:
            source = f"calibrated on {self.calibration.source}"
        except UserError:
            source = "not calibrated yet: no readable photo"
        return f"ResNet50 int8 (ONNX Runtime, {source}) · {self.weights.describe()}"

    def load(self) -> None:
        with self._lock:
            if self._session is None:
                model, self.load_report = quantized_model(self.weights, self.calibration)
                self._session = inference_session(model)
                log.info("resnet50 int8 ready: %s", self.load_report)

    def forward(self, preprocessed: np.ndarray) -> np.ndarray:
        """Raw pooled features of an already preprocessed float32 batch."""
        self.load()
        with self._lock:
            return self._session.run(None, {onnx_graph.INPUT_NAME: np.ascontiguousarray(preprocessed)})[0]

    def embed(self, batch: np.ndarray) -> np.ndarray:
        return l2_normalise(self.forward(preprocess(batch)))
