"""The two-stage compact index of big catalogs: same results as exact brute force, stored as .npy files,
rebuilt when stale or damaged. The thresholds are lowered so that small catalogs use it."""

import numpy as np
import pytest

from desktop_app.core import compact_index
from desktop_app.core.catalog_data import Catalog
from desktop_app.core.compact_index import CompactSearcher, _smallest, index_dir, load_index, open_searcher
from desktop_app.core.embedders.base import l2_normalise
from desktop_app.core.search import Searcher
from desktop_app.core.store import Embedded, Store

pytestmark = pytest.mark.integration  # stores on disk


def clustered_vectors(n: int, dim: int, seed: int) -> np.ndarray:
    """Unit vectors around 30 centres, their spread fading over the dimensions as real embeddings' does:
    near neighbours exist and a few directions hold most of the variance."""
    rng = np.random.default_rng(seed)
    fading = 1.0 / np.sqrt(1.0 + np.arange(dim))
    centres = rng.normal(size=(30, dim)) * fading
    return l2_normalise(centres[rng.integers(0, 30, n)] + 0.5 * fading * rng.normal(size=(n, dim)))


@pytest.fixture
def small_thresholds(monkeypatch):
    monkeypatch.setattr(compact_index, "COMPACT_THRESHOLD_BYTES", 500 * 64 * 4)  # 500 items of 64-d
    monkeypatch.setattr(compact_index, "FIRST_STAGE", 300)
    monkeypatch.setattr(compact_index, "CODE_DIMS", 32)
    monkeypatch.setattr(compact_index, "HEAD_DIMS", 16)
    monkeypatch.setattr(compact_index, "RERANK_STEP", 16)


@pytest.fixture
def store(tmp_path):
    folder = tmp_path / "catalog"
    folder.mkdir()
    store = Store(Catalog(folder.resolve()), "test-fingerprint", 64, "test")
    yield store
    store.close()


def fill(store: Store, vectors: np.ndarray, prefix: str = "item") -> list[str]:
    relpaths = [f"{prefix}{i:05d}.jpg" for i in range(len(vectors))]
    store.commit_batch([Embedded(r, 1, 1, v) for r, v in zip(relpaths, vectors, strict=True)], [])
    return relpaths


def test_below_the_threshold_the_exact_searcher_is_used(store, small_thresholds):
    fill(store, clustered_vectors(499, 64, 0))
    assert type(open_searcher(store)) is Searcher
    assert not index_dir(store).exists()


def test_above_the_threshold_results_equal_exact_brute_force(store, small_thresholds):
    vectors = clustered_vectors(3000, 64, 1)
    relpaths = fill(store, vectors)
    compact = open_searcher(store)
    assert isinstance(compact, CompactSearcher) and len(compact) == 3000
    exact = Searcher(*store.load_vectors())
    equal = proved = 0
    for query in clustered_vectors(300, 64, 2):
        ours, truth = compact.search(query, 5), exact.search(query, 5)
        same = [r.relpath for r in ours] == [r.relpath for r in truth]
        assert same or not compact.last_exact  # what the bounds prove exact is exact
        equal += same
        proved += compact.last_exact
        if same:
            assert np.allclose([r.distance for r in ours], [r.distance for r in truth], atol=1e-5)
    assert equal >= 0.99 * 300
    assert proved >= 100  # the proof is exercised (at this small size the bounds are loose)
    # an item of the catalog as the query: itself left out, its stored vector returned
    assert np.array_equal(compact.vector_of(relpaths[7]), vectors[7].astype(np.float32))
    assert compact.vector_of("missing.jpg") is None
    assert [r.relpath for r in compact.search(vectors[7], 5, exclude=relpaths[7])] == \
        [r.relpath for r in exact.search(vectors[7], 5, exclude=relpaths[7])]


def test_the_index_is_stored_reopened_without_rebuilding_and_rebuilt_when_the_store_changes(
        store, small_thresholds, monkeypatch):
    fill(store, clustered_vectors(1000, 64, 3))
    built = open_searcher(store)
    reopened = load_index(store)
    assert reopened is not None and len(reopened) == len(built)

    fill(store, clustered_vectors(10, 64, 4), prefix="new")
    assert load_index(store) is None  # stale: the store moved on
    rebuilt = open_searcher(store)
    assert len(rebuilt) == 1010
    assert rebuilt.search(clustered_vectors(10, 64, 4)[3], 1)[0].relpath == "new00003.jpg"


@pytest.mark.parametrize("damage", ["truncated", "object array", "wrong shape", "bad meta"])
def test_a_damaged_index_is_rebuilt_and_never_unpickled(store, small_thresholds, damage):
    fill(store, clustered_vectors(800, 64, 5))
    open_searcher(store)
    folder = index_dir(store)
    if damage == "truncated":
        data = (folder / "head.npy").read_bytes()
        (folder / "head.npy").write_bytes(data[: len(data) // 2])
    elif damage == "object array":  # loading it would need pickle
        np.save(folder / "tail.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    elif damage == "wrong shape":
        np.save(folder / "residual_norms.npy", np.zeros(3, np.float32))
    else:
        (folder / "meta.json").write_text("{not json", "utf-8")
    assert load_index(store) is None
    again = open_searcher(store)
    assert isinstance(again, CompactSearcher) and len(again) == 800


def test_the_candidate_bound_holds_for_every_value_left_out():
    values = np.random.default_rng(6).normal(size=100_000).astype(np.float32)
    chosen, bound = _smallest(values, 1000)
    assert 500 <= len(chosen) <= 2000
    assert values[chosen].max() <= bound
    left_out = np.setdiff1d(np.arange(len(values)), chosen)
    assert values[left_out].min() > bound


def test_the_session_builds_the_index_after_indexing_a_big_catalog(make_catalog, small_thresholds, monkeypatch):
    from desktop_app.core.embedders import create_embedder
    from desktop_app.core.session import CatalogSession

    monkeypatch.setattr(compact_index, "COMPACT_THRESHOLD_BYTES", 30 * 628 * 4)  # 30 colour-texture items
    folder = make_catalog(40)
    with CatalogSession(folder, create_embedder("colour-texture")) as session:
        session.index()
        assert isinstance(session.searcher, CompactSearcher)
        exact = Searcher(*session.store.load_vectors())
        for relpath in ("img003.jpg", "img021.jpg"):
            assert [r.relpath for r in session.query_item(relpath)] == \
                [r.relpath for r in exact.search(exact.vector_of(relpath), 5, exclude=relpath)]


def test_an_index_that_cannot_be_written_is_one_clear_error(store, small_thresholds, monkeypatch):
    from desktop_app.core.errors import UserError

    fill(store, clustered_vectors(600, 64, 7))

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np.lib.format, "open_memmap", disk_full)
    with pytest.raises(UserError, match="No space left on device"):
        open_searcher(store)
    assert list(index_dir(store).parent.glob("*.compact*")) == []  # nothing half-built is left


def test_forget_deletes_the_index_too(store, small_thresholds):
    from desktop_app.core import caches

    fill(store, clustered_vectors(600, 64, 8))
    open_searcher(store)
    assert index_dir(store).is_dir()
    store.close()
    assert caches.forget_catalog(store.root) == 1
    assert not index_dir(store).exists()


def test_filters_and_max_distance_as_the_exact_searcher(store, small_thresholds):
    vectors = clustered_vectors(2000, 64, 9)
    relpaths = fill(store, vectors)
    compact, exact = open_searcher(store), Searcher(*store.load_vectors())
    allowed = np.zeros(2000, bool)
    allowed[::7] = True  # a label filter keeping one item in seven
    for query in clustered_vectors(30, 64, 10):
        ours = compact.search(query, 5, allowed=allowed, max_distance=0.9)
        truth = exact.search(query, 5, allowed=allowed, max_distance=0.9)
        assert [r.relpath for r in ours] == [r.relpath for r in truth]
        assert all(relpaths.index(r.relpath) % 7 == 0 and r.distance <= 0.9 for r in ours)
    only = np.zeros(2000, bool)
    only[[3, 10]] = True
    assert [r.relpath for r in compact.search(vectors[3], 5, exclude=relpaths[3], allowed=only)] == [relpaths[10]]
    assert compact.search(vectors[3], 5, allowed=np.zeros(2000, bool)) == []
