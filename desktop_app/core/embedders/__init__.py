"""Embedders: one class per algorithm behind one small interface.

An embedder has `name`, `fingerprint` (identifies its vectors: a store never mixes two), `dim`,
`input_size` (width, height it wants its RGB images at) and `embed(batch) -> (n, dim) float32`,
rows L2-normalised. Construction is cheap; heavy libraries load on the first `embed`.
"""

from __future__ import annotations

import importlib.util
from typing import Protocol

import numpy as np

from ..errors import UserError
from ..weights import Weights


class Embedder(Protocol):
    name: str
    dim: int
    input_size: tuple[int, int]

    @property
    def fingerprint(self) -> str: ...

    def describe(self) -> str: ...

    def embed(self, batch: np.ndarray) -> np.ndarray: ...


MODELS = ("resnet50", "colour-texture")
DEFAULT_MODEL = "resnet50"


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def create_embedder(model: str = DEFAULT_MODEL, weights: Weights | None = None,
                    backend: str | None = None) -> Embedder:
    """The embedder for `model`; `weights` is required by models that use them. `backend` picks how
    resnet50 runs (see resnet50.BACKENDS; None: FASHIONREC_BACKEND or the fastest)."""
    if model == "resnet50":
        from .resnet50 import ResNet50Embedder

        if weights is None:
            raise UserError("The resnet50 model needs weights (a weights file or --random-weights).")
        if importlib.util.find_spec("tensorflow") is None:  # the packaged app: the model converted at build time
            from .litert import LiteRTResNet50Embedder

            if backend is not None:
                raise UserError(f"The '{backend}' backend needs TensorFlow, which this packaged build leaves out; "
                                "it runs the converted model on LiteRT (leave out --backend).")
            return LiteRTResNet50Embedder(weights)
        return ResNet50Embedder(weights, backend)
    if model == "colour-texture":
        from .colour_texture import ColourTextureEmbedder

        return ColourTextureEmbedder()
    raise UserError(f"Unknown model '{model}'. Available: {', '.join(MODELS)}")
