"""An embedder that runs an ONNX model of a network (onnx_build.OnnxNetwork) on ONNX Runtime: the model bytes
come from a subclass (EfficientNet-Lite0's fp32 graph, any network's int8 quantization), the rest is shared:
the session, its threads, the fingerprint, preprocessing and L2 normalisation."""

from __future__ import annotations

import json
import logging
import os
import threading
from typing import Any

import numpy as np

from ..decoding import decoding_tag
from ..errors import UserError
from ..weights import Weights
from .base import l2_normalise
from .onnx_build import INPUT_NAME, OnnxNetwork
from .shared_runtime import SharedRuntime

log = logging.getLogger(__name__)


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
        raise UserError(f"ONNX Runtime cannot load the model ({type(err).__name__}: {str(err)[:200]})") from None


class OnnxEmbedder:
    """`network` on ONNX Runtime at `precision`; subclasses say where the model comes from (`model()`) and what
    else identifies its vectors (`fingerprint_fields()`)."""

    input_size = (224, 224)
    precision = "fp32"
    backend = "onnxruntime"  # how it runs (bench labels)
    weights: Weights | None = None  # a weights file or seeded init chosen by the person (ResNet50's); None: built in

    def __init__(self, network: OnnxNetwork):
        self.network = network
        self.name = network.name
        self.dim = network.dim
        self.load_report = ""
        self._lock = threading.RLock()  # guards the lazy state (the session, int8's calibration), never a run
        self._session: SharedRuntime[Any] = SharedRuntime(self._new_session, self._lock)  # onnxruntime's

    def model(self) -> tuple[bytes, str]:
        """(the ONNX model's bytes, one line on how they were had: built, quantized, from the cache)."""
        raise NotImplementedError

    def fingerprint_fields(self) -> dict:
        return {"runtime": "onnxruntime"}

    @property
    def fingerprint(self) -> str:
        network = self.network
        decoding = decoding_tag(network.name, self.precision)  # decoding.POLICY; "" for full decoding
        return json.dumps({"algorithm": network.algorithm, "weights": network.weights_tag,
                           "preprocessing": network.preprocessing, "dim": self.dim, **self.fingerprint_fields(),
                           **({"decoding": decoding} if decoding else {})}, sort_keys=True)

    def describe(self) -> str:
        return f"{self.network.label} {self.precision} (ONNX Runtime) · {self.network.weights_description}"

    def load(self) -> None:
        self._session.get()

    def _new_session(self):
        model, self.load_report = self.model()
        session = inference_session(model)
        log.info("%s %s ready: %s", self.name, self.precision, self.load_report)
        return session

    def use_model(self, model: bytes, report: str) -> None:
        """Run these model bytes instead of making them with `model()`: a Ray worker runs the very model the
        indexing process made (spec.py)."""
        with self._lock:
            self._session.use(inference_session(model))
            self.load_report = report

    def forward(self, preprocessed: np.ndarray) -> np.ndarray:
        """Raw pooled features of an already preprocessed float32 batch. Not under a lock: InferenceSession.run
        is thread-safe, so a query runs beside an index batch (shared_runtime.py)."""
        return self._session.get().run(None, {INPUT_NAME: np.ascontiguousarray(preprocessed)})[0]

    def embed(self, batch: np.ndarray) -> np.ndarray:
        return l2_normalise(self.forward(self.network.preprocess(batch)))
