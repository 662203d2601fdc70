"""The catalog map: the 2-D layout keeps neighbours together, is cached beside the store until the catalog changes,
can be cancelled, and a lasso picks the items inside it."""

import sys

import numpy as np
import pytest

from desktop_app.core import catalog_map
from desktop_app.core.catalog_map import MapUnavailable, inside, layout
from desktop_app.core.session import CatalogSession
from support import CountingEmbedder, make_image

pytestmark = pytest.mark.integration


def _clusters(per_cluster=60, dims=64, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, dims)) * 4
    vectors = np.concatenate([c + rng.normal(size=(per_cluster, dims)) for c in centres]).astype(np.float32)
    return vectors, np.repeat(np.arange(3), per_cluster)


def test_layout_keeps_each_items_neighbours_in_its_cluster():
    vectors, cluster = _clusters()
    points = layout(vectors, workers=1)
    assert points.shape == (180, 2) and np.isfinite(points).all()
    distances = np.linalg.norm(points[:, None] - points[None], axis=-1)
    np.fill_diagonal(distances, np.inf)
    nearest = np.argsort(distances, axis=1)[:, :5]
    assert (cluster[nearest] == cluster[:, None]).mean() > 0.95
    shuffled = layout(vectors[np.random.default_rng(1).permutation(180)], workers=1)  # not the input order
    assert shuffled.shape == (180, 2)


def test_the_map_is_cached_until_the_catalog_changes(make_catalog, monkeypatch):
    folder = make_catalog(24)
    with CatalogSession(folder, CountingEmbedder()) as session:
        session.index()
        steps = []
        first = catalog_map.catalog_map(session, progress=lambda done, total: steps.append((done, total)))
        assert len(first) == 24 and first.relpaths == session.searcher.relpaths and first.seconds > 0
        assert steps[0][0] == 0 and steps[-1][0] == steps[-1][1]
        path = session.catalog.map_path(session.store.path)
        assert path.is_file() and path in session.catalog.derived_files(session.store.path)  # forget removes it

        with monkeypatch.context() as m:  # read again: no layout computed
            m.setattr(catalog_map, "layout", lambda *a, **k: pytest.fail("laid out again"))
            again = catalog_map.catalog_map(session)
        assert again.relpaths == first.relpaths and np.array_equal(again.points, first.points)

        make_image(folder / "img100.jpg", seed=100)
        session.index()
        grown = catalog_map.catalog_map(session)
        assert len(grown) == 25 and "img100.jpg" in grown.relpaths and grown.seconds > 0


def test_a_cancelled_layout_gives_no_map_and_caches_nothing(make_catalog):
    folder = make_catalog(30)
    with CatalogSession(folder, CountingEmbedder()) as session:
        session.index()
        assert catalog_map.catalog_map(session, should_cancel=lambda: True) is None
        assert not session.catalog.map_path(session.store.path).exists()


def test_without_opentsne_the_map_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "openTSNE", None)  # import fails as when it is not installed
    with pytest.raises(MapUnavailable, match=r"pip install 'fashionrec\[map\]'"):
        layout(np.zeros((10, 4), np.float32))


def test_the_packaged_app_says_where_the_map_is_instead_of_pip(monkeypatch):
    """Its person cannot pip-install into the app: the message says the map is left out (and why) and where it
    works."""
    monkeypatch.setitem(sys.modules, "openTSNE", None)  # the packaged app leaves it out
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    with pytest.raises(MapUnavailable) as raised:
        layout(np.zeros((10, 4), np.float32))
    message = str(raised.value)
    assert message.startswith("The catalog map is not part of the packaged app") and "pip" not in message
    assert "size limit" in message and "run from source with its `map` extra" in message


def test_each_phase_is_said_as_it_starts_and_only_the_iterations_count_progress(monkeypatch):
    """The neighbour search (no progress of its own) runs under its own phase, after the library is loaded and
    before the iterations, whose progress goes from 0 to the end: the window's bar is busy, then counts."""
    import openTSNE.affinity

    events = []
    real_affinities = openTSNE.affinity.MultiscaleMixture
    monkeypatch.setattr(openTSNE.affinity, "MultiscaleMixture",
                        lambda *a, **k: events.append("neighbour search") or real_affinities(*a, **k))
    monkeypatch.delitem(sys.modules, "openTSNE")  # not imported yet, as in a window's first map
    vectors, _ = _clusters(per_cluster=20)
    points = layout(vectors, progress=lambda done, total: events.append((done, total)), phase=events.append,
                    workers=1)
    assert points is not None and points.shape == (60, 2)
    iterations = sum(catalog_map.ITERATIONS)
    assert events[:4] == [catalog_map.LOADING_LIBRARY, catalog_map.FINDING_NEIGHBOURS, "neighbour search",
                          catalog_map.LAYING_OUT]
    counts = events[4:]
    assert counts[0] == (0, iterations) and counts[-1] == (iterations, iterations) and len(counts) > 10
    assert all(isinstance(event, tuple) for event in counts)
    again = []
    layout(vectors, phase=again.append, workers=1)  # the library is loaded now: not said again
    assert again == [catalog_map.FINDING_NEIGHBOURS, catalog_map.LAYING_OUT]


def test_a_lasso_picks_the_points_inside_it_even_when_concave():
    points = np.array([[0.5, 0.5], [1.5, 0.5], [0.5, 1.5], [1.5, 1.5], [3, 3], [1.0, 1.0]])
    u_shape = np.array([[0, 0], [2, 0], [2, 2], [1.2, 2], [1.2, 0.8], [0.8, 0.8], [0.8, 2], [0, 2]])
    assert inside(points, u_shape).tolist() == [True, True, True, True, False, False]
    assert not inside(points, u_shape[:2]).any()  # not a polygon: nothing
