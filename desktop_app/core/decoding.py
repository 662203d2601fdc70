"""Turning files into a model's pixels: each model's decode policy, and the pool that decodes ahead on every core.

- `decoder_for(embedder)` is the one place that says how a model's pixels are made (`POLICY`): decoded at full
  size, as the seed recipe did (`FULL`), or reduced: JPEGs decoded at the smallest DCT scale (1/2, 1/4, 1/8)
  still at least `margin` times the model's input, other formats box-reduced as much (images.load_rgb); then
  resized to the model's input with a filter (`resize`: the recipe's nearest neighbour, or an antialiased one).
  The choice is measured per model (`bench --decoding`, docs/performance.md "Big photos"); a model that does
  not decode as the recipe did names its decoding in its fingerprint (`decoding_tag`), so a store never mixes
  vectors of two decodings.
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
from .images import RESIZE_FILTERS, Crop, ImageError, UnreadableFile, load_rgb, os_error_reason

log = logging.getLogger(__name__)

FULL = 0  # decode at full size
NEAREST = "nearest"  # the recipe's resize (keras load_img): one source pixel per input pixel


@dataclass(frozen=True)
class Decoding:
    """How a model's photos become its input: decoded at full size (FULL) or reduced to at least `margin` × the
    input, then resized with `resize` (a name of images.RESIZE_FILTERS)."""

    margin: int = FULL
    resize: str = NEAREST

    @property
    def tag(self) -> str:
        """What the model's fingerprint adds: "" for the recipe's decoding (fingerprints as they were)."""
        if self == Decoding():
            return ""
        scale = "full" if self.margin == FULL else f"reduced-{self.margin}x"
        if self.resize == NEAREST:
            return f"decode-{scale}-v1"
        return f"decode-{scale}-{self.resize}-v2"  # v2: the filter only shrinks, enlarging is nearest (load_rgb)


# model name (+ " int8" for its int8 model, when that differs) → its Decoding. Measured with `bench --decoding`
# (docs/performance.md, "Big photos": 1,000 sample photos and their 1500×2000 JPEG q95 copies; top-10 lists of
# reduced decoding against full decoding with the same resize, beside a q90 re-save's; precision@5 by articleType).
# The rule of issue 22 (lists moved no more than a re-save moves them) is met by no reduced decoding of any model:
# decoding at 1/2–1/8 (DCT scaling) differs from decoding in full and averaging by ~0.1 grey level, which moves
# some lists where a re-save of a big photo, averaged over many pixels, moves the input by ~0.01.
POLICY: dict[str, Decoding] = {
    "resnet50": Decoding(),  # the seed recipe's decoding, kept bit for bit (tests/test_recipe.py)
    # The weight-free descriptors' input is 64×80. colour-texture resizes it bilinear (antialiased): precision@5 on
    # the 2,000-photo sample 0.633 against 0.603 with the recipe's nearest neighbour (duplicate threshold: 0.24,
    # duplicates.py). A 1500×2000 photo decodes at 1/8: it keeps 0.945 of the lists of full decoding + bilinear (a
    # re-save 0.989; nearest at 1/8 kept 0.846 of nearest's) and precision@5 (0.559 against 0.558 in full).
    "colour-texture": Decoding(2, "bilinear"),
    # shape-colour blurs its input itself: bilinear scored the same on the sample (0.711 either way), so it keeps
    # nearest and its vectors. At 1/8 it keeps 0.914 of the lists (re-save 0.988; bilinear would keep 0.969).
    "shape-colour": Decoding(2),
    # EfficientNet-Lite0's input is the sample's own size (224×224): no filter changes its vectors there. int8: a
    # 1500×2000 photo decoded at 1/4 and resized bilinear keeps 0.938 of the lists of full decoding + bilinear
    # (nearest at 1/4: 0.813 of nearest's; a re-save 0.961) and its precision@5 (0.684 against 0.683); on
    # 1500×1500 copies (the originals' aspect) 0.695 against 0.696 at 224×224.
    "efficientnet-lite0 int8": Decoding(1, "bilinear"),
    # fp32 keeps the full decode with nearest (the reference, ~7 ms of CPU for 1500×2000): at 1/2 + bilinear it
    # kept 0.975 of the lists (re-save 0.977) but cost as much CPU; precision@5 within 0.01 of 224×224 either way.
    "efficientnet-lite0": Decoding(),
}
DEFAULT_POLICY = Decoding()  # a model not measured keeps the recipe's decoding

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


def policy_of(model: str, precision: str = "fp32") -> Decoding:
    """How this model (at this precision) decodes its photos."""
    return POLICY.get(f"{model} {precision}", POLICY.get(model, DEFAULT_POLICY))


def decoding_tag(model: str, precision: str = "fp32") -> str:
    """What a model's fingerprint adds for its decoding: "" for the recipe's (fingerprints as before)."""
    return policy_of(model, precision).tag


@dataclass(frozen=True)
class Decoder:
    """How one model's pixels are made from a file: `decoder(path, crop=None)` → (height, width, 3) uint8.
    Plain data, so it pickles to Ray workers and processes (the budget is each process's own)."""

    size: tuple[int, int]  # width, height
    margin: int = FULL  # FULL, or decode reduced to at least margin × size
    resize: str = NEAREST  # the filter from the decoded size to `size` (images.RESIZE_FILTERS)

    def __call__(self, path: str | os.PathLike, crop: Crop | None = None) -> np.ndarray:
        reduce_to = None if self.margin == FULL else (self.margin * self.size[0], self.margin * self.size[1])
        return load_rgb(path, self.size, RESIZE_FILTERS[self.resize], crop=crop, reduce_to=reduce_to, budget=BUDGET)


def decoder_for(embedder: Embedder) -> Decoder:
    """The decoder of this embedder's model (its input size, its policy)."""
    width, height = embedder.input_size
    decoding = policy_of(embedder.name, embedder.precision)
    return Decoder((width, height), decoding.margin, decoding.resize)


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
