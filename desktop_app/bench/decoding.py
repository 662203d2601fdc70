"""`fashionrec-cli bench --decoding`: may a model decode photos reduced? The measurement behind decoding.POLICY.

For each model, the same photos at their own size and enlarged to shop size (photo_sizes.py) are embedded
three ways: decoded at full size (the reference), decoded reduced (JPEG DCT scaling to the smallest scale still
at least the model's input; images.load_rgb), and, as the yardstick, decoded at full size after a JPEG q90
re-save (a change nobody would call a different photo; re-saved queries search the reference vectors, as in
`bench --fidelity`). Reduced decoding is fit for a model when, at every photo size, it keeps at least as much
of each photo's top-10 neighbours as re-saving does and loses at most 0.01 precision@5 by label.
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
from .photo_sizes import SHOP_SIZE, describe_size, enlarged_copies


@dataclass(frozen=True)
class DecodingFidelity:
    model: str
    photos: str  # which photos, e.g. "224×224 originals" or "1500×2000 copies"
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
                     say: Callable[[str], None] = lambda _: None) -> DecodingFidelity:
    """Reduced against full decoding for `embedder` on these photos (all readable); `labels` by file name."""
    size = tuple(embedder.input_size)
    started = time.perf_counter()
    full = embed_all(embedder, _pixels(Decoder(size), paths))
    reduced = embed_all(embedder, _pixels(Decoder(size, reduced=True), paths))
    with tempfile.TemporaryDirectory(prefix="fashionrec-jpeg90-") as folder:
        resaved = embed_all(embedder, _pixels(Decoder(size), [resaved_as_jpeg(p, Path(folder)) for p in paths]))
    say(f"{embedder.name}, {photos}: {len(paths)} photos decoded three ways in {time.perf_counter() - started:.0f} s")
    result = DecodingFidelity(embedder.name, photos, len(paths), agreement(reduced, reduced, full),
                              agreement(resaved, full, full))
    known = [i for i, p in enumerate(paths) if labels and p.name in labels]
    if len(known) < 2:
        return result
    names = [labels[paths[i].name] for i in known]  # type: ignore[index]  # known is empty without labels
    return DecodingFidelity(result.model, photos, result.images, result.reduced, result.resaved,
                            precision_by_label(full[known], names), precision_by_label(reduced[known], names),
                            precision_by_label(resaved[known], names))


def format_decoding(results: list[DecodingFidelity]) -> str:
    lines = [f"{'model':16}{'photos':22}{'top-10 kept':>12}{'(re-save)':>10}{'precision@' + str(PRECISION_K):>14}"
             f"{'reduced':>9}{'(re-save)':>10}  fit"]
    for r in results:
        precision = ("" if r.precision_full is None else
                     f"{r.precision_full:>14.3f}{r.precision_reduced:>9.3f}{r.precision_resaved:>10.3f}")
        lines.append(f"{r.model:16}{r.photos:22}{r.reduced.top_overlap:>12.3f}{r.resaved.top_overlap:>10.3f}"
                     f"{precision or '  (no labels)':<33}  {'yes' if r.goal_met else 'NO'}")
    lines.append(f"top-10 kept: reduced decoding against full decoding (re-save: full decoding of the photos re-saved "
                 f"as JPEG q{JPEG_QUALITY}); precision@{PRECISION_K} by label: full decoding, reduced, re-saved. "
                 f"Fit: reduced keeps at least as much as re-saving and loses at most {GOAL_PRECISION_LOSS} "
                 f"precision@{PRECISION_K}.")
    return "\n".join(lines)


def run_decoding_bench(embedders: list, folder: Path, limit: int | None = None,
                       photo_size: tuple[int, int] = SHOP_SIZE, say: Callable[[str], None] = print,
                       ) -> list[DecodingFidelity]:
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
            results.append(measure_decoding(embedder, paths, labels, "originals", say))
            results.append(measure_decoding(embedder, big, labels, f"{describe_size(photo_size)} copies", say))
    say(format_decoding(results))
    return results
