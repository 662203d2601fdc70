"""Turning files into a model's pixels: each model's decode policy, and the pool that decodes ahead on every core.

- `decoder_for(embedder)` is the one place that says how a model's pixels are made (`POLICY`): at full size,
  as the seed recipe did (`EXACT`), or `REDUCED`: JPEGs decoded at the smallest DCT scale still at least the
  model's input, other formats box-reduced as much (images.load_rgb). A model is REDUCED only where measured
  to find the same items (the `bench --decoding` figures, see docs/performance.md); such a model names its
  decoding in its fingerprint (`decoding_tag`), so a store never mixes vectors of both decodings.
- `decoded_in_order(decode, root, items)` yields each file's pixels (or the reason it is skipped) in order,
  while threads decode the next ones: Pillow releases the GIL while it decodes, resizes and converts, so the
  threads use the cores the model's forward pass leaves free.
- Every decode in the process shares one memory budget (`BUDGET`): a 50-megapixel PNG waits until it can
  decode alone instead of beside three others.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .catalog import UNREAD_MTIME, CatalogFile
from .embedders.base import Embedder
from .images import Crop, ImageError, UnreadableFile, load_rgb, os_error_reason

log = logging.getLogger(__name__)

EXACT, REDUCED = "exact", "reduced"
# model name (and precision, when it is not fp32) → its decoding. Chosen by measurement: reduced only where
# precision@5 stays within 0.01 of full decoding and the top-10 lists move no more than a JPEG q90 re-save
# moves them (docs/performance.md, "Reduced decoding").
POLICY: dict[str, str] = {
    "resnet50": EXACT,  # the seed recipe's decoding, kept bit for bit (tests/test_recipe.py)
}
DEFAULT_POLICY = EXACT  # a model not measured yet keeps the full decode

DEFAULT_BUDGET = 768 * 2**20  # bytes all decodes of the process may hold at once (see images._decode_bytes)
DEFAULT_WORKERS = 2  # decoding threads
DEFAULT_LOOKAHEAD = 48  # files decoded ahead of the one the model takes next


class DecodeBudget:
    """At most `limit` bytes held by decodes at once. A decode bigger than the whole budget waits until it can
    run alone: memory stays bounded by max(limit, the largest single decode), whatever the file sizes."""

    def __init__(self, limit: int = DEFAULT_BUDGET):
        self.limit = limit
        self.in_use = 0
        self.peak = 0  # the most reserved at once so far (tests, the bench)
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def reserve(self, nbytes: int) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: self.in_use == 0 or self.in_use + nbytes <= self.limit)
            self.in_use += nbytes
            self.peak = max(self.peak, self.in_use)
        try:
            yield
        finally:
            with self._changed:
                self.in_use -= nbytes
                self._changed.notify_all()


BUDGET = DecodeBudget()


def policy_of(model: str, precision: str = "fp32") -> str:
    key = model if precision == "fp32" else f"{model} {precision}"
    return POLICY.get(key, DEFAULT_POLICY)


def decoding_tag(model: str, precision: str = "fp32") -> str:
    """What a model's fingerprint adds for its decoding: "" for the full decode (fingerprints as before)."""
    return "" if policy_of(model, precision) == EXACT else f"decode-{policy_of(model, precision)}-v1"


@dataclass(frozen=True)
class Decoder:
    """How one model's pixels are made from a file: `decoder(path, crop=None)` → (height, width, 3) uint8.
    Plain data, so it pickles to Ray workers and processes (the budget is each process's own)."""

    size: tuple[int, int]  # width, height
    reduced: bool = False

    def __call__(self, path: str | os.PathLike, crop: Crop | None = None) -> np.ndarray:
        return load_rgb(path, self.size, crop=crop, reduced=self.reduced, budget=BUDGET)


def decoder_for(embedder: Embedder) -> Decoder:
    """The decoder of this embedder's model (its input size, its policy)."""
    policy = policy_of(embedder.name, embedder.precision)
    width, height = embedder.input_size
    return Decoder((width, height), reduced=policy == REDUCED)


Decode = Callable[[Path], np.ndarray]  # a Decoder, or a stand-in of the same shape (tests)


def decode_file(decode: Decode, root: Path, item: CatalogFile) -> tuple[CatalogFile, np.ndarray | str]:
    """Decode one file; returns its identity as read (it may differ from the scan's) and pixels or a reason."""
    if item.problem:
        return item, item.problem
    path = root / item.relpath
    try:
        st = os.stat(path)  # identity taken before reading: a later change shows up on the next run
        item = CatalogFile(item.relpath, st.st_size, st.st_mtime_ns)
    except OSError as err:
        return replace(item, mtime_ns=UNREAD_MTIME), os_error_reason(err, path)
    try:
        return item, decode(path)
    except UnreadableFile as err:
        return replace(item, mtime_ns=UNREAD_MTIME), str(err)
    except ImageError as err:
        return item, str(err)
    except Exception as err:  # noqa: BLE001 - a decoder bug on one odd file must not stop the whole run
        log.exception("unexpected error decoding %s", path)
        return item, f"unexpected decoder error ({type(err).__name__}: {err}); details are in the log"


def decoded_in_order(decode: Decode, root: Path, items: Iterable[CatalogFile], workers: int = DEFAULT_WORKERS,
                     lookahead: int = DEFAULT_LOOKAHEAD) -> Generator[tuple[CatalogFile, np.ndarray | str], None, None]:
    """Yield (item, pixels-or-reason) in the order of `items` while up to `lookahead` files decode on `workers`
    threads. Closing the generator (contextlib.closing) drops what has not started and waits for the rest."""
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="decode") as pool:
        pending: deque[Future] = deque()
        files = iter(items)

        def submit_next() -> None:
            item = next(files, None)
            if item is not None:
                pending.append(pool.submit(decode_file, decode, root, item))

        try:
            for _ in range(max(1, lookahead)):
                submit_next()
            while pending:
                result = pending.popleft().result()
                submit_next()
                yield result
        finally:
            for future in pending:
                future.cancel()
