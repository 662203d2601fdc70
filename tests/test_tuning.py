"""Similarity tuned to labels: the projection finds the labelled signal hidden under nuisance, eval --tuned is
cross-fitted (pure-noise labels score chance, a leaking fit would not). Its cache on disk and the CLI:
test_tuning_catalog.py."""

import numpy as np
import pytest

from desktop_app.core import tuning
from desktop_app.core.embedders.base import l2_normalise

pytestmark = pytest.mark.unit


def hidden_signal(n=300, classes=6, dim=40, seed=0):
    """Unit vectors whose label lives in 3 weak dimensions, drowned by 37 strong noise dimensions."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    centres = rng.standard_normal((classes, 3)) * 3
    vectors = np.hstack([centres[labels] + 0.3 * rng.standard_normal((n, 3)), 3 * rng.standard_normal((n, dim - 3))])
    return l2_normalise(vectors), [f"class{c}" for c in labels]


def precision_at_5(neighbours, labels):
    labels = np.asarray(labels)
    return float((labels[neighbours[:, :5]] == labels[:, None]).mean())


def plain_neighbours(vectors, k=5):
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    return np.argsort(-similarity, axis=1)[:, :k]


def test_the_projection_finds_the_labelled_dimensions():
    vectors, labels = hidden_signal()
    untuned = precision_at_5(plain_neighbours(vectors), labels)
    tuned = precision_at_5(tuning.cross_fitted_neighbours(vectors, labels, 5), labels)
    assert untuned < 0.45 and tuned > 0.75  # by construction: 6 classes (chance ≈ 0.17), signal in 3 dims
    projection = tuning.fit_projection(vectors, labels)
    assert projection.matrix.shape == (40, 5)  # at most labels − 1 axes
    assert projection.apply(vectors).dtype == np.float32


def test_cross_fitting_never_sees_the_queries_labels():
    # labels that are pure noise: nothing in the vectors predicts them
    rng = np.random.default_rng(1)
    vectors = l2_normalise(rng.standard_normal((400, 60)))
    labels = [f"class{c}" for c in rng.integers(0, 4, 400)]
    chance = 0.25
    honest = precision_at_5(tuning.cross_fitted_neighbours(vectors, labels, 5), labels)
    assert abs(honest - chance) < 0.06
    # what the check guards against: a projection fitted on the queries' own labels memorises the noise
    leaking = tuning.fit_projection(vectors, labels).apply(vectors)
    distances = ((leaking[:, None] - leaking[None]) ** 2).sum(-1)
    np.fill_diagonal(distances, np.inf)
    assert precision_at_5(np.argsort(distances, axis=1)[:, :5], labels) > chance + 0.1


def test_refuses_a_single_label():
    vectors, _ = hidden_signal(20)
    with pytest.raises(tuning.UserError, match="2 different labels"):
        tuning.fit_projection(vectors, ["same"] * 20)
