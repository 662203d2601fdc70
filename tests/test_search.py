import numpy as np
from sklearn.neighbors import NearestNeighbors

from desktop_app.core.embedders.base import l2_normalise
from desktop_app.core.search import Searcher


def _random_catalog(n=50, dim=16, seed=0):
    vectors = l2_normalise(np.random.default_rng(seed).normal(size=(n, dim)))
    return [f"item{i:02d}.jpg" for i in range(n)], vectors


def test_search_matches_a_fresh_sklearn_fit_per_query_like_the_seed():
    relpaths, vectors = _random_catalog()
    searcher = Searcher(relpaths, vectors)
    query = l2_normalise(np.random.default_rng(1).normal(size=(1, 16)))[0]
    seed_knn = NearestNeighbors(n_neighbors=5, algorithm="brute", metric="euclidean").fit(vectors)
    distances, indices = seed_knn.kneighbors([query])

    results = searcher.search(query, k=5)

    assert [r.relpath for r in results] == [relpaths[i] for i in indices[0]]
    assert np.allclose([r.distance for r in results], distances[0], atol=1e-5)
    assert [r.rank for r in results] == [1, 2, 3, 4, 5]


def test_query_item_itself_can_be_excluded():
    relpaths, vectors = _random_catalog()
    searcher = Searcher(relpaths, vectors)
    with_self = searcher.search(vectors[7], k=5)
    without_self = searcher.search(vectors[7], k=5, exclude=relpaths[7])
    assert with_self[0].relpath == relpaths[7] and with_self[0].distance < 1e-3
    assert relpaths[7] not in [r.relpath for r in without_self]
    assert [r.relpath for r in without_self[:4]] == [r.relpath for r in with_self[1:5]]
    assert len(without_self) == 5


def test_k_larger_than_catalog_and_empty_catalog():
    relpaths, vectors = _random_catalog(n=3)
    assert len(Searcher(relpaths, vectors).search(vectors[0], k=5)) == 3
    assert Searcher([], np.zeros((0, 16), np.float32)).search(vectors[0]) == []


def test_matrix_product_search_equals_sklearn_brute_force_with_near_duplicates():
    """The per-query matrix product plus exact re-ranking returns scikit-learn's neighbours and distances,
    also for copies and near-copies of catalog items, where float32 rounding matters most."""
    rng = np.random.default_rng(3)
    relpaths, vectors = _random_catalog(n=3000, dim=256, seed=2)
    near_duplicates = l2_normalise(vectors[5:10] + 1e-4 * rng.normal(size=(5, 256)))
    queries = np.concatenate([l2_normalise(rng.normal(size=(10, 256))), vectors[:5], near_duplicates])
    searcher = Searcher(relpaths, vectors)
    sklearn_knn = NearestNeighbors(algorithm="brute", metric="euclidean").fit(vectors)
    for query in queries:
        distances, indices = sklearn_knn.kneighbors([query], n_neighbors=5)
        results = searcher.search(query, k=5)
        assert [r.relpath for r in results] == [relpaths[i] for i in indices[0]]
        assert np.allclose([r.distance for r in results], distances[0], atol=1e-5)
