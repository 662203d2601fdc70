"""The interface every embedder implements, and the normalisation they share (numpy only, no model imports)."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ..weights import Weights


class Embedder(Protocol):
    """`name`, `fingerprint` (identifies its vectors: a store never mixes two), `dim`, `input_size` (width,
    height it wants its RGB images at) and `embed(batch) -> (n, dim) float32`, rows L2-normalised.

    Construction is cheap. `load()` does the slow part (libraries, model files; seconds, or nothing for a
    weight-free model) and is safe to call again; `embed` calls it when needed. `load_report` says in one
    line what the last `load()` did ("" before), e.g. for the bench and the log.
    """

    name: str
    dim: int
    input_size: tuple[int, int]
    load_report: str
    backend: str  # how it runs, e.g. "tflite", "onnxruntime-int8", "numpy" (create_embedder's `backend` names it
    # for the models that offer a choice: registry.Model.takes_backend)

    @property
    def fingerprint(self) -> str: ...

    @property
    def weights(self) -> Weights | None:
        """The weights file or seeded init it runs on; None for a weight-free model."""

    @property
    def precision(self) -> str:
        """What it computes in: "fp32" or "int8" (precision.py)."""

    def describe(self) -> str: ...

    def load(self) -> None: ...

    def embed(self, batch: np.ndarray) -> np.ndarray: ...


class NetworkEmbedder(Embedder, Protocol):
    """A neural network's embedder: `forward` is its raw pooled features of an already preprocessed float32
    batch (no normalisation), what the bench times on ready tensors."""

    def forward(self, preprocessed: np.ndarray) -> np.ndarray: ...


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)

