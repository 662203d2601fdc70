"""int8 on ONNX Runtime: a network written as an ONNX graph (onnx_build.OnnxNetwork: ResNet50's recipe,
EfficientNet-Lite0) quantized with calibration images.

Static post-training quantization (onnxruntime.quantization.quantize_static): QDQ format, uint8 activations,
int8 weights per output channel in 7 bits (reduce_range), min/max ranges observed on the calibration images.
Chosen by measurement (docs/models.md, "int8"): ONNX Runtime's int8 kernels were the fastest here and its library is
the smallest. The 7-bit weights are for CPUs without VNNI (AVX2 only): their uint8×int8 kernel adds pairs of
products in 16 bits, which 8-bit weights can overflow (255·127·2 > 32767) and 7-bit ones cannot; so one
model gives the same vectors on every x86 CPU, at the same speed (measured on VNNI: 20.4 vs 20.4 ms/image).

Calibration images are fixed: for ResNet50 a sample of the catalog, drawn once, evenly over its sorted file
list, decoded to 224×224 and kept in the catalog's data folder (`int8-calibration.npy`), so the same catalog
always gets the same quantized model; for EfficientNet-Lite0 one generated set for every catalog
(efficientnet.py). The quantized model is cached in the model cache (model_cache.py), keyed by the weights,
the calibration images and the library versions.

The vectors are not the fp32 network's: the fingerprint names the precision, quantization and calibration,
so int8 vectors get their own store and fp32 ones stay exactly as they were.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..versions import library_version
from ..weights import Weights
from . import model_cache, onnx_build, onnx_graph
from .onnx_build import OnnxNetwork
from .onnx_embedder import OnnxEmbedder

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


# -- the quantized model, cached -----------------------------------------------------------------------------

def cache_key(network: OnnxNetwork, calibration: Calibration) -> dict:
    return {"format": CACHE_FORMAT, "weights": network.weights_tag, "calibration": calibration.digest,
            "quantization": QUANTIZATION, "onnxruntime": library_version("onnxruntime"),
            "onnx": library_version("onnx")}


def cached_path(network: OnnxNetwork, calibration: Calibration) -> Path:
    return model_cache.cached_model_path(f"{network.algorithm}-int8", cache_key(network, calibration))


def quantize(fp32_model, calibration: Calibration, preprocess: Callable[[np.ndarray], np.ndarray]) -> bytes:
    """The fp32 ONNX model quantized statically (QUANTIZATION), ranges observed on the calibration images
    (`preprocess`ed as the network's input)."""
    from onnxruntime.quantization import CalibrationDataReader

    preprocessed = preprocess(calibration.images)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self._batches = iter(range(0, len(preprocessed), CALIBRATION_BATCH))

        def get_next(self):
            start = next(self._batches, None)
            if start is None:
                return None
            return {onnx_build.INPUT_NAME: preprocessed[start : start + CALIBRATION_BATCH]}

    quiet = _QuietQuantizer()
    logging.getLogger().addFilter(quiet)
    try:
        return _quantize_files(fp32_model, Reader())
    finally:
        logging.getLogger().removeFilter(quiet)
        if quiet.raised_scales:
            log.info("the quantizer widened %d weight scales so that their biases fit in int32", quiet.raised_scales)


class _QuietQuantizer(logging.Filter):
    """quantize_static advises its shape-inference pre-pass on the root logger; our graph needs none
    (measured: same speed), and a person indexing should not see the advice. It also logs one line per output
    channel whose weight scale it widens to fit the bias (EfficientNet-Lite0: ~100, channels whose folded
    weights are near zero): those are counted into one line instead."""

    def __init__(self):
        super().__init__()
        self.raised_scales = 0

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "to ensure bias input" in message:
            self.raised_scales += 1
            return False
        return "pre-processing before quantization" not in message


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


def quantized_model(network: OnnxNetwork, calibration: Calibration) -> tuple[bytes, str]:
    """(model bytes, what was done): from the cache when it holds a sound copy, else quantized now and cached."""
    return model_cache.cached_model(
        f"{network.algorithm}-int8", cache_key(network, calibration),
        lambda: quantize(network.build(), calibration, network.preprocess), "int8 model",
        f"quantized to int8 on {len(calibration.images)} calibration images")


class Int8Embedder(OnnxEmbedder):
    """A network in int8. `calibration` is the sample itself or a function drawing it (called once, when the
    fingerprint or the model is first needed)."""

    precision = "int8"
    backend = "onnxruntime-int8"  # how it runs, as the fp32 embedders' `backend` (bench labels)

    def __init__(self, network: OnnxNetwork, calibration: Calibration | Callable[[], Calibration]):
        super().__init__(network)
        self._calibration: Calibration | Callable[[], Calibration] | UserError = calibration

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

    def fingerprint_fields(self) -> dict:
        # A catalog without a readable photo has nothing to calibrate on, and nothing to embed either: its
        # store (skip reasons only) is keyed "none"; the first readable photo brings a real sample and store.
        try:
            digest = self.calibration.digest
        except UserError:
            digest = "none"
        return {"precision": self.precision, "quantization": QUANTIZATION, "calibration": digest,
                "runtime": "onnxruntime"}

    def describe(self) -> str:
        try:
            source = f"calibrated on {self.calibration.source}"
        except UserError:
            source = "not calibrated yet: no readable photo"
        return f"{self.network.label} int8 (ONNX Runtime, {source}) · {self.network.weights_description}"

    def model(self) -> tuple[bytes, str]:
        return quantized_model(self.network, self.calibration)


class Int8ResNet50Embedder(Int8Embedder):
    """The recipe's network in int8, calibrated on a catalog's photos."""

    def __init__(self, weights: Weights, calibration: Calibration | Callable[[], Calibration]):
        super().__init__(onnx_graph.resnet50_network(weights), calibration)
        self.weights = weights
