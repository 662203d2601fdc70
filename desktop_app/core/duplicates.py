"""Near-duplicates: groups of items closer than a distance threshold (connected components of the
"closer than" graph), largest group first.

The pairs come from the same blocked distance tiles as `neighbours` (each pair computed once); the float32
estimates only pick candidates, each kept pair's distance is recomputed exactly (float64).
The default threshold is per model, chosen by measurement (`fashionrec-cli bench --duplicates`, figures in
docs/models.md): re-encoded, resized and slightly cropped copies of catalog photos are found, different products
are not grouped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import UserError
from .neighbours import BLOCK, CancelCallback, ProgressCallback, distance_tiles, float32_error_bound

# Measured on fashion-2k with planted copies (bench --duplicates; the tables in docs/models.md): the largest threshold
# that keeps precision >= 0.99 with either set of copies (--seed 0 and 1). ResNet50 has none: its ImageNet
# weights were not available to measure one, and a threshold measured on random weights would mean nothing
# for real ones.
# Measured with `bench --duplicates --model M` (--seed 0 and 1): the largest threshold keeping precision ≥ 0.99 on
# planted copies (docs/models.md). efficientnet-lite0: fp32 and int8 alike (0.991–0.998 at 0.26). colour-texture:
# 0.24 since it resizes bilinear (decoding.POLICY): precision 0.997 with either set, 0.984 at 0.26 with seed 1.
DEFAULT_THRESHOLDS = {"colour-texture": 0.24, "shape-colour": 0.24, "efficientnet-lite0": 0.26}
MAX_PAIRS = 20_000_000  # ~500 MB of pairs: beyond that the threshold groups far more than duplicates
EXACT_STEP_FLOATS = 1 << 20  # pairs × dimensions recomputed exactly at once: 8 MiB of float64 per operand


def default_threshold(model_name: str) -> float:
    try:
        return DEFAULT_THRESHOLDS[model_name]
    except KeyError:
        raise UserError(f"No measured default duplicate threshold for {model_name} yet; pass --threshold D "
                        f"('bench --duplicates --model {model_name}' measures precision and recall per threshold "
                        "on planted copies).") from None


@dataclass(frozen=True)
class DuplicateGroup:
    relpaths: tuple[str, ...]  # sorted
    widest_link: float  # the longest of the (≤ threshold) distances that join the group together

    def __len__(self) -> int:
        return len(self.relpaths)


def close_pairs(vectors: np.ndarray, threshold: float, block: int = BLOCK,
                progress: ProgressCallback | None = None, should_cancel: CancelCallback | None = None,
                max_pairs: int = MAX_PAIRS) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(first, second, distance) of every pair of items at most `threshold` apart (first < second), by exact
    distance; None when cancelled. UserError when there are more than `max_pairs` (threshold far too large)."""
    if threshold < 0:
        raise UserError("The duplicate threshold cannot be negative.")
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    limit = threshold * threshold + float32_error_bound(vectors)
    firsts, seconds, distances, count = [], [], [], 0
    for a, b, tile in distance_tiles(vectors, block, progress, should_cancel):
        rows, columns = np.nonzero(tile <= limit)
        if a == b:  # each pair once
            keep = rows < columns
            rows, columns = rows[keep], columns[keep]
        rows, columns = rows + a, columns + b
        exact = exact_distances(vectors, rows, columns)
        close = exact <= threshold
        firsts.append(rows[close])
        seconds.append(columns[close])
        distances.append(exact[close])
        count += int(close.sum())
        if count > max_pairs:
            raise UserError(f"More than {max_pairs:,} pairs of items are closer than {threshold:g}: that threshold "
                            "groups far more than duplicates; choose a smaller --threshold.")
    if should_cancel and should_cancel():
        return None
    if not firsts:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64)
    return np.concatenate(firsts), np.concatenate(seconds), np.concatenate(distances)


def exact_distances(vectors: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """float64 distances of the pairs (rows[i], columns[i]), a few thousand pairs at a time: with a large
    threshold a tile holds up to a million candidate pairs, and taking all their vectors at once took
    pairs × dimensions × 16 bytes (16 GB for ResNet50's 2048 at 1M pairs)."""
    step = max(1, EXACT_STEP_FLOATS // max(vectors.shape[1], 1))
    distances = np.empty(len(rows), np.float64)
    for start in range(0, len(rows), step):
        pair = slice(start, start + step)
        difference = vectors[rows[pair]].astype(np.float64)
        difference -= vectors[columns[pair]]
        distances[pair] = np.sqrt(np.einsum("ij,ij->i", difference, difference))
    return distances


def connected_components(count: int, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Per item, the smallest position in its connected component (numpy only: no scipy in the packaged app).
    Each round gives both ends of every edge the smaller label, then follows labels to their own labels
    (pointer jumping), until nothing changes: a few rounds for groups of near-duplicates."""
    label = np.arange(count)
    while True:
        low = np.minimum(label[first], label[second])
        before = label.copy()
        np.minimum.at(label, first, low)
        np.minimum.at(label, second, low)
        label = label[label]
        if np.array_equal(label, before):
            return label


def group_pairs(count: int, first: np.ndarray, second: np.ndarray,
                distance: np.ndarray) -> list[tuple[list[int], float]]:
    """Connected components (of 2 items or more) of the graph with these edges: (member positions, widest link)."""
    if len(first) == 0:
        return []
    component = connected_components(count, first, second)
    sizes = np.bincount(component, minlength=count)
    widest = np.zeros(count)
    np.maximum.at(widest, component[first], distance)
    members: dict[int, list[int]] = {}
    for item in np.flatnonzero(sizes[component] > 1):
        members.setdefault(int(component[item]), []).append(int(item))
    return [(items, float(widest[c])) for c, items in members.items()]


def find_duplicates(relpaths: list[str], vectors: np.ndarray, threshold: float,
                    progress: ProgressCallback | None = None,
                    should_cancel: CancelCallback | None = None) -> list[DuplicateGroup] | None:
    """Groups of items linked by distances ≤ threshold, largest first (then by path); None when cancelled."""
    pairs = close_pairs(vectors, threshold, progress=progress, should_cancel=should_cancel)
    if pairs is None:
        return None
    groups = [DuplicateGroup(tuple(sorted(relpaths[i] for i in items)), widest)
              for items, widest in group_pairs(len(relpaths), *pairs)]
    return sorted(groups, key=lambda g: (-len(g), g.relpaths))
