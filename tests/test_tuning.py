"""Similarity tuned to labels: the projection finds the labelled signal hidden under nuisance, eval --tuned is
cross-fitted (pure-noise labels score chance, a leaking fit would not), the fit is cached and refitted on change."""

import csv

import numpy as np
import pytest

from desktop_app import cli
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


def write_labels(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["filename", "articleType"])
        writer.writerows(rows)


@pytest.mark.integration
def test_cached_per_store_and_labels_file_and_refitted_when_either_changes(make_catalog, tmp_path):
    from desktop_app.core.embedders import create_embedder
    from desktop_app.core.session import CatalogSession

    folder = make_catalog(12)
    labels_path = tmp_path / "labels.csv"
    write_labels(labels_path, [(f"img{i:03d}.jpg", f"t{i % 3}") for i in range(10)])  # 2 items without a label
    with CatalogSession(folder, create_embedder("colour-texture")) as session:
        session.index()
        first = tuning.tuned_projection(session.store, labels_path, "articleType")
        assert first.fitted_now and first.labelled == 10
        cached = tuning.tuned_projection(session.store, labels_path, "articleType")
        assert not cached.fitted_now
        np.testing.assert_array_equal(cached.projection.matrix, first.projection.matrix)
        with np.load(tuning.cache_path(session.store, "articleType"), allow_pickle=False) as data:
            assert set(data.files) == {"key", "mean", "matrix"}
        write_labels(labels_path, [(f"img{i:03d}.jpg", f"t{i % 2}") for i in range(10)])
        assert tuning.tuned_projection(session.store, labels_path, "articleType").fitted_now  # labels changed
        assert not tuning.tuned_projection(session.store, labels_path, "articleType").fitted_now
        make_catalog(13)  # one more image: the store changes once indexed
        session.index()
        refit = tuning.tuned_projection(session.store, labels_path, "articleType")
        assert refit.fitted_now
        results = tuning.tuned_query(session, refit, folder / "img011.jpg", k=12)  # an unlabelled item
        assert len(results) == 12 and "img011.jpg" not in {r.relpath for r in results}
        assert "img012.jpg" in {r.relpath for r in results}  # unlabelled items are searched too


def test_queries_in_a_row_project_the_catalog_once_and_again_after_it_changes(make_catalog, tmp_path,
                                                                             monkeypatch):
    from desktop_app.core.embedders import create_embedder
    from desktop_app.core.session import CatalogSession

    folder = make_catalog(9)
    labels_path = tmp_path / "labels.csv"
    write_labels(labels_path, [(f"img{i:03d}.jpg", f"t{i % 3}") for i in range(9)])
    projected_rows = []
    apply = tuning.Projection.apply
    monkeypatch.setattr(tuning.Projection, "apply", lambda self, v: projected_rows.append(len(v)) or apply(self, v))
    with CatalogSession(folder, create_embedder("colour-texture")) as session:
        session.index()
        tuned = tuning.tuned_projection(session.store, labels_path, "articleType")
        first = tuning.tuned_query(session, tuned, folder / "img001.jpg", k=3)
        again = tuning.tuned_query(session, tuned, folder / "img001.jpg", k=3)
        assert again == first and projected_rows == [9, 1, 1]  # the catalog once, then each query photo
        make_catalog(10)
        session.index()
        grown = tuning.tuned_query(session, tuned, folder / "img009.jpg", k=3, exclude_self=False)
        assert projected_rows[-2:] == [10, 1] and grown[0].relpath == "img009.jpg"


@pytest.mark.integration
def test_cli_eval_prints_both_tables_and_query_tuned(make_catalog, tmp_path, capsys):
    folder = make_catalog(16)
    write_labels(folder / "labels.csv", [(f"img{i:03d}.jpg", f"t{i % 2}") for i in range(16)])
    assert cli.main(["eval", str(folder), "--model", "shape-colour", "--tuned", "articleType"]) == 0
    out = capsys.readouterr().out
    assert "tuned to 'articleType', cross-fitted" in out and "untuned" in out
    assert cli.main(["query", str(folder / "img003.jpg"), "--catalog", str(folder), "--model", "shape-colour",
                     "--tuned", "articleType", "-k", "4"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.strip().splitlines()) == 4 and "fitted and cached" in captured.err
