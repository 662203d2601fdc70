"""`fashionrec-cli bench --decoding`: may a model decode photos reduced? The measurement behind decoding.POLICY.

For each model, the same photos at their own size and enlarged to shop size (photo_sizes.py) are embedded
decoded at full size (the reference), decoded reduced (JPEG DCT scaling to the smallest scale still at least
`margin` × the model's input, for each margin asked; images.load_rgb), and, as the yardstick, decoded at full
size after a JPEG q90 re-save (a change nobody would call a different photo; re-saved queries search the
reference vectors, as in `bench --fidelity`). The rule (issue 22): a reduced decoding is fit for a model when,
at every photo size, it keeps at least as much of each photo's top-10 neighbours as re-saving does and loses
at most 0.01 precision@5 by label.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.decoding import Decoder
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
from .photo_sizes import SHOP_SIZE, describe_photos, describe_size, enlarged_copies
from .report import model_label


@dataclass(frozen=True)
class DecodingFidelity:
    model: str  # with its precision and "(random weights)" when so
    photos: str  # which photos, e.g. "224×224 originals" or "1500×2000 copies"
    margin: int  # the reduced decoding's: at least margin × the model's input
    images: int
    reduced: Agreement  # reduced decoding against full decoding
    resaved: Agreement  # full decoding of the photos re-saved as JPEG q90, against full decoding
    precision_full: float | None = None  # precision@5 by label; None without labels
    precision_reduced: float | None = None
    precision_resaved: float | None = None

    @property
    def goal_met(self) -> bool:
        precision_kept = (self.precision_full is None or self.precision_reduced is None
                          or self.precision_reduced >= self.precision_full - GOAL_PRECISION_LOSS)
        return self.reduced.top_overlap >= self.resaved.top_overlap and precision_kept


def _pixels(decode: Decoder, paths: list[Path]) -> np.ndarray:
    return np.stack([decode(path) for path in paths])


def measure_decoding(embedder, paths: list[Path], labels: dict[str, str] | None, photos: str,
                     margins: tuple[int, ...] = (1, 2), say: Callable[[str], None] = lambda _: None,
                     ) -> list[DecodingFidelity]:
    """Reduced (at each margin) against full decoding for `embedder` on these photos (all readable); `labels`
    maps file names to labels."""
    size = tuple(embedder.input_size)
    started = time.perf_counter()
    full = embed_all(embedder, _pixels(Decoder(size), paths))
    with tempfile.TemporaryDirectory(prefix="fashionrec-jpeg90-") as folder:
        resaved = embed_all(embedder, _pixels(Decoder(size), [resaved_as_jpeg(p, Path(folder)) for p in paths]))
    known = [i for i, p in enumerate(paths) if labels and p.name in labels]
    names = [labels[paths[i].name] for i in known] if labels else []

    def precision(vectors: np.ndarray) -> float | None:
        return precision_by_label(vectors[known], names) if len(known) > 1 else None

    results = []
    for margin in margins:
        reduced = embed_all(embedder, _pixels(Decoder(size, margin), paths))
        results.append(DecodingFidelity(model_label(embedder), photos, margin, len(paths),
                                        agreement(reduced, reduced, full), agreement(resaved, full, full),
                                        precision(full), precision(reduced), precision(resaved)))
    say(f"{embedder.name}, {photos}: {len(paths)} photos decoded {2 + len(margins)} ways in "
        f"{time.perf_counter() - started:.0f} s")
    return results


def format_decoding(results: list[DecodingFidelity]) -> str:
    lines = [f"{'model':24}{'photos':18}{'margin':>7}{'top-10 kept':>12}{'(re-save)':>10}"
             f"{'p@' + str(PRECISION_K) + ' full':>10}{'reduced':>9}{'(re-save)':>10}  fit"]
    for r in results:
        precision = ("  (no labels)" if r.precision_full is None else
                     f"{r.precision_full:>10.3f}{r.precision_reduced:>9.3f}{r.precision_resaved:>10.3f}")
        lines.append(f"{r.model:24}{r.photos:18}{r.margin:>6}×{r.reduced.top_overlap:>12.3f}"
                     f"{r.resaved.top_overlap:>10.3f}{precision:<29}  {'yes' if r.goal_met else 'NO'}")
    lines.append(f"top-10 kept: reduced decoding (decoded at least margin × the model's input) against full decoding; "
                 f"(re-save): full decoding of the photos re-saved as JPEG q{JPEG_QUALITY}. p@{PRECISION_K}: "
                 f"precision@{PRECISION_K} by label with full decoding, reduced, re-saved. Fit: reduced keeps at least "
                 f"as much as re-saving and loses at most {GOAL_PRECISION_LOSS} precision@{PRECISION_K}.")
    return "\n".join(lines)


def run_decoding_bench(embedders: list, folder: Path, limit: int | None = None,
                       photo_size: tuple[int, int] = SHOP_SIZE, margins: tuple[int, ...] = (1, 2),
                       say: Callable[[str], None] = print) -> list[DecodingFidelity]:
    """`bench --decoding`: every embedder on `limit` photos of `folder` (an even sample) at their own size and
    enlarged to `photo_size`; prints the table and returns its rows."""
    paths = image_files(folder, limit)
    if len(paths) < TOP + 1:
        raise UserError(f"The decoding bench needs at least {TOP + 1} photos, found {len(paths)} in {folder}.")
    labels = labels_by_filename(folder)
    results = []
    with tempfile.TemporaryDirectory(prefix="fashionrec-big-photos-") as tmp:
        say(f"making {len(paths)} {describe_size(photo_size)} copies …")
        big = enlarged_copies(paths, Path(tmp), photo_size)
        for embedder in embedders:
            embedder.load()
            say(f"{model_label(embedder)}: {embedder.describe()}")
            results += measure_decoding(embedder, paths, labels, describe_photos(paths), margins, say)
            results += measure_decoding(embedder, big, labels, f"{describe_size(photo_size)} copies", margins, say)
    say(format_decoding(results))
    return results
