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
from ..weights import Weights, resolve_weights


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
_MODELS_WITH_WEIGHTS = frozenset({"resnet50"})


class WeightsNeeded(UserError):
    """The model needs a weights file and none was found; the message names the file and where it is looked for.
    The CLI prints it; the window asks the person to choose the file."""


def needs_weights(model: str) -> bool:
    return model in _MODELS_WITH_WEIGHTS


def available_backends() -> tuple[str, ...]:
    """The resnet50 backends this installation can run: none to choose from in the packaged app (no TensorFlow:
    it runs the converted model on LiteRT)."""
    from .resnet50 import BACKENDS

    return BACKENDS if importlib.util.find_spec("tensorflow") is not None else ()


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def create_embedder(model: str = DEFAULT_MODEL, weights: Weights | None = None,
                    backend: str | None = None) -> Embedder:
    """The embedder for `model`. A model that needs weights and is given none looks for them
    (weights.resolve_weights: may try a download) and raises WeightsNeeded when there are none.
    `backend` picks how resnet50 runs (see resnet50.BACKENDS; None: FASHIONREC_BACKEND or the fastest)."""
    if model not in MODELS:
        raise UserError(f"Unknown model '{model}'. Available: {', '.join(MODELS)}")
    if weights is not None and not needs_weights(model):
        raise UserError(f"--weights and --random-weights are for resnet50; {model} needs no weights.")
    if needs_weights(model) and weights is None:
        try:
            weights = resolve_weights()
        except UserError as err:
            raise WeightsNeeded(str(err)) from None
    if model == "resnet50":
        from .resnet50 import ResNet50Embedder

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
