"""Near-duplicates: exact groups of items closer than the threshold, and the planted-copies measurement."""

import tracemalloc

import numpy as np
import pytest

from desktop_app.bench import duplicates as planting
from desktop_app.core.duplicates import close_pairs, default_threshold, find_duplicates
from desktop_app.core.embedders import create_embedder
from desktop_app.core.embedders.base import l2_normalise
from desktop_app.core.errors import UserError
from desktop_app.core.session import CatalogSession
from support import make_image


def test_groups_are_the_connected_components_of_close_pairs_largest_first():
    rng = np.random.default_rng(0)
    vectors = l2_normalise(rng.normal(size=(400, 32)))  # random 32-d unit vectors: all pairs far (> 0.5) apart
    vectors[50] = l2_normalise(vectors[7:8] + 0.01 * rng.normal(size=(1, 32)))[0]
    vectors[51] = l2_normalise(vectors[50:51] + 0.01 * rng.normal(size=(1, 32)))[0]  # a chain 7 – 50 – 51
    vectors[300] = vectors[9]  # an exact copy
    relpaths = [f"{i:03d}.jpg" for i in range(400)]

    groups = find_duplicates(relpaths, vectors, threshold=0.1)

    assert [g.relpaths for g in groups] == [("007.jpg", "050.jpg", "051.jpg"), ("009.jpg", "300.jpg")]
    assert groups[1].widest_link == 0.0
    assert 0 < groups[0].widest_link <= 0.1


def test_close_pairs_equal_brute_force_across_tiles():
    rng = np.random.default_rng(1)
    centres = l2_normalise(rng.normal(size=(60, 16)))
    vectors = l2_normalise(np.repeat(centres, 5, axis=0) + 0.05 * rng.normal(size=(300, 16)))
    first, second, distance = close_pairs(vectors, 0.3, block=64)
    exact = np.linalg.norm(vectors[:, None].astype(np.float64) - vectors[None].astype(np.float64), axis=2)
    expected = {(int(i), int(j)) for i, j in zip(*np.nonzero(exact <= 0.3), strict=True) if i < j}
    assert set(zip(first.tolist(), second.tolist(), strict=True)) == expected
    assert len(first) == len(expected) > 200  # within and across the 64-row blocks
    assert np.allclose(distance, exact[first, second])


def test_a_threshold_that_groups_everything_is_refused_and_cancel_returns_none():
    vectors = l2_normalise(np.random.default_rng(2).normal(size=(200, 8)))
    with pytest.raises(UserError, match="choose a smaller --threshold"):
        close_pairs(vectors, 2.0, max_pairs=1000)
    assert find_duplicates([str(i) for i in range(200)], vectors, 0.1, should_cancel=lambda: True) is None
    with pytest.raises(UserError, match="pass --threshold"):
        default_threshold("no-such-model")


def test_memory_stays_bounded_when_every_pair_is_within_the_threshold():
    """Issue 24: `duplicates --threshold 5` (every pair close) was killed at 24 GB: each tile's candidate pairs had
    their vectors copied all at once (pairs × dimensions × 16 bytes). numpy reports its arrays to tracemalloc."""
    vectors = l2_normalise(np.random.default_rng(3).normal(size=(600, 256))).astype(np.float32)
    tracemalloc.start()
    try:
        first, _, distance = close_pairs(vectors, 5.0, block=256)  # 65,536 candidate pairs per full tile
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(first) == 600 * 599 // 2 and distance.max() < 2.0  # every pair, exactly measured
    assert peak < 64 * 2**20, f"{peak / 2**20:.0f} MiB"  # the old way took 323 MiB here


def test_planted_copies_are_found_at_the_default_threshold_and_different_photos_are_not(tmp_path):
    """The bench's planting on a generated catalog: JPEG re-encodes and resizes of 4 photos are grouped with
    their original (and only with it) at colour-texture's default threshold. The photos are 224×224, the size the
    threshold was measured at (the sample's): a q40 copy of a 60×80 block picture lies at ~0.26."""
    source = tmp_path / "catalog"
    for i in range(30):
        make_image(source / f"img{i:03d}.jpg", seed=i, size=(224, 224))
    folder = tmp_path / "planted-catalog"
    planted = planting.plant_copies(source, folder, sources=4, seed=1)
    embedder = create_embedder("colour-texture")
    with CatalogSession(folder, embedder) as session:
        session.index()
        relpaths, vectors = session.store.load_vectors()
        groups = find_duplicates(relpaths, vectors, default_threshold(embedder.name))
        product = planting.products(folder, relpaths, planted)
    score = planting.score_groups(relpaths, product, planted,
                                  [[relpaths.index(r) for r in g.relpaths] for g in groups], 0.0)
    assert len(planted) == 4 * len(planting.COPIES)
    assert score.precision == 1.0  # no two different photos grouped
    for kind in ("jpeg-q40", "jpeg-q65", "jpeg-q90", "resized-75%", "resized-200%"):
        assert score.found_by_kind[kind] == 1.0, kind
    assert all(len({product[r] for r in g.relpaths}) == 1 for g in groups)


def test_session_duplicates_use_the_models_default_and_can_be_cancelled(make_catalog, counting_embedder):
    folder = make_catalog(5)
    (folder / "copy.jpg").write_bytes((folder / "img002.jpg").read_bytes())
    with CatalogSession(folder, create_embedder("colour-texture")) as session:
        session.index()
        assert [g.relpaths for g in session.duplicates()] == [("copy.jpg", "img002.jpg")]
        assert session.duplicates(should_cancel=lambda: True) is None
    with CatalogSession(folder, counting_embedder) as session:  # a model without a measured default
        session.index()
        with pytest.raises(UserError, match="No measured default duplicate threshold for tiny"):
            session.duplicates()
        assert len(session.duplicates(threshold=0.0)) == 1


def test_connected_components_equal_scipys_on_random_graphs():
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components as scipy_components

    from desktop_app.core.duplicates import connected_components

    rng = np.random.default_rng(4)
    for count, edges in ((50, 30), (500, 450), (1000, 2000)):
        first, second = rng.integers(0, count, edges), rng.integers(0, count, edges)
        ours = connected_components(count, first, second)
        _, theirs = scipy_components(coo_matrix((np.ones(edges), (first, second)), shape=(count, count)),
                                     directed=False)
        # the same partition: each of our labels maps to exactly one of scipy's, and back
        pairs = set(zip(ours.tolist(), theirs.tolist(), strict=True))
        assert len(pairs) == len(set(ours.tolist())) == len(set(theirs.tolist()))
        assert (ours <= np.arange(count)).all()
