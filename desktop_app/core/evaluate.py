"""How good are the "similar" items? Leave-one-out retrieval scores against a labels CSV, and a contact sheet.

Every labelled, indexed item queries all the other labelled items (itself excluded), using the stored
vectors: one matrix product per block of queries, no image is decoded or embedded again. A result is
a hit when its label equals the query's.

- precision@k: the fraction of the k results that are hits, averaged over queries.
- AP@k of one query: the sum of precision@i over the ranks i ≤ k that are hits, divided by min(k, R)
  (R = the other items sharing the query's label), not by the number of hits; so 1.0 means "as many
  hits as there can be, all ranked first", and missing hits cost. mAP@k averages AP@k over queries.
- random precision@k: what a random ranking gets on average, (n_c - 1) / (N - 1) for a query of a
  label with n_c items among N, averaged over the queries.

Queries whose label no other item has (R = 0) cannot score and are left out of the averages (they
stay in the candidates); their count is reported. Unlabelled items take no part at all.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .catalog import scan
from .errors import UserError
from .images import ImageError, open_rgb

LABELS_FILENAME = "labels.csv"
FILENAME_COLUMN = "filename"
DEFAULT_FIELD = "articleType"
LABEL_TEXT_FIELDS = ("articleType", "baseColour")  # shown under thumbnails when the CSV has them
_QUERY_BLOCK = 256  # queries per matrix product: memory stays O(block × N), ~100 MB at N = 100k


# -- labels ----------------------------------------------------------------------------------------
def read_labels_csv(path: str | os.PathLike) -> tuple[list[str], list[dict[str, str]]]:
    """(column names, rows) of a CSV that has a `filename` column; UserError saying what is wrong."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            columns = list(reader.fieldnames or [])
            if FILENAME_COLUMN not in columns:
                raise UserError(f"The labels file {path} has no '{FILENAME_COLUMN}' column "
                                f"(its columns: {', '.join(columns) or 'none'}).")
            rows = [row for row in reader if (row.get(FILENAME_COLUMN) or "").strip()]
    except FileNotFoundError:
        raise UserError(f"Labels file not found: {path}") from None
    except UnicodeDecodeError:
        raise UserError(f"The labels file {path} is not UTF-8 text.") from None
    except csv.Error as err:
        raise UserError(f"The labels file {path} is not a readable CSV ({err}).") from None
    except OSError as err:
        raise UserError(f"Cannot read the labels file {path} ({err.strerror or err}).") from None
    return columns, rows


def load_labels(path: str | os.PathLike, field_name: str = DEFAULT_FIELD) -> dict[str, str]:
    """filename (as written in the CSV) → value of `field_name`; rows with an empty value are left out."""
    columns, rows = read_labels_csv(path)
    if field_name not in columns:
        raise UserError(f"The labels file {path} has no '{field_name}' column; "
                        f"choose one of: {', '.join(c for c in columns if c != FILENAME_COLUMN)}.")
    return {row[FILENAME_COLUMN].strip(): (row[field_name] or "").strip()
            for row in rows if (row[field_name] or "").strip()}


@dataclass
class LabelMatch:
    labels: dict[str, str]  # catalog relpath → label
    unlabelled: list[str]  # indexed relpaths with no label
    unmatched: list[str]  # CSV filenames that match no indexed relpath


def match_labels(relpaths: list[str], by_filename: dict[str, str]) -> LabelMatch:
    """Match CSV filenames to catalog relpaths: by the whole relative path, else by the file's basename
    (when that basename appears only once in the CSV)."""
    basenames = Counter(PurePosixPath(name.replace("\\", "/")).name for name in by_filename)
    by_basename = {PurePosixPath(name.replace("\\", "/")).name: (name, label) for name, label in by_filename.items()}
    labels, unlabelled, used = {}, [], set()
    for relpath in relpaths:
        name = relpath if relpath in by_filename else None
        if name is None:
            basename = PurePosixPath(relpath).name
            if basenames[basename] == 1:
                name = by_basename[basename][0]
        if name is None:
            unlabelled.append(relpath)
        else:
            labels[relpath] = by_filename[name]
            used.add(name)
    return LabelMatch(labels, unlabelled, sorted(set(by_filename) - used))


def find_labels_file(catalog_root: str | os.PathLike) -> Path | None:
    """labels.csv inside the catalog folder, else beside it (in its parent), else None."""
    root = Path(catalog_root)
    for candidate in (root / LABELS_FILENAME, root.parent / LABELS_FILENAME):
        if candidate.is_file():
            return candidate
    return None


def find_labels(catalog_root: str | os.PathLike) -> dict[str, str] | None:
    """For the GUI: relpath → label text (e.g. "Tshirts · Blue") of the catalog's images, from a
    labels.csv in or beside the folder; None when there is none or it cannot be used.

    The text joins the CSV's articleType and baseColour columns when present, else its first column
    after `filename`. Scans the folder (fast: no image is opened) to match CSV names to relpaths.
    """
    path = find_labels_file(catalog_root)
    if path is None:
        return None
    try:
        columns, rows = read_labels_csv(path)
    except UserError:
        return None
    fields = [c for c in LABEL_TEXT_FIELDS if c in columns] or [c for c in columns if c != FILENAME_COLUMN][:1]
    if not fields:
        return None
    texts = {}
    for row in rows:
        text = " · ".join(v for v in ((row.get(f) or "").strip() for f in fields) if v)
        if text:
            texts[row[FILENAME_COLUMN].strip()] = text
    relpaths = [f.relpath for f in scan(Path(catalog_root))]
    return match_labels(relpaths, texts).labels or None


# -- scores ----------------------------------------------------------------------------------------
def nearest_neighbours(vectors: np.ndarray, k: int) -> np.ndarray:
    """(n, min(k, n-1)) indices of each row's nearest other rows, nearest first.

    Vectors are L2-normalised, so Euclidean order (the Searcher's) equals descending dot product.
    """
    n = len(vectors)
    k = min(k, n - 1)
    vectors = np.asarray(vectors, dtype=np.float32)
    neighbours = np.empty((n, max(k, 0)), dtype=np.int64)
    if k <= 0:
        return neighbours
    for start in range(0, n, _QUERY_BLOCK):
        stop = min(start + _QUERY_BLOCK, n)
        similarity = vectors[start:stop] @ vectors.T
        similarity[np.arange(stop - start), np.arange(start, stop)] = -np.inf  # leave the query out
        top = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(similarity, top, axis=1), axis=1, kind="stable")
        neighbours[start:stop] = np.take_along_axis(top, order, axis=1)
    return neighbours


def precision_at_k(hits: np.ndarray, k: int) -> np.ndarray:
    """Per query: hits in the first k ranks / k. `hits` is (queries, ≥k) bool, rank 1 first."""
    return hits[:, :k].sum(axis=1) / k


def average_precision_at_k(hits: np.ndarray, relevant: np.ndarray, k: int) -> np.ndarray:
    """Per query: Σ over hit ranks i ≤ k of precision@i, / min(k, relevant). See the module docstring."""
    hits = hits[:, :k].astype(np.float64)
    precision_at_each_rank = np.cumsum(hits, axis=1) / np.arange(1, hits.shape[1] + 1)
    return (precision_at_each_rank * hits).sum(axis=1) / np.minimum(k, relevant)


@dataclass(frozen=True)
class ClassScore:
    label: str
    items: int  # labelled indexed items with this label
    queries: int  # of which scored (0 when the label is unique)
    precision: float
    mean_ap: float
    random_precision: float


@dataclass
class Evaluation:
    k: int
    field_name: str
    relpaths: list[str]  # the labelled items that took part, in order
    labels: list[str]
    neighbours: np.ndarray  # (items, k) indices into relpaths
    scored: np.ndarray  # (items,) bool: queries with at least one relevant item
    precision: float
    mean_ap: float
    random_precision: float
    classes: list[ClassScore] = field(default_factory=list)  # best precision first
    unlabelled: int = 0
    labels_without_image: int = 0

    @property
    def queries(self) -> int:
        return int(self.scored.sum())

    @property
    def singletons(self) -> int:
        return int((~self.scored).sum())


def evaluate(relpaths: list[str], vectors: np.ndarray, match: LabelMatch, k: int,
             field_name: str = DEFAULT_FIELD) -> Evaluation:
    """Leave-one-out scores of the indexed items (relpaths, vectors) against their matched labels."""
    if k < 1:
        raise UserError("k must be at least 1.")
    keep = [i for i, relpath in enumerate(relpaths) if relpath in match.labels]
    if len(keep) < 2:
        raise UserError(f"Only {len(keep)} indexed image(s) have a label: nothing to evaluate. Check that the "
                        "CSV's filename column names the catalog's files (relative path or file name).")
    kept_paths = [relpaths[i] for i in keep]
    labels = [match.labels[p] for p in kept_paths]
    neighbours = nearest_neighbours(np.asarray(vectors)[keep], k)
    k = neighbours.shape[1]  # fewer than k other items: k shrinks to what exists
    codes, class_of = np.unique(np.array(labels, dtype=object), return_inverse=True)
    class_sizes = np.bincount(class_of)
    relevant = class_sizes[class_of] - 1
    hits = class_of[neighbours] == class_of[:, None]
    scored = relevant > 0
    precision = precision_at_k(hits[scored], k)
    mean_ap = average_precision_at_k(hits[scored], relevant[scored], k)
    random = relevant[scored] / (len(keep) - 1)

    classes = []
    scored_class = class_of[scored]
    for c, label in enumerate(codes):
        mine = scored_class == c
        n = int(mine.sum())
        classes.append(ClassScore(str(label), int(class_sizes[c]), n,
                                  float(precision[mine].mean()) if n else 0.0,
                                  float(mean_ap[mine].mean()) if n else 0.0,
                                  float(random[mine].mean()) if n else 0.0))
    classes.sort(key=lambda s: (s.queries == 0, -s.precision, -s.items, s.label))  # unique labels last
    return Evaluation(
        k=k, field_name=field_name, relpaths=kept_paths, labels=labels, neighbours=neighbours, scored=scored,
        precision=float(precision.mean()) if len(precision) else 0.0,
        mean_ap=float(mean_ap.mean()) if len(mean_ap) else 0.0,
        random_precision=float(random.mean()) if len(random) else 0.0,
        classes=classes, unlabelled=len(match.unlabelled), labels_without_image=len(match.unmatched))


def format_report(result: Evaluation) -> str:
    """The overall scores, the per-class table and the counts, as printed by `fashionrec-cli eval`."""
    k = result.k
    width = max([len("label")] + [len(c.label) for c in result.classes])
    lines = [
        f"leave-one-out on '{result.field_name}': {result.queries} queries, {len(result.relpaths)} labelled "
        f"items, {len(result.classes)} labels",
        f"precision@{k} {result.precision:.3f}   mAP@{k} {result.mean_ap:.3f}   "
        f"random precision@{k} {result.random_precision:.3f}",
        "",
        f"{'label':<{width}}  {'items':>5}  {f'P@{k}':>6}  {f'mAP@{k}':>6}  {'random':>6}",
    ]
    for c in result.classes:
        if c.queries:
            lines.append(f"{c.label:<{width}}  {c.items:>5}  {c.precision:>6.3f}  {c.mean_ap:>6.3f}  "
                         f"{c.random_precision:>6.3f}")
        else:
            lines.append(f"{c.label:<{width}}  {c.items:>5}  {'-':>6}  {'-':>6}  {'-':>6}  (only item)")
    lines += [
        "",
        f"{result.singletons} queries left out (their label has no other item); "
        f"{result.unlabelled} indexed images without a label; "
        f"{result.labels_without_image} labels without an indexed image.",
        f"AP@{k} = (sum of precision@i over the hit ranks i <= {k}) / min({k}, other items with the query's "
        f"label); random = (n_label - 1) / (N - 1) averaged over queries.",
    ]
    return "\n".join(lines)


# -- contact sheet -----------------------------------------------------------------------------------
THUMB = (96, 128)  # width, height of each picture
_BORDER, _GAP, _TEXT_HEIGHT = 4, 6, 28
_HIT, _MISS, _QUERY = (30, 160, 60), (210, 40, 40), (90, 90, 90)


def _thumbnail(path: Path) -> Image.Image:
    canvas = Image.new("RGB", THUMB, (255, 255, 255))
    try:
        img = open_rgb(path)
    except ImageError:
        return Image.new("RGB", THUMB, (200, 200, 200))  # unreadable now (changed since indexing)
    img.thumbnail(THUMB, Image.Resampling.LANCZOS)
    canvas.paste(img, ((THUMB[0] - img.width) // 2, (THUMB[1] - img.height) // 2))
    return canvas


def _fit_text(draw, text: str, font, width: int) -> str:
    while text and draw.textlength(text, font=font) > width:
        text = text[:-2] + "…" if len(text) > 2 else ""
    return text


def contact_sheet(result: Evaluation, root: Path, out: str | os.PathLike, rows: int = 8, seed: int = 0) -> int:
    """A PNG of `rows` random queries (seeded), each followed by its k results: the label under each
    picture, a green border when a result has the query's label, red when not. Returns the rows drawn."""
    candidates = np.flatnonzero(result.scored)
    if rows < 1 or len(candidates) == 0:
        raise UserError("Nothing to draw: the contact sheet needs at least 1 row and 1 label shared by 2 items.")
    rng = np.random.default_rng(seed)
    chosen = rng.choice(candidates, size=min(rows, len(candidates)), replace=False)
    cell_w, cell_h = THUMB[0] + 2 * _BORDER + _GAP, THUMB[1] + 2 * _BORDER + _TEXT_HEIGHT + _GAP
    columns = 1 + result.k
    sheet = Image.new("RGB", (columns * cell_w + _GAP, len(chosen) * cell_h + _GAP), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    try:
        font = ImageFont.load_default(size=11)
    except TypeError:  # Pillow < 10.1: only the fixed bitmap font
        font = ImageFont.load_default()
    for row, query in enumerate(chosen):
        items = [query, *result.neighbours[query]]
        for column, item in enumerate(items):
            x, y = _GAP + column * cell_w, _GAP + row * cell_h
            same = result.labels[item] == result.labels[query]
            colour = _QUERY if column == 0 else (_HIT if same else _MISS)
            draw.rectangle([x, y, x + THUMB[0] + 2 * _BORDER - 1, y + THUMB[1] + 2 * _BORDER - 1], fill=colour)
            sheet.paste(_thumbnail(root / result.relpaths[item]), (x + _BORDER, y + _BORDER))
            caption = ("query: " if column == 0 else f"{column}. ") + result.labels[item]
            text_y = y + THUMB[1] + 2 * _BORDER + 2
            draw.text((x, text_y), _fit_text(draw, caption, font, cell_w - _GAP), fill=(0, 0, 0), font=font)
            name = PurePosixPath(result.relpaths[item]).name
            draw.text((x, text_y + 13), _fit_text(draw, name, font, cell_w - _GAP), fill=(110, 110, 110), font=font)
    try:
        sheet.save(out, format="PNG")
    except (OSError, ValueError) as err:
        raise UserError(f"Cannot write the contact sheet {out} ({err}).") from None
    return len(chosen)
