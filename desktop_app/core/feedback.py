"""Several photos as one query, and relevance feedback ("more like this" / "less like this").

- Several photos: the mean of their vectors, re-normalised (every model's vectors are L2-normalised, so this
  is the direction between them).
- Rocchio feedback: q' = q + α·mean(liked) − β·mean(disliked), re-normalised. α and β were chosen by measurement
  (`eval --feedback-rounds`, README/docs "feedback"): see ALPHA, BETA.
- `feedback_rounds` simulates the person of `eval --feedback-rounds N`: after each round they like the first
  JUDGED results that share the query's label and dislike the others; precision@k is scored every round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import UserError

# Chosen on one seeded half of the sample (shape-colour, articleType) and reported on the other (docs/batch.md
# "Feedback"): precision@5 after one round rose with β up to 1 (0.840 at α = 0.75-1.5), then fell off a cliff
# (β = 2: 0.39-0.83) where a query with no liked result is pushed away from everything; α mattered little.
ALPHA, BETA = 1.0, 1.0
JUDGED = 10  # results the simulated person looks at per round


def unit(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 1e-12 else vector


def combine(vectors: np.ndarray) -> np.ndarray:
    """One query vector for several photos: the mean of their vectors, re-normalised."""
    vectors = np.atleast_2d(np.asarray(vectors, np.float32))
    if len(vectors) == 0:
        raise UserError("A search needs at least one photo.")
    return unit(vectors.mean(axis=0))


def rocchio(query: np.ndarray, liked: np.ndarray | None = None, disliked: np.ndarray | None = None,
            alpha: float = ALPHA, beta: float = BETA) -> np.ndarray:
    """q + α·mean(liked) − β·mean(disliked), re-normalised; an empty (or None) set adds nothing."""
    moved = np.asarray(query, np.float64).copy()
    if liked is not None and len(liked):
        moved += alpha * np.asarray(liked, np.float64).mean(axis=0)
    if disliked is not None and len(disliked):
        moved -= beta * np.asarray(disliked, np.float64).mean(axis=0)
    return unit(moved.astype(np.float32))


@dataclass(frozen=True)
class FeedbackScores:
    k: int
    precision: list[float]  # precision@k per round: [no feedback, after round 1, …]
    new_precision: list[float]  # the same among the results not judged before (residual ranking); [0] = precision[0]
    queries: int
    alpha: float
    beta: float


def _nearest(vectors: np.ndarray, queries: np.ndarray, own: np.ndarray, count: int,
             left_out: np.ndarray | None = None) -> np.ndarray:
    """(queries, count) indices of the nearest vectors to each query row, its own item `own[i]` and the items
    `left_out[i]` (bool per item) left out."""
    distances = np.einsum("ij,ij->i", vectors, vectors)[np.newaxis, :] - 2.0 * (queries @ vectors.T)
    distances[np.arange(len(queries)), own] = np.inf
    if left_out is not None:
        distances[left_out] = np.inf
    part = np.argpartition(distances, count - 1, axis=1)[:, :count]
    order = np.lexsort((part, np.take_along_axis(distances, part, axis=1)), axis=1)
    return np.take_along_axis(part, order, axis=1)


def feedback_rounds(vectors: np.ndarray, labels: Sequence[str], rounds: int, k: int = 5,
                    alpha: float = ALPHA, beta: float = BETA, judged: int = JUDGED,
                    block: int = 512) -> FeedbackScores:
    """Leave-one-out precision@k of every labelled item as a query (labels[i] of vectors[i]), with no feedback
    and after each of `rounds` rounds of simulated feedback (see the module docstring). Each round starts again
    from the photo's own vector with every judgement made so far (liked and disliked items accumulate)."""
    vectors = np.ascontiguousarray(vectors, np.float32)
    codes = np.unique(np.asarray(labels, dtype=object), return_inverse=True)[1]
    scored = np.bincount(codes)[codes] > 1  # as eval: a query whose label no other item has cannot score
    n = len(vectors)
    if n < 2:
        raise UserError("Feedback needs at least 2 labelled items.")
    k, judged = min(k, n - 1), min(max(judged, k), n - 1)
    hits, new_hits = np.zeros(rounds + 1), np.zeros(rounds + 1)
    for start in range(0, n, block):
        own = np.arange(start, min(start + block, n))
        liked = np.zeros((len(own), n), bool)
        disliked = np.zeros((len(own), n), bool)
        queries = vectors[own]
        for round_number in range(rounds + 1):
            shown = _nearest(vectors, queries, own, judged)
            same = codes[shown] == codes[own][:, np.newaxis]
            hits[round_number] += same[scored[own], :k].sum()
            new = shown if round_number == 0 else _nearest(vectors, queries, own, k, liked | disliked)
            new_hits[round_number] += (codes[new[:, :k]] == codes[own][:, np.newaxis])[scored[own]].sum()
            rows = np.repeat(np.arange(len(own)), judged)
            liked[rows, shown.ravel()] |= same.ravel()
            disliked[rows, shown.ravel()] |= ~same.ravel()
            queries = np.stack([rocchio(vectors[i], vectors[liked[j]], vectors[disliked[j]], alpha, beta)
                                for j, i in enumerate(own)])
    queries_scored = int(scored.sum())
    scale = max(1, queries_scored * k)
    return FeedbackScores(k, list(hits / scale), list(new_hits / scale), queries_scored, alpha, beta)


def format_feedback(scores: FeedbackScores) -> str:
    lines = [f"feedback (Rocchio α={scores.alpha:g}, β={scores.beta:g}; the person likes the top {JUDGED} "
             f"results sharing the query's label, dislikes the others), {scores.queries} queries:"]
    for round_number, (precision, new) in enumerate(zip(scores.precision, scores.new_precision, strict=True)):
        gain = "" if round_number == 0 else f"  ({precision - scores.precision[0]:+.3f})"
        name = "no feedback" if round_number == 0 else f"after round {round_number}"
        residual = "" if round_number == 0 else f";  among results not judged before {new:.3f}"
        lines.append(f"  {name:<16} precision@{scores.k} {precision:.3f}{gain}{residual}")
    return "\n".join(lines)
