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

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .errors import UserError
from .images import ImageError, thumbnail
from .labels import DEFAULT_FIELD, LabelMatch
from .neighbours import nearest_neighbours_all

Ranker = Callable[[np.ndarray, list[str], int], np.ndarray]  # (vectors, labels, k) → (n, k) neighbour indices


# -- scores ----------------------------------------------------------------------------------------
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
             field_name: str = DEFAULT_FIELD, rank: Ranker | None = None) -> Evaluation:
    """Leave-one-out scores of the indexed items (relpaths, vectors) against their matched labels.
    `rank(vectors, labels, k)` gives the neighbours instead of the plain search (e.g. tuning's cross-fitted
    ones); it sees the labelled items only."""
    if k < 1:
        raise UserError("k must be at least 1.")
    keep = [i for i, relpath in enumerate(relpaths) if relpath in match.labels]
    if len(keep) < 2:
        raise UserError(f"Only {len(keep)} indexed image(s) have a label: nothing to evaluate. Check that the "
                        "CSV's filename column names the catalog's files (relative path or file name).")
    kept_paths = [relpaths[i] for i in keep]
    labels = [match.labels[p] for p in kept_paths]
    if rank is None:
        table = nearest_neighbours_all(np.asarray(vectors)[keep], k)  # the Searcher's answers
        assert table is not None  # only a cancelled search returns None, and this one has no cancel
        neighbours = table.indices
    else:
        neighbours = rank(np.asarray(vectors)[keep], labels, k)
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
        img = thumbnail(path, THUMB)
    except ImageError:
        return Image.new("RGB", THUMB, (200, 200, 200))  # unreadable now (changed since indexing)
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
