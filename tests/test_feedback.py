"""Several photos as one query and Rocchio feedback: the vector maths, the simulated rounds of
`eval --feedback-rounds` (the CLI's side: test_cli_feedback.py)."""

import numpy as np
import pytest

from desktop_app.core.feedback import combine, feedback_rounds, rocchio

pytestmark = pytest.mark.unit


def test_several_photos_are_the_renormalised_mean_of_their_vectors():
    a, b = np.array([1.0, 0, 0], np.float32), np.array([0, 1.0, 0], np.float32)
    assert np.allclose(combine(np.stack([a, b])), [2 ** -0.5, 2 ** -0.5, 0])
    assert np.allclose(combine(a[None]), a)


def test_rocchio_moves_towards_the_liked_and_away_from_the_disliked():
    query = np.array([1.0, 0, 0], np.float32)
    liked = np.array([[0, 1.0, 0], [0, 1.0, 0]], np.float32)
    disliked = np.array([[0, 0, 1.0]], np.float32)
    moved = rocchio(query, liked, disliked, alpha=1.0, beta=0.5)
    assert np.allclose(moved, np.array([1.0, 1.0, -0.5]) / 1.5) and np.isclose(np.linalg.norm(moved), 1)
    assert np.allclose(rocchio(query, None, np.empty((0, 3))), query)  # no judgement: the query as it was


def _two_label_clusters(rng, per_label=40):
    """Two labels whose items overlap in the first dimensions but differ along a hidden one."""
    noise = rng.normal(size=(2 * per_label, 8))
    noise[:per_label, 7] += 1.5
    noise[per_label:, 7] -= 1.5
    noise[:, 7] *= 0.5  # the label direction is weak: plain search mixes the labels
    vectors = noise / np.linalg.norm(noise, axis=1, keepdims=True)
    return vectors.astype(np.float32), ["a"] * per_label + ["b"] * per_label


def test_feedback_rounds_raise_precision_and_no_feedback_is_plain_search():
    vectors, labels = _two_label_clusters(np.random.default_rng(0))
    scores = feedback_rounds(vectors, labels, rounds=2, k=5)
    plain = []
    for i, v in enumerate(vectors):  # the first round is leave-one-out search with no feedback
        d = np.linalg.norm(vectors - v, axis=1)
        d[i] = np.inf
        plain.append(np.mean([labels[j] == labels[i] for j in np.argsort(d)[:5]]))
    assert scores.precision[0] == pytest.approx(np.mean(plain))
    assert scores.precision[1] >= scores.precision[0] + 0.1 and scores.precision[2] >= scores.precision[1] - 0.01
    assert scores.queries == 80 and len(scores.precision) == 3


def test_feedback_on_labels_that_mean_nothing_finds_no_better_new_items():
    vectors, _ = _two_label_clusters(np.random.default_rng(1), per_label=150)
    labels = list(np.random.default_rng(2).permutation(["a"] * 150 + ["b"] * 150))
    scores = feedback_rounds(vectors, labels, rounds=1, k=5)
    assert scores.new_precision[1] == pytest.approx(0.5, abs=0.05)  # chance among the results not yet judged
    assert scores.precision[1] > scores.precision[0] + 0.1  # while the liked items, shown again, lift precision@5
    real = feedback_rounds(vectors, ["a"] * 150 + ["b"] * 150, rounds=1, k=5)
    assert real.new_precision[1] > real.new_precision[0] + 0.1  # real labels: the new items are better too
