"""The compact index's recall on real vectors at scale (`bench --scale`): the photo variants the real set is made
of, and a recall check that can fail (a first stage too small for the set is caught)."""

import numpy as np
import pytest

from desktop_app.bench import augmented, scale
from desktop_app.core import compact_index
from desktop_app.core.embedders import create_embedder

pytestmark = pytest.mark.unit


def test_variants_are_reproducible_and_differ_from_the_photo(make_catalog):
    from desktop_app.core.images import load_rgb

    photo = load_rgb(make_catalog(1) / "img000.jpg", (64, 80))
    first = list(augmented.variants([photo], 4, seed=0))
    again = list(augmented.variants([photo], 4, seed=0))
    assert np.array_equal(first[0], photo) and all(v.shape == photo.shape for v in first)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert len({v.tobytes() for v in first}) == 4


def test_augmented_vectors_are_the_count_asked_for(make_catalog):
    folder = make_catalog(3)
    vectors = augmented.augmented_vectors(create_embedder("colour-texture"), sorted(folder.iterdir()), count=10)
    assert vectors.shape == (10, create_embedder("colour-texture").dim)
    assert len({v.tobytes() for v in vectors}) == 10


def clusters(n_centres: int, per_centre: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    """Near-copies around random centres, as a photo and its variants: many close neighbours each."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_centres, dim))
    points = np.repeat(centres, per_centre, axis=0) + 0.35 * rng.standard_normal((n_centres * per_centre, dim))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def test_recall_on_a_real_set_is_measured_so_that_it_can_fail(monkeypatch):
    vectors = clusters(60, 20)
    same, proved, asked = scale.real_recall(vectors, queries=300)
    assert asked == 300 and same == 1.0  # the default stages find every exact top-5 here
    monkeypatch.setattr(compact_index, "FIRST_STAGE", 6)  # keeps 0.5 % of the set: too few candidates
    monkeypatch.setattr(compact_index, "MAX_RERANK", 6)
    same, proved, _ = scale.real_recall(vectors, queries=300)
    assert same < 0.9 and proved < same
