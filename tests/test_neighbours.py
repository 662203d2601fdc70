"""Similar items for every product: the blocked all-pairs search equals the single-query search, and the
export writes complete CSV / JSON Lines files or nothing."""

import csv
import json

import numpy as np
import pytest

from desktop_app.core.embedders.base import l2_normalise
from desktop_app.core.errors import UserError
from desktop_app.core.export import export_neighbours
from desktop_app.core.neighbours import nearest_neighbours_all
from desktop_app.core.search import Searcher
from desktop_app.core.session import CatalogSession


def _vectors_with_copies(n=700, dim=48, seed=0):
    rng = np.random.default_rng(seed)
    vectors = l2_normalise(rng.normal(size=(n, dim)))
    vectors[10:14] = vectors[n // 2]  # exact copies: ties broken by position in both searches
    vectors[20:25] = l2_normalise(vectors[n - 1] + 1e-5 * rng.normal(size=(5, dim)))  # near-copies
    return vectors


@pytest.mark.parametrize("block", [38, 64, 1024])  # 38: a last block smaller than the candidates
def test_all_pairs_search_gives_the_single_query_search_neighbours_and_distances(block):
    vectors = _vectors_with_copies()
    relpaths = [f"{i:04d}" for i in range(len(vectors))]
    searcher = Searcher(relpaths, vectors)

    table = nearest_neighbours_all(vectors, 5, block=block)

    for i, relpath in enumerate(relpaths):
        results = searcher.search(vectors[i], 5, exclude=relpath)
        assert [int(r.relpath) for r in results] == table.indices[i].tolist(), i
        assert [r.distance for r in results] == table.distances[i].tolist(), i  # the same exact step


def test_all_pairs_search_equals_brute_force_and_leaves_each_item_out():
    vectors = _vectors_with_copies(n=300, seed=1)
    table = nearest_neighbours_all(vectors, 7, block=50)
    distances = np.linalg.norm(vectors[:, None].astype(np.float64) - vectors[None].astype(np.float64), axis=2)
    np.fill_diagonal(distances, np.inf)
    expected = np.sort(distances, axis=1)[:, :7]
    assert np.allclose(table.distances, expected, atol=1e-9)
    assert not (table.indices == np.arange(300)[:, None]).any()


def test_k_shrinks_to_the_other_items_and_progress_and_cancel_are_reported():
    vectors = _vectors_with_copies(n=130, seed=2)
    assert nearest_neighbours_all(vectors[:3], 5).k == 2
    seen = []
    nearest_neighbours_all(vectors, 3, block=50, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, 6) for i in range(1, 7)]  # 3 diagonal tiles + 3 off-diagonal
    assert nearest_neighbours_all(vectors, 3, block=50, should_cancel=lambda: True) is None


def _labelled_catalog(make_catalog, n=12):
    folder = make_catalog(n)
    with open(folder / "labels.csv", "w", newline="") as f:
        f.write("filename,articleType,baseColour\n")
        for i in range(n):
            f.write(f"img{i:03d}.jpg,{'Shirts' if i % 2 else 'Jeans'},{'Blue' if i < 6 else ''}\n")
    return folder


def test_export_csv_and_jsonl_with_label_columns(make_catalog, counting_embedder, tmp_path):
    folder = _labelled_catalog(make_catalog)
    with CatalogSession(folder, counting_embedder) as session:
        session.index()
        csv_report = export_neighbours(session, tmp_path / "similar.csv", k=3)
        jsonl_report = export_neighbours(session, tmp_path / "similar.jsonl", k=3)
        expected = {r: session.query_item(r, 3) for r in session.searcher.relpaths}

    assert csv_report.rows == jsonl_report.rows == 12 * 3
    with open(tmp_path / "similar.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["item", "rank", "neighbour", "distance", "item_articleType", "neighbour_articleType",
                             "item_baseColour", "neighbour_baseColour"]
    lines = [json.loads(line) for line in (tmp_path / "similar.jsonl").read_text().splitlines()]
    assert [{k: str(v) for k, v in line.items()} for line in lines] == rows
    for row in rows:
        result = expected[row["item"]][int(row["rank"]) - 1]
        assert row["neighbour"] == result.relpath != row["item"]
        assert float(row["distance"]) == pytest.approx(result.distance, abs=1e-6)
        number = int(row["neighbour"][3:6])
        assert row["neighbour_articleType"] == ("Shirts" if number % 2 else "Jeans")
        assert row["neighbour_baseColour"] == ("Blue" if number < 6 else "")


def test_export_with_a_filter_keeps_items_and_neighbours_to_it(make_catalog, counting_embedder, tmp_path):
    folder = _labelled_catalog(make_catalog)
    with CatalogSession(folder, counting_embedder) as session:
        session.index()
        report = export_neighbours(session, tmp_path / "shirts.jsonl", k=10, where={"articleType": {"Shirts"}})
    lines = [json.loads(line) for line in (tmp_path / "shirts.jsonl").read_text().splitlines()]
    assert report.items == 6 and report.k == 5 and len(lines) == 30
    assert ({line["item_articleType"] for line in lines} == {line["neighbour_articleType"] for line in lines}
            == {"Shirts"})


def test_export_refuses_unknown_formats_and_leaves_no_file_when_cancelled(make_catalog, counting_embedder, tmp_path):
    folder = make_catalog(6)
    with CatalogSession(folder, counting_embedder) as session:
        session.index()
        with pytest.raises(UserError, match=r"\.csv or \.jsonl"):
            export_neighbours(session, tmp_path / "similar.xlsx")
        (tmp_path / "old.csv").write_text("kept\n")
        report = export_neighbours(session, tmp_path / "old.csv", should_cancel=lambda: True)
    assert report.cancelled
    assert (tmp_path / "old.csv").read_text() == "kept\n"  # the previous file is untouched
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["old.csv"]  # no temporary left


def test_an_interrupted_write_leaves_no_half_file(make_catalog, counting_embedder, tmp_path, monkeypatch):
    from desktop_app.core import export

    folder = make_catalog(6)

    def rows_then_interrupt(*args):
        yield {"item": "a", "rank": 1, "neighbour": "b", "distance": 0.0}
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "neighbour_rows", rows_then_interrupt)
    with CatalogSession(folder, counting_embedder) as session:
        session.index()
        with pytest.raises(KeyboardInterrupt):
            export_neighbours(session, tmp_path / "similar.csv")
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == []
