"""Similarity tuned to labels on a real catalog: the fit is cached per store and labels file and refitted when
either changes, queries in a row project the catalog once, and the CLI's eval/query --tuned."""

import csv

import numpy as np
import pytest

from desktop_app import cli
from desktop_app.core import tuning
from desktop_app.core.labels import read_label_table
from desktop_app.core.query import Query

pytestmark = pytest.mark.integration


def write_labels(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["filename", "articleType"])
        writer.writerows(rows)


def tuned_to(session, labels_path):
    """The store's projection tuned to articleType of the labels file as it is now (from its cache file or fitted)."""
    return tuning.tuned_projection(session.store, read_label_table(labels_path, session.searcher.relpaths),
                                   "articleType")


def test_cached_per_store_and_labels_file_and_refitted_when_either_changes(make_catalog, tmp_path):
    from desktop_app.core.embedders import create_embedder
    from desktop_app.core.session import CatalogSession

    folder = make_catalog(12)
    labels_path = tmp_path / "labels.csv"
    write_labels(labels_path, [(f"img{i:03d}.jpg", f"t{i % 3}") for i in range(10)])  # 2 items without a label
    with CatalogSession(folder, create_embedder("colour-texture")) as session:
        session.index()
        first = tuned_to(session, labels_path)
        assert first.fitted_now and first.labelled == 10
        cached = tuned_to(session, labels_path)
        assert not cached.fitted_now
        np.testing.assert_array_equal(cached.projection.matrix, first.projection.matrix)
        with np.load(tuning.cache_path(session.store, "articleType"), allow_pickle=False) as data:
            assert set(data.files) == {"key", "mean", "matrix"}
        write_labels(labels_path, [(f"img{i:03d}.jpg", f"t{i % 2}") for i in range(10)])
        assert tuned_to(session, labels_path).fitted_now  # labels changed
        assert not tuned_to(session, labels_path).fitted_now
        make_catalog(13)  # one more image: the store changes once indexed
        session.index()
        refit = tuned_to(session, labels_path)
        assert refit.fitted_now
        results = session.search(Query(folder / "img011.jpg", k=12, tuned="articleType"), refit)  # unlabelled
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
    fits = []
    fit = tuning.fit_projection
    monkeypatch.setattr(tuning, "fit_projection", lambda *args: fits.append(len(args[0])) or fit(*args))
    query = Query(folder / "img001.jpg", k=3, tuned="articleType")
    with CatalogSession(folder, create_embedder("colour-texture"), labels_file=labels_path) as session:
        session.index()
        first = session.search(query)
        again = session.search(query)
        assert again == first and projected_rows == [9, 1, 1]  # the catalog once, then each query photo
        assert fits == [9]  # fitted once, kept by the session
        make_catalog(10)
        session.index()
        grown = session.search(Query(folder / "img009.jpg", k=3, tuned="articleType", exclude_self=False))
        assert projected_rows[-2:] == [10, 1] and grown[0].relpath == "img009.jpg"
        assert fits == [9, 9]  # the store changed: fitted again (img009 has no label)


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
