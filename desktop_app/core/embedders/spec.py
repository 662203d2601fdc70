"""An embedder as plain data (`EmbedderSpec`), so another process or machine (a Ray worker) builds the very same
one: the same model, precision, weights and backend, hence the same fingerprint and the same vectors.

- fp32: the model, its weights (a file must be at the same path on every node: its SHA-256 is part of the
  fingerprint, so a different file is caught) and its backend.
- int8: also the calibration sample and the quantized model's bytes with their SHA-256, checked on arrival:
  a worker runs exactly the model this process made, never one quantized again on other hardware.
Nothing here is written to or read from disk; the spec travels pickled to processes this one starts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import UserError
from ..weights import Weights
from .base import Embedder

if TYPE_CHECKING:
    from .int8 import Calibration


@dataclass(frozen=True)
class EmbedderSpec:
    model: str
    precision: str = "fp32"
    weights: Weights | None = None
    backend: str | None = None  # create_embedder's `backend` (None: the model has no choice, or its default)
    fingerprint: str = ""  # what the embedder built must report
    calibration: Calibration | None = None  # int8: the sample it was calibrated on
    int8_model: bytes = field(default=b"", repr=False)  # int8: the quantized model itself
    int8_sha256: str = ""

    def build(self) -> Embedder:
        """The embedder, built here; UserError when this machine makes another one (other weights, versions)."""
        from . import create_embedder

        embedder = create_embedder(self.model, self.weights, self.backend, self.precision,
                                   calibration=self.calibration)
        if self.precision == "int8":
            from .onnx_embedder import OnnxEmbedder

            if hashlib.sha256(self.int8_model).hexdigest() != self.int8_sha256:
                raise UserError(f"The int8 model of {self.model} arrived damaged (its SHA-256 differs); index again.")
            assert isinstance(embedder, OnnxEmbedder)  # every int8 model runs on ONNX Runtime
            embedder.use_model(self.int8_model, f"int8 model {self.int8_sha256[:12]} from the indexing process")
        if self.fingerprint and embedder.fingerprint != self.fingerprint:
            raise UserError(f"This machine builds {self.model} with another fingerprint than the catalog's "
                            f"({embedder.fingerprint[:120]}…): give it the same weights file and versions.")
        return embedder


def spec_of(embedder: Embedder) -> EmbedderSpec:
    """The spec that rebuilds `embedder` elsewhere (an int8 one's model is made or read from the cache now)."""
    from . import REGISTRY

    takes_backend = embedder.name in REGISTRY and REGISTRY[embedder.name].takes_backend
    backend = embedder.backend if takes_backend and embedder.precision == "fp32" else None
    spec = EmbedderSpec(embedder.name, embedder.precision, embedder.weights, backend, embedder.fingerprint)
    if embedder.precision != "int8":
        return spec
    from .int8 import Int8Embedder

    assert isinstance(embedder, Int8Embedder)  # the one int8 embedder class
    model, _ = embedder.model()
    return EmbedderSpec(spec.model, spec.precision, spec.weights, None, spec.fingerprint, embedder.calibration,
                        model, hashlib.sha256(model).hexdigest())
