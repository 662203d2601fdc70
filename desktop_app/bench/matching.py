"""`bench --match`: the two goals of `match` (issue 25), in one run.

1. Finding the original: a catalog of CATALOG_SIZE photos — the given photos, then augmented variants of them
   (mirrored, cropped 0–10 % per side, colour and brightness shifted; made here, written to a temporary folder)
   until there are CATALOG_SIZE — is indexed; QUERIES photos, each a re-encoded copy (JPEG quality 75, resized to
   90 %) of a catalog item drawn at random (seeded), are matched against it: the share whose top-1 is the item
   it was copied from. A variant's source photo is its closest rival, so this is harder than a catalog of
   unrelated photos.
2. Speed: SPEED_QUERIES query photos (re-encoded copies, as above) matched against a catalog of SPEED_CATALOG
   items (links to the photos, their store filled with random unit vectors: exact search reads every vector
   whatever their values), timed from the query folder to the last result, in CPU-seconds too.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

from ..core.catalog import scan
from ..core.matching import match_folder
from ..core.session import CatalogSession
from .inputs import DEFAULT_IMAGES, synthesise_indexed_catalog
from .machine import load_average
from .report import Bench

CATALOG_SIZE, QUERIES, TOP1_GOAL = 3000, 200, 0.99
SPEED_CATALOG, SPEED_QUERIES, SPEED_GOAL_S = 44_000, 1000, 60.0


def variant(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """An augmented variant of a catalog photo: maybe mirrored, cropped, colour and brightness shifted."""
    if rng.random() < 0.5:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    w, h = img.size
    left, top, right, bottom = rng.uniform(0, 0.1, 4)
    img = img.crop((round(left * w), round(top * h), w - round(right * w), h - round(bottom * h)))
    img = ImageEnhance.Color(img).enhance(rng.uniform(0.6, 1.4))
    return ImageEnhance.Brightness(img).enhance(rng.uniform(0.8, 1.2))


def reencoded_copy(source: Path, out: Path) -> None:
    """The goal's query photo: JPEG quality 75, resized to 90 %."""
    img = Image.open(source).convert("RGB")
    img.resize((round(img.width * 0.9), round(img.height * 0.9)), Image.Resampling.BICUBIC).save(out, quality=75)


def build_catalog(photos: list[Path], folder: Path, size: int, seed: int = 0) -> list[Path]:
    """`size` catalog photos: the photos themselves (links would do, but copies keep the folder self-contained),
    then variants of them in turn."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    made = []
    for i in range(size):
        source = photos[i % len(photos)]
        img = Image.open(source).convert("RGB")
        out = folder / (f"{source.stem}.jpg" if i < len(photos) else f"{source.stem}-variant{i // len(photos)}.jpg")
        (img if i < len(photos) else variant(img, rng)).save(out, quality=95)
        made.append(out)
    return made


def same_photo(a: Path, b: Path) -> bool:
    """Whether two catalog files hold the same pixels (the sample lists a few photos twice under two ids)."""
    first, second = (np.asarray(Image.open(p).convert("RGB")) for p in (a, b))
    return first.shape == second.shape and bool(np.array_equal(first, second))


def query_copies(catalog: list[Path], folder: Path, count: int, seed: int) -> dict[str, str]:
    """Re-encoded copies of `count` catalog photos drawn at random: query name → the catalog file it copies."""
    folder.mkdir(parents=True)
    chosen = np.random.default_rng(seed).choice(len(catalog), size=min(count, len(catalog)), replace=False)
    originals = {}
    for n, i in enumerate(chosen):
        name = f"query{n:04d}.jpg"
        reencoded_copy(catalog[i], folder / name)
        originals[name] = catalog[i].name
    return originals


def run_match_bench(embedder, images: Path | None = None, seed: int = 0, out=None, log=None) -> Bench:
    images = images or DEFAULT_IMAGES
    bench = Bench(out, log)
    photos = [images / f.relpath for f in scan(images.resolve())]
    bench.heading(embedder)
    with tempfile.TemporaryDirectory(prefix="fashionrec-bench-match-") as tmp:
        work = Path(tmp)
        bench.section(f"Finding the original ({CATALOG_SIZE:,} catalog photos: {min(len(photos), CATALOG_SIZE):,} "
                      f"of {images}, then augmented variants; {QUERIES} re-encoded copies, JPEG q75 at 90 %)")
        bench.say(f"building the {CATALOG_SIZE:,}-photo catalog …")
        catalog = build_catalog(photos, work / "catalog", CATALOG_SIZE, seed)
        originals = query_copies(catalog, work / "queries", QUERIES, seed)
        with CatalogSession(work / "catalog", embedder, work / "data") as session:
            bench.say("indexing it …")
            session.index()
            matches = match_folder(session, work / "queries", k=1)
        top = {query: results[0].relpath for query, results in zip(matches.queries, matches.results, strict=True)
               if results}
        misses = [query for query in originals if top.get(query) != originals[query]]
        same_pixels = [q for q in misses if q in top and same_photo(work / "catalog" / top[q],
                                                                    work / "catalog" / originals[q])]
        found = len(originals) - len(misses)
        share = found / len(originals)
        bench.add("original is the top-1", f"{found}/{len(originals)} = {share:.1%}", f"≥ {TOP1_GOAL:.0%}",
                  share >= TOP1_GOAL)
        for query in misses:
            twin = " (a catalog photo with the same pixels as the original)" if query in same_pixels else ""
            bench.say(f"  miss: {query}, a copy of {originals[query]}: top-1 {top.get(query)}{twin}")
        if same_pixels:
            counted = (found + len(same_pixels)) / len(originals)
            bench.add("… counting a photo with the original's pixels as it", f"{counted:.1%}")

        bench.section(f"Speed: {SPEED_QUERIES:,} query photos against {SPEED_CATALOG:,} items")
        bench.say(f"making a {SPEED_CATALOG:,}-item catalog and {SPEED_QUERIES:,} query photos …")
        synthesise_indexed_catalog(catalog, SPEED_CATALOG, work / "big", embedder, work / "data")
        query_copies(catalog, work / "speed-queries", SPEED_QUERIES, seed + 1)
        with CatalogSession(work / "big", embedder, work / "data") as session:
            started, cpu = time.perf_counter(), time.process_time()
            searchable = len(session.searcher)
            bench.add("catalog vectors loaded", f"{time.perf_counter() - started:.1f} s ({searchable:,} items)")
            started, cpu = time.perf_counter(), time.process_time()
            matches = match_folder(session, work / "speed-queries", k=5)
            seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
        bench.add(f"match {len(matches.queries):,} photos (decode + embed + search, k=5)",
                  f"{seconds:.1f} s ({cpu_seconds:.1f} CPU-s)", f"< {SPEED_GOAL_S:.0f} s", seconds < SPEED_GOAL_S)
        bench.add("rate", f"{len(matches.queries) / seconds:.1f} photos/s")
    print(f"load average at the end {load_average()}", file=bench.out)
    return bench
