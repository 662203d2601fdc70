"""`fashionrec-cli bench --fidelity`: how far int8 vectors are from fp32 ones, on a person's weights and photos.

Three sets of vectors of the same photos: fp32, int8, and fp32 of the photos re-saved as JPEG quality 90 (the
yardstick: a change nobody would call a different photo); for a network whose int8 is calibrated on a generated
set (EfficientNet-Lite0), a fourth: int8 calibrated on the photos themselves, to show whether that matters.
For int8 and for the re-saved photos against fp32: the mean cosine per image, and how much of each photo's
top-10 neighbour list stays the same (int8 queries search int8 vectors; re-saved queries search the original
fp32 vectors). With labels
(a labels.csv beside the photos), precision@5 by label of each. int8 passes when it keeps more of the
neighbour lists than re-saving does, keeps at least 90 % of them, and loses at most 0.01 precision@5.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.embedders import Embedder
from ..core.errors import UserError
from ..core.images import load_readable

TOP = 10
PRECISION_K = 5
JPEG_QUALITY = 90
GOAL_OVERLAP = 0.9
GOAL_PRECISION_LOSS = 0.01


@dataclass(frozen=True)
class Agreement:
    """Vectors of some variant against the fp32 ones, image by image."""

    mean_cosine: float
    min_cosine: float
    top_overlap: float  # mean share of each image's top-10 neighbours that stays the same


@dataclass(frozen=True)
class Fidelity:
    images: int
    int8: Agreement
    jpeg: Agreement
    labelled: int = 0
    precision_fp32: float | None = None  # precision@5 by label; None without labels
    precision_int8: float | None = None
    precision_jpeg: float | None = None
    other_int8: tuple[str, Agreement, float | None] | None = None  # (what, agreement, precision@5)

    @property
    def goal_met(self) -> bool:
        precision_kept = (self.precision_fp32 is None or self.precision_int8 is None
                          or self.precision_int8 >= self.precision_fp32 - GOAL_PRECISION_LOSS)
        return (self.int8.top_overlap >= GOAL_OVERLAP and self.int8.top_overlap > self.jpeg.top_overlap
                and precision_kept)


def top_neighbours(queries: np.ndarray, catalog: np.ndarray, k: int = TOP) -> np.ndarray:
    """(n, k) indices of each query's k most similar catalog rows, best first; query i is catalog row i
    (a photo and its variant) and is left out of its own list."""
    similarity = np.asarray(queries, np.float32) @ np.asarray(catalog, np.float32).T
    np.fill_diagonal(similarity, -np.inf)
    k = min(k, len(catalog) - 1)
    top = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(similarity, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)


def overlap(lists: np.ndarray, reference: np.ndarray) -> float:
    """Mean share of each reference list found in the other list (order within the top ignored)."""
    shared = [len(np.intersect1d(a, b)) / reference.shape[1] for a, b in zip(lists, reference, strict=True)]
    return float(np.mean(shared))


def agreement(variant: np.ndarray, variant_catalog: np.ndarray, fp32: np.ndarray) -> Agreement:
    cosines = np.sum(variant * fp32, axis=1)  # rows are L2-normalised
    return Agreement(float(cosines.mean()), float(cosines.min()),
                     overlap(top_neighbours(variant, variant_catalog), top_neighbours(fp32, fp32)))


def precision_by_label(vectors: np.ndarray, labels: list[str], k: int = PRECISION_K) -> float:
    """Mean precision@k over the photos whose label another photo shares (leave-one-out)."""
    codes = np.unique(np.array(labels, dtype=object), return_inverse=True)[1]
    neighbours = top_neighbours(vectors, vectors, k)
    scored = np.bincount(codes)[codes] > 1
    hits = codes[neighbours] == codes[:, None]
    return float(hits[scored].mean()) if scored.any() else 0.0


def resaved_as_jpeg(path: Path, folder: Path, quality: int = JPEG_QUALITY) -> Path:
    from PIL import Image

    with Image.open(path) as image:
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, "JPEG", quality=quality)
    target = folder / f"{abs(hash(str(path)))}.jpg"
    target.write_bytes(buffer.getvalue())
    return target


def embed_all(embedder: Embedder, pixels: np.ndarray, batch: int = 32) -> np.ndarray:
    return np.concatenate([embedder.embed(pixels[i : i + batch]) for i in range(0, len(pixels), batch)])


def decode(paths: list[Path]) -> tuple[list[Path], np.ndarray]:
    """The readable photos and their pixels."""
    kept, pixels = load_readable(paths, (224, 224))
    if len(kept) < TOP + 1:
        raise UserError(f"Fidelity needs at least {TOP + 1} readable photos, found {len(kept)}.")
    return kept, np.stack(pixels)


def measure_fidelity(paths: list[Path], fp32: Embedder, int8: Embedder, labels: dict[str, str] | None = None,
                     say: Callable[[str], None] = lambda _: None,
                     other_int8: tuple[str, Embedder] | None = None) -> Fidelity:
    """Fidelity of `int8` (and of `other_int8`, (what, embedder)) against `fp32` on these photos; `labels` maps
    file names to labels."""
    paths, pixels = decode(paths)
    started = time.perf_counter()
    vectors_fp32 = embed_all(fp32, pixels)
    say(f"fp32: {len(paths)} photos in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    vectors_int8 = embed_all(int8, pixels)
    say(f"int8: {len(paths)} photos in {time.perf_counter() - started:.1f} s")
    with tempfile.TemporaryDirectory(prefix="fashionrec-jpeg90-") as folder:
        resaved = [resaved_as_jpeg(p, Path(folder)) for p in paths]
        vectors_jpeg = embed_all(fp32, decode(resaved)[1])
    vectors_other = embed_all(other_int8[1], pixels) if other_int8 else None
    known = [i for i, p in enumerate(paths) if labels and p.name in labels]
    names = [labels[paths[i].name] for i in known] if labels else []

    def precision(vectors: np.ndarray) -> float | None:
        return precision_by_label(vectors[known], names) if len(known) >= 2 else None

    other = None
    if other_int8 and vectors_other is not None:
        other = (other_int8[0], agreement(vectors_other, vectors_other, vectors_fp32), precision(vectors_other))
    return Fidelity(len(paths), agreement(vectors_int8, vectors_int8, vectors_fp32),
                    agreement(vectors_jpeg, vectors_fp32, vectors_fp32), len(known) if len(known) >= 2 else 0,
                    precision(vectors_fp32), precision(vectors_int8), precision(vectors_jpeg), other)


def format_fidelity(result: Fidelity, subject: str) -> str:
    lines = [f"int8 fidelity on {result.images} photos ({subject})",
             f"{'':44}{'mean cosine':>12}{'min cosine':>12}{'top-10 kept':>13}"]
    rows = [("int8 vs fp32", result.int8), (f"fp32, photos re-saved as JPEG q{JPEG_QUALITY}", result.jpeg)]
    if result.other_int8:
        rows.append((result.other_int8[0], result.other_int8[1]))
    for name, agreed in rows:
        lines.append(f"{name:44}{agreed.mean_cosine:>12.5f}{agreed.min_cosine:>12.5f}{agreed.top_overlap:>13.3f}")
    if result.precision_fp32 is not None:
        lines.append(f"precision@{PRECISION_K} by label ({result.labelled} labelled photos): "
                     f"fp32 {result.precision_fp32:.3f} · int8 {result.precision_int8:.3f} · "
                     f"fp32 on re-saved JPEG {result.precision_jpeg:.3f}"
                     + (f" · {result.other_int8[0]} {result.other_int8[2]:.3f}"
                        if result.other_int8 and result.other_int8[2] is not None else ""))
        kept = result.precision_int8 is not None and \
            result.precision_int8 >= result.precision_fp32 - GOAL_PRECISION_LOSS
        lines.append(f"precision@{PRECISION_K} within {GOAL_PRECISION_LOSS} of fp32 (what makes int8 a model's "
                     f"default, docs/models.md \"int8\"): {'yes' if kept else 'no'}")
    else:
        lines.append("precision@5: no labels.csv beside the photos")
    verdict = "met" if result.goal_met else "NOT met"
    lines.append(f"goal (top-10 kept ≥ {GOAL_OVERLAP} and more than re-saving keeps; precision@{PRECISION_K} "
                 f"within {GOAL_PRECISION_LOSS} of fp32): {verdict}")
    return "\n".join(lines)


def image_files(folder: Path, limit: int | None = None) -> list[Path]:
    from ..core.catalog import catalog_root, scan

    root = catalog_root(folder)
    files = [root / f.relpath for f in scan(root) if not f.problem]
    if limit:
        from ..core.embedders.int8 import sample_evenly

        files = sample_evenly(files, limit)
    return files


def labels_by_filename(folder: Path) -> dict[str, str] | None:
    """articleType (the default label field) by file name, from labels.csv in or beside the folder."""
    from ..core.catalog import catalog_root, scan
    from ..core.labels import DEFAULT_FIELD, find_labels_file, read_label_table

    found = find_labels_file(folder)
    if found is None:
        return None
    relpaths = [f.relpath for f in scan(catalog_root(folder))]
    column = read_label_table(found, relpaths).column(DEFAULT_FIELD, relpaths)
    return {os.path.basename(relpath): label for relpath, label in column.labels.items()}


def run_fidelity(folder: Path, model: str, weights=None, limit: int | None = None,
                 say: Callable[[str], None] = print) -> Fidelity:
    """`bench --fidelity`: the photos in `folder` (an even sample of `limit` of them), `model`'s fp32 embedder
    against its int8 one. ResNet50's int8 calibrates on an even sample of the same photos, as `index` does on its
    catalog; EfficientNet-Lite0's on its generated set, and an int8 calibrated on the photos is measured beside."""
    from ..core.embedders import create_embedder
    from ..core.embedders.int8 import Calibration, Int8Embedder, Int8ResNet50Embedder, sample_evenly

    paths = image_files(folder, limit)
    on_photos = Calibration.from_files(sample_evenly(paths), f"{len(sample_evenly(paths))} of these photos")
    fp32: Embedder = create_embedder(model, weights, precision="fp32")
    other: tuple[str, Embedder] | None = None
    if model == "resnet50":
        int8: Embedder = Int8ResNet50Embedder(weights, on_photos)
    else:
        int8 = create_embedder(model, precision="int8")
        network = int8.network  # type: ignore[attr-defined]  # an Int8Embedder
        other = (f"int8 calibrated on {on_photos.source}", Int8Embedder(network, on_photos))
    result = measure_fidelity(paths, fp32, int8, labels_by_filename(folder), say, other)
    say(format_fidelity(result, f"{fp32.describe()}; int8 {int8.describe()}; photos from {folder}"))
    return result
