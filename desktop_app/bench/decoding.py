"""`fashionrec-cli bench --decoding`: may a model decode photos reduced, and resize them with which filter? The
measurement behind decoding.POLICY.

For each model and each resize filter asked (nearest neighbour, the recipe's; antialiased ones), the same photos
at their own size and enlarged to shop size (photo_sizes.py) are embedded decoded at full size (the reference),
decoded reduced (JPEG DCT scaling to the smallest scale still at least `margin` × the model's input, for each
margin asked; images.load_rgb), and, as the yardstick, decoded at full size after a JPEG q90 re-save (a change
nobody would call a different photo; re-saved queries search the reference vectors, as in `bench --fidelity`),
all resized with that filter. The rule (issue 22): a reduced decoding is fit for a model when, at every photo
size, it keeps at least as much of each photo's top-10 neighbours as re-saving does and loses at most 0.01
precision@5 by label. Beside the lists: how far each variant moves the model's input pixels (mean |Δ|, grey
levels), which shows when a re-save hardly changes a photo (a q90 copy re-saved at q90: photo_sizes.py).
"""

from __future__ import annotations

import functools
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.decoding import FULL, NEAREST, Decoder
from ..core.errors import UserError
from .fidelity import (
    GOAL_PRECISION_LOSS,
    JPEG_QUALITY,
    PRECISION_K,
    TOP,
    Agreement,
    agreement,
    embed_all,
    image_files,
    labels_by_filename,
    precision_by_label,
    resaved_as_jpeg,
)
from .photo_sizes import RESAVE_SAFE_QUALITY, SHOP_SIZE, describe_photos, describe_size, enlarged_copies
from .report import model_label

NO_RESIZE = "none"  # the photos already have the model's input size: no filter changes a pixel


@dataclass(frozen=True)
class DecodingFidelity:
    model: str  # with its precision and "(random weights)" when so
    photos: str  # which photos, e.g. "224×224" or "1500×2000 q95 copies"
    resize: str  # the filter from the decoded size to the input (images.RESIZE_FILTERS), or NO_RESIZE
    margin: int  # the reduced decoding's: at least margin × the model's input
    images: int
    reduced: Agreement  # reduced decoding against full decoding
    resaved: Agreement  # full decoding of the photos re-saved as JPEG q90, against full decoding
    precision_full: float | None = None  # precision@5 by label; None without labels
    precision_reduced: float | None = None
    precision_resaved: float | None = None
    input_change_reduced: float = 0.0  # mean |Δ| of the model's input pixels against full decoding, grey levels
    input_change_resaved: float = 0.0

    @property
    def goal_met(self) -> bool:
        precision_kept = (self.precision_full is None or self.precision_reduced is None
                          or self.precision_reduced >= self.precision_full - GOAL_PRECISION_LOSS)
        return self.reduced.top_overlap >= self.resaved.top_overlap and precision_kept


def _pixels(decode: Decoder, paths: list[Path]) -> np.ndarray:
    return np.stack([decode(path) for path in paths])


def _change(pixels: np.ndarray, reference: np.ndarray) -> float:
    return float(np.abs(pixels.astype(np.int16) - reference).mean())


def _needs_resize(paths: list[Path], size: tuple[int, int]) -> bool:
    """False when every photo already has the model's input size."""
    from PIL import Image

    for path in paths:
        with Image.open(path) as img:
            if img.size != size:
                return True
    return False


def measure_decoding(embedder, paths: list[Path], labels: dict[str, str] | None, photos: str,
                     margins: tuple[int, ...] = (1, 2), resizes: tuple[str, ...] = (NEAREST,),
                     say: Callable[[str], None] = lambda _: None) -> list[DecodingFidelity]:
    """Reduced (at each margin) against full decoding for `embedder` on these photos (all readable), with each
    resize filter; `labels` maps file names to labels."""
    size = tuple(embedder.input_size)
    if not _needs_resize(paths, size):
        resizes = (NO_RESIZE,)
    known = [i for i, p in enumerate(paths) if labels and p.name in labels]
    names = [labels[paths[i].name] for i in known] if labels else []

    def precision(vectors: np.ndarray) -> float | None:
        return precision_by_label(vectors[known], names) if len(known) > 1 else None

    started = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory(prefix="fashionrec-jpeg90-") as folder:
        resaved_paths = [resaved_as_jpeg(p, Path(folder)) for p in paths]
        for resize in resizes:
            decoder = functools.partial(Decoder, size, resize=NEAREST if resize == NO_RESIZE else resize)
            full_pixels, resaved_pixels = _pixels(decoder(FULL), paths), _pixels(decoder(FULL), resaved_paths)
            full, resaved = embed_all(embedder, full_pixels), embed_all(embedder, resaved_pixels)
            for margin in margins:
                reduced_pixels = _pixels(decoder(margin), paths)
                reduced = embed_all(embedder, reduced_pixels)
                results.append(DecodingFidelity(
                    model_label(embedder), photos, resize, margin, len(paths), agreement(reduced, reduced, full),
                    agreement(resaved, full, full), precision(full), precision(reduced), precision(resaved),
                    _change(reduced_pixels, full_pixels), _change(resaved_pixels, full_pixels)))
    say(f"{embedder.name}, {photos}: {len(paths)} photos decoded {2 + len(margins)} ways with each of "
        f"{len(resizes)} resize filter(s) in {time.perf_counter() - started:.0f} s")
    return results


def format_decoding(results: list[DecodingFidelity]) -> str:
    lines = [f"{'model':24}{'photos':22}{'resize':>9}{'margin':>7}{'top-10 kept':>12}{'(re-save)':>10}"
             f"{'p@' + str(PRECISION_K) + ' full':>10}{'reduced':>9}{'(re-save)':>10}{'Δ input':>9}{'(re-save)':>10}"
             "  fit"]
    for r in results:
        precision = ("  (no labels)" if r.precision_full is None else
                     f"{r.precision_full:>10.3f}{r.precision_reduced:>9.3f}{r.precision_resaved:>10.3f}")
        lines.append(f"{r.model:24}{r.photos:22}{r.resize:>9}{r.margin:>6}×{r.reduced.top_overlap:>12.3f}"
                     f"{r.resaved.top_overlap:>10.3f}{precision:<29}{r.input_change_reduced:>9.3f}"
                     f"{r.input_change_resaved:>10.3f}  {'yes' if r.goal_met else 'NO'}")
    lines.append(f"top-10 kept: reduced decoding (decoded at least margin × the model's input) against full decoding, "
                 f"both resized with the same filter; (re-save): full decoding of the photos re-saved as JPEG "
                 f"q{JPEG_QUALITY}. p@{PRECISION_K}: precision@{PRECISION_K} by label with full decoding, reduced, "
                 f"re-saved. Δ input: mean |change| of the model's input pixels against full decoding, in grey "
                 f"levels. Fit: reduced keeps at least as much as re-saving and loses at most {GOAL_PRECISION_LOSS} "
                 f"precision@{PRECISION_K}.")
    return "\n".join(lines)


def run_decoding_bench(embedders: list, folder: Path, limit: int | None = None,
                       photo_size: tuple[int, int] = SHOP_SIZE, margins: tuple[int, ...] = (1, 2),
                       resizes: tuple[str, ...] = (NEAREST,), quality: int = RESAVE_SAFE_QUALITY,
                       say: Callable[[str], None] = print) -> list[DecodingFidelity]:
    """`bench --decoding`: every embedder on `limit` photos of `folder` (an even sample) at their own size and
    enlarged to `photo_size` (saved as JPEG `quality`), with each resize filter; prints the table and returns
    its rows."""
    paths = image_files(folder, limit)
    if len(paths) < TOP + 1:
        raise UserError(f"The decoding bench needs at least {TOP + 1} photos, found {len(paths)} in {folder}.")
    labels = labels_by_filename(folder)
    results = []
    with tempfile.TemporaryDirectory(prefix="fashionrec-big-photos-") as tmp:
        say(f"making {len(paths)} {describe_size(photo_size)} copies (JPEG q{quality}) …")
        big = enlarged_copies(paths, Path(tmp), photo_size, quality=quality)
        for embedder in embedders:
            embedder.load()
            say(f"{model_label(embedder)}: {embedder.describe()}")
            results += measure_decoding(embedder, paths, labels, describe_photos(paths), margins, resizes, say)
            results += measure_decoding(embedder, big, labels, f"{describe_size(photo_size)} q{quality} copies",
                                        margins, resizes, say)
    say(format_decoding(results))
    return results
