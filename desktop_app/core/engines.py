"""Engines turn files into vectors, or into the reasons they cannot be used; nothing else. The indexer
(indexer.py) decides which files (scan, diff against the store), commits what an engine hands back, and reports.

- `LocalEngine`: this process: the decode pool (decoding.py) feeding the embedder `batch_size` photos at a time.
- `RayEngine` (ray_engine.py): a Ray cluster, whose workers rebuild the embedder from its spec (embedders/spec.py).
Both hand back `EmbeddedBatch`es in the order of the files, each as soon as it is done, so every finished batch
can be committed (a kill or cancel loses at most the batch under way).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from .catalog import CatalogFile
from .decoding import DEFAULT_LOOKAHEAD, DEFAULT_WORKERS, Decode, decoded_in_order, decoder_for
from .embedders import Embedder
from .store import Skipped

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbeddedBatch:
    """One batch of files turned into vectors: the files that decoded (with their identity as read) and their
    vectors, in order, and the files that could not be used, with their reasons."""

    items: list[CatalogFile]
    vectors: np.ndarray  # (len(items), dim) float32
    skipped: list[Skipped]


Batches = Generator[EmbeddedBatch, None, None]  # closing it stops the engine's work under way


class Engine(Protocol):
    def batches(self, embedder: Embedder, root: Path, files: list[CatalogFile], batch_size: int) -> Batches:
        """The files under `root`, as `embedder` makes their vectors, `batch_size` decoded files a batch (the
        last may hold fewer) plus those skipped on the way."""
        ...


@dataclass(frozen=True)
class LocalEngine:
    decode: Decode | None = None  # default: the model's own (decoding.decoder_for)
    workers: int = DEFAULT_WORKERS  # decoding threads

    def batches(self, embedder: Embedder, root: Path, files: list[CatalogFile], batch_size: int) -> Batches:
        return embedded_batches(embedder, root, files, batch_size, self.decode, self.workers)


def embedded_batches(embedder: Embedder, root: Path, files: list[CatalogFile], batch_size: int,
                     decode: Decode | None = None, workers: int = DEFAULT_WORKERS) -> Batches:
    """The files decoded ahead by the decode pool (decoding.decoded_in_order; the model's own decoder unless
    `decode` is given) and embedded `batch_size` at a time. Indexing commits each batch to a store; `match`
    searches with it and stores nothing."""
    items: list[CatalogFile] = []
    pixels: list[np.ndarray] = []
    skipped: list[Skipped] = []

    def batch() -> EmbeddedBatch:
        vectors = embedder.embed(np.stack(pixels)) if pixels else np.empty((0, embedder.dim), np.float32)
        done = EmbeddedBatch(list(items), vectors, list(skipped))
        items.clear()
        pixels.clear()
        skipped.clear()
        return done

    decoded = decoded_in_order(decode or decoder_for(embedder), root, files, workers,
                               max(DEFAULT_LOOKAHEAD, 3 * batch_size))
    with contextlib.closing(decoded):  # closed early (cancel): the decoder threads stop
        for item, result in decoded:
            if isinstance(result, str):
                log.info("skipped %s: %s", item.relpath, result)
                skipped.append(Skipped(item.relpath, item.size, item.mtime_ns, result))
            else:
                items.append(item)
                pixels.append(result)
            if len(pixels) >= batch_size:
                yield batch()
    if pixels or skipped:
        yield batch()
