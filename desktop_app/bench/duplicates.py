"""`fashionrec-cli bench --duplicates`: how well each duplicate threshold finds planted copies.

Copies of some catalog photos are planted beside (links to) the whole catalog: re-encoded as JPEG at quality
40, 65 and 90, resized (75 % and 200 %), and slightly cropped (4 % off every side; 8 % off one side). The
catalog is indexed, the groups found at each threshold are compared with the truth (a photo and its copies are
one product; every other photo its own):
- precision: of the pairs of items put in one group, the share that are copies of one product;
- recall: of the pairs of copies of one product, the share put in one group;
- per kind of copy: the share grouped with their original.
Catalog photos with identical pixels (fashion-2k lists 8 photos twice under two ids) are one product too:
grouping them is right. Groups made only of original photos are counted so they can be looked at.
"""

from __future__ import annotations

import random
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..core.catalog import scan
from ..core.duplicates import close_pairs, default_threshold, group_pairs
from ..core.errors import UserError
from ..core.images import open_rgb
from ..core.session import CatalogSession
from .inputs import DEFAULT_IMAGES, link_or_copy

PLANTED_FOLDER = "planted"
DEFAULT_SOURCES = 100
MIN_PRECISION = 0.99  # the default threshold: the largest that keeps different products apart this well
THRESHOLDS = (0.02, 0.04, 0.06, 0.08, 0.10, 0.15, 0.20, 0.22, 0.24, 0.26, 0.28, 0.30, 0.32, 0.34, 0.36, 0.40, 0.50)


def _jpeg(quality: int):
    return lambda img: (img, {"quality": quality})


def _resized(scale: float):
    return lambda img: (img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                                   Image.Resampling.BICUBIC), {"quality": 90})


def _cropped(left: float, top: float, right: float, bottom: float):
    def crop(img):
        w, h = img.size
        return img.crop((round(w * left), round(h * top), round(w * (1 - right)), round(h * (1 - bottom)))), \
            {"quality": 90}
    return crop


COPIES = {  # kind → (image → (copy, JPEG options))
    "jpeg-q40": _jpeg(40), "jpeg-q65": _jpeg(65), "jpeg-q90": _jpeg(90),
    "resized-75%": _resized(0.75), "resized-200%": _resized(2.0),
    "cropped-4%-all-sides": _cropped(0.04, 0.04, 0.04, 0.04), "cropped-8%-one-side": _cropped(0, 0, 0.08, 0),
}


def plant_copies(images: Path, folder: Path, sources: int, seed: int = 0,
                 originals: int | None = None) -> dict[str, tuple[str, str]]:
    """Link the photos of `images` (the first `originals` of them; default all) into `folder` and write copies
    of `sources` of them (seeded choice) into folder/planted; returns copy relpath → (original relpath, kind)."""
    files = [f.relpath for f in scan(images) if not f.problem][:originals]
    if len(files) < 2:
        raise UserError(f"{images} has too few readable images to plant copies among.")
    for relpath in files:
        (folder / relpath).parent.mkdir(parents=True, exist_ok=True)
        link_or_copy(images / relpath, folder / relpath)
    planted = {}
    (folder / PLANTED_FOLDER).mkdir()
    for number, original in enumerate(random.Random(seed).sample(files, min(sources, len(files)))):
        img = open_rgb(images / original)
        for kind, make in COPIES.items():
            copy, options = make(img)
            relpath = f"{PLANTED_FOLDER}/{number:04d}-{kind}.jpg"
            copy.save(folder / relpath, format="JPEG", **options)
            planted[relpath] = (original, kind)
    return planted


@dataclass(frozen=True)
class Score:
    threshold: float
    precision: float
    recall: float
    groups: int
    original_only_groups: int  # groups without any planted copy: the catalog's own look-alikes
    found_by_kind: dict[str, float]

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def products(folder: Path, relpaths: list[str], planted: dict[str, tuple[str, str]]) -> dict[str, str]:
    """relpath → its product: the first original photo with the same pixels (for a copy: its original's)."""
    first_with_pixels: dict[bytes, str] = {}
    product = {}
    for relpath in relpaths:
        if relpath not in planted:
            pixels = open_rgb(folder / relpath).tobytes()
            product[relpath] = first_with_pixels.setdefault(pixels, relpath)
    return {r: product[planted[r][0]] if r in planted else product[r] for r in relpaths}


def score_groups(relpaths: list[str], product: dict[str, str], planted: dict[str, tuple[str, str]],
                 groups: list[list[int]], threshold: float) -> Score:
    true_sizes: dict[str, int] = {}
    for r in relpaths:
        true_sizes[product[r]] = true_sizes.get(product[r], 0) + 1
    true_pairs = sum(s * (s - 1) // 2 for s in true_sizes.values())
    predicted = correct = original_only = 0
    group_of = {}
    for number, members in enumerate(groups):
        names = [relpaths[i] for i in members]
        predicted += len(names) * (len(names) - 1) // 2
        counts: dict[str, int] = {}
        for name in names:
            counts[product[name]] = counts.get(product[name], 0) + 1
            group_of[name] = number
        correct += sum(c * (c - 1) // 2 for c in counts.values())
        original_only += not any(name in planted for name in names)
    found: dict[str, list[bool]] = {kind: [] for kind in COPIES}
    for relpath, (original, kind) in planted.items():
        found[kind].append(relpath in group_of and group_of.get(original) == group_of[relpath])
    return Score(threshold, correct / predicted if predicted else 1.0, correct / true_pairs if true_pairs else 1.0,
                 len(groups), original_only, {kind: float(np.mean(hits)) for kind, hits in found.items()})


def measure(embedder, images: Path, sources: int, seed: int, originals: int | None = None,
            thresholds=THRESHOLDS, log=None) -> tuple[list[Score], int]:
    """The scores at each threshold, and how many original photos took part."""
    with tempfile.TemporaryDirectory(prefix="fashionrec-duplicates-") as tmp:
        folder = Path(tmp) / "catalog"
        planted = plant_copies(images, folder, sources, seed, originals)
        count = len(scan(folder)) - len(planted)
        print(f"planted {len(planted)} copies of {len(planted) // len(COPIES)} photos among {count} photos of "
              f"{images}; indexing with {embedder.describe()} …", file=log or sys.stderr, flush=True)
        with CatalogSession(folder, embedder, data_dir=Path(tmp) / "data") as session:
            session.index()
            relpaths, vectors = session.store.load_vectors()
        product = products(folder, relpaths, planted)
    pairs = close_pairs(vectors, max(thresholds))
    assert pairs is not None  # only a cancelled search gives None, and this one has no cancel
    first, second, distance = pairs
    scores = []
    for threshold in thresholds:
        keep = distance <= threshold
        groups = [members for members, _ in group_pairs(len(relpaths), first[keep], second[keep], distance[keep])]
        scores.append(score_groups(relpaths, product, planted, groups, threshold))
    return scores, count


def format_scores(model: str, scores: list[Score]) -> str:
    try:
        current = default_threshold(model)
    except UserError:
        current = None
    kinds = list(COPIES)
    lines = [f"{'threshold':>9}  {'precision':>9}  {'recall':>6}  {'F1':>5}  {'groups':>6}  {'orig-only':>9}  "
             + "  ".join(f"{k:>{max(len(k), 5)}}" for k in kinds)]
    precise = [s for s in scores if s.precision >= MIN_PRECISION]
    suggested = max(precise, key=lambda s: s.threshold) if precise else None
    for s in scores:
        mark = (f" <- largest with precision >= {MIN_PRECISION}" if s is suggested else "") + \
            (" (default)" if current == s.threshold else "")
        lines.append(f"{s.threshold:>9.2f}  {s.precision:>9.3f}  {s.recall:>6.3f}  {s.f1:>5.3f}  {s.groups:>6}  "
                     f"{s.original_only_groups:>9}  "
                     + "  ".join(f"{s.found_by_kind[k]:>{max(len(k), 5)}.2f}" for k in kinds) + mark)
    return "\n".join(lines)


def run_duplicates_bench(embedders: list, images: Path | None = None, sources: int = DEFAULT_SOURCES,
                         seed: int = 0, originals: int | None = None, out=None) -> None:
    out = out or sys.stdout
    images = Path(images or DEFAULT_IMAGES)
    if not images.is_dir():
        raise UserError(f"Images folder not found: {images}; pass --images DIR.")
    for embedder in embedders:
        scores, count = measure(embedder, images.resolve(), sources, seed, originals)
        print(f"\nduplicates, {embedder.describe()}: {count} photos, {sources} of them × {len(COPIES)} planted "
              f"copies (seed {seed}); share of copies found per kind on the right", file=out)
        print(format_scores(embedder.name, scores), file=out, flush=True)
