"""`match`: a folder of photos against a catalog, in batches, nothing added to the store; and the batched search
it uses (Searcher.search_many) against one search per photo."""

import csv
import json

import numpy as np
import pytest

from desktop_app.core.matching import match_folder
from desktop_app.core.search import Searcher
from desktop_app.core.session import CatalogSession
from support import CountingEmbedder, reencoded_copies, run_cli, write_labels

pytestmark = pytest.mark.integration


def test_match_writes_each_photos_nearest_items_with_labels_and_skips_bad_files(make_catalog, tmp_path, capsys):
    catalog = write_labels(make_catalog(12), 12)
    queries = reencoded_copies(catalog, tmp_path / "supplier" / "sub", [1, 5, 7])
    (tmp_path / "supplier" / "broken.jpg").write_bytes(b"not a photo")
    code, out, _ = run_cli(capsys, "match", str(tmp_path / "supplier"), "--catalog", str(catalog), "-k", "2",
                           "--out", str(tmp_path / "matches.csv"))
    with open(tmp_path / "matches.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert code == 0 and "wrote 6 rows" in out and "1 skipped" in out
    assert "skipped broken.jpg: not an image Pillow can read" in out
    assert list(rows[0]) == ["query", "rank", "item", "distance", "articleType", "gender"]
    firsts = {r["query"]: (r["item"], r["articleType"]) for r in rows if r["rank"] == "1"}
    assert firsts == {"sub/copy001.jpg": ("img001.jpg", "Jeans"), "sub/copy005.jpg": ("img005.jpg", "Tshirts"),
                      "sub/copy007.jpg": ("img007.jpg", "Jeans")}
    assert not list(tmp_path.glob(".matches.csv.*"))  # written atomically: no partial left
    with CatalogSession(catalog, cli_embedder()) as session:  # the query photos were not added
        assert len(session.searcher) == 12
    assert queries.is_dir()


def cli_embedder():
    from desktop_app.core.embedders import create_embedder

    return create_embedder("colour-texture")


def test_match_json_and_max_distance_give_a_photo_with_no_close_item_an_empty_row(make_catalog, tmp_path, capsys):
    catalog = make_catalog(6)
    reencoded_copies(catalog, tmp_path / "q", [2])
    code, out, err = run_cli(capsys, "match", str(tmp_path / "q"), "--catalog", str(catalog), "--json",
                             "--max-distance", "0")
    assert code == 0 and json.loads(out) == [{"query": "copy002.jpg", "rank": "", "item": "", "distance": ""}]
    assert "1 with no item within distance 0" in err


def test_match_refuses_a_missing_output_choice_and_an_empty_folder(make_catalog, tmp_path, capsys, data_dir):
    catalog = make_catalog(3)
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(capsys, "match", str(tmp_path / "empty"), "--catalog", str(catalog))
    assert code == 2 and "one of the arguments --out --json is required" in err
    code, _, err = run_cli(capsys, "match", str(tmp_path / "empty"), "--catalog", str(catalog), "--json")
    assert code == 1 and err.startswith("fashionrec: No images found in") and not list(data_dir.rglob("*.sqlite"))


def test_match_embeds_in_batches_and_finds_what_one_query_per_photo_finds(make_catalog, tmp_path, data_dir):
    catalog = make_catalog(20)
    queries = reencoded_copies(catalog, tmp_path / "q", range(0, 14, 2))  # 7 photos
    embedder = CountingEmbedder()
    with CatalogSession(catalog, embedder) as session:
        session.index()
        embedder.batches = embedder.embedded = 0
        seen = []
        matches = match_folder(session, queries, k=3, batch_size=3, progress=seen.append)
        assert (embedder.embedded, embedder.batches) == (7, 3)  # 3 + 3 + 1: batches, not one call per photo
        assert [p.done for p in seen] == [0, 3, 6, 7] and seen[-1].total == 7
        for query, results in zip(matches.queries, matches.results, strict=True):
            assert results == session.query(queries / query, k=3)
        assert len(session.searcher) == 20 and session.store.count() == 20


def test_match_stops_between_batches_when_cancelled(make_catalog, tmp_path):
    catalog = make_catalog(8)
    queries = reencoded_copies(catalog, tmp_path / "q", range(8))
    with CatalogSession(catalog, CountingEmbedder()) as session:
        session.index()
        matches = match_folder(session, queries, batch_size=2, should_cancel=lambda: True)
    assert matches.cancelled and matches.queries == ["copy000.jpg", "copy001.jpg"]


def _brute_force(vectors, query, k, exclude=None, allowed=None, max_distance=None):
    """(relpath, distance) of the k nearest by float64 distances, ties in position order: the reference."""
    distances = np.linalg.norm(vectors.astype(np.float64) - query.astype(np.float64), axis=1)
    keep = np.ones(len(vectors), bool) if allowed is None else allowed.copy()
    if exclude is not None:
        keep[int(exclude[4:])] = False
    order = [i for i in np.lexsort((np.arange(len(vectors)), distances)) if keep[i]][:k]
    return [(f"item{i:03d}", round(distances[i], 9)) for i in order
            if max_distance is None or distances[i] <= max_distance]


def test_search_many_gives_each_rows_exact_nearest_items():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(300, 16)).astype(np.float32)
    vectors[7] = vectors[3]  # an exact tie
    searcher = Searcher([f"item{i:03d}" for i in range(300)], vectors)
    queries = np.concatenate([rng.normal(size=(5, 16)), vectors[[3]]]).astype(np.float32)
    allowed = rng.random(300) < 0.5
    few = np.zeros(300, bool)
    few[[4, 9]] = True
    for options in ({}, {"exclude": "item003"}, {"allowed": allowed}, {"max_distance": 5.0}, {"allowed": few},
                    {"allowed": allowed, "exclude": "item010", "max_distance": 5.5}):
        found = searcher.search_many(queries, 6, **options)
        assert [[(r.relpath, round(r.distance, 9)) for r in rows] for rows in found] == \
            [_brute_force(vectors, q, 6, **options) for q in queries]
        assert [[r.rank for r in rows] for rows in found] == [list(range(1, len(rows) + 1)) for rows in found]
