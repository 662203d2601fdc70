"""Label filters and the distance limit: still exact (the k nearest among the items that pass), clear errors."""

import numpy as np
import pytest

from desktop_app.core.errors import UserError
from desktop_app.core.filters import parse_conditions
from desktop_app.core.session import CatalogSession
from support import LABEL_TYPES, write_labels

TYPES = LABEL_TYPES


def _labelled(make_catalog, n=30, file_name="labels.csv"):
    return write_labels(make_catalog(n), n, file_name)


def test_parse_conditions_groups_values_by_field():
    assert parse_conditions(["articleType=Shirts", "gender = Men", "articleType=Tshirts"]) == {
        "articleType": {"Shirts", "Tshirts"}, "gender": {"Men"}}
    for bad in ("articleType", "=Shirts", "articleType="):
        with pytest.raises(UserError, match="FIELD=VALUE"):
            parse_conditions([bad])


def test_filtered_query_is_the_exact_k_nearest_among_the_items_that_pass(make_catalog, counting_embedder):
    folder = _labelled(make_catalog)
    where = parse_conditions(["articleType=Shirts", "articleType=jeans", "gender=Men"])  # any case
    with CatalogSession(folder, counting_embedder) as session:
        session.index()
        results = session.query(folder / "img000.jpg", k=4, where=where)
        relpaths, vectors = session.store.load_vectors()
        labels = session.labels
    passing = [i for i, r in enumerate(relpaths) if labels.of(r)["articleType"] in ("Shirts", "Jeans")
               and labels.of(r)["gender"] == "Men" and r != "img000.jpg"]
    distances = np.linalg.norm(vectors[passing] - vectors[relpaths.index("img000.jpg")], axis=1)
    expected = [relpaths[passing[i]] for i in np.argsort(distances, kind="stable")[:4]]
    assert [r.relpath for r in results] == expected
    assert len(passing) == 9  # Men: img000–014; Shirts or Jeans: 10 of them; minus the query itself


def test_unknown_field_or_value_lists_the_choices(make_catalog, counting_embedder):
    folder = _labelled(make_catalog)
    with CatalogSession(folder, counting_embedder) as session:
        session.index()
        with pytest.raises(UserError, match="No label field 'colour' in labels.csv; fields: articleType, gender"):
            session.query_item("img000.jpg", where=parse_conditions(["colour=Blue"]))
        with pytest.raises(UserError, match="No item has articleType=Shirt; did you mean Shirts"):
            session.query_item("img000.jpg", where=parse_conditions(["articleType=Shirt"]))
        with pytest.raises(UserError, match="values of gender: Men, Women"):
            session.query_item("img000.jpg", where=parse_conditions(["gender=Kids"]))
    assert session.labels.values("articleType") == sorted(TYPES)


def test_filters_without_labels_say_where_labels_come_from(make_catalog, counting_embedder):
    folder = make_catalog(4, name="plain")
    with CatalogSession(folder, counting_embedder) as session:
        session.index()
        assert session.labels is None
        with pytest.raises(UserError, match="Filters need labels: put a labels.csv"):
            session.query_item("img000.jpg", where=parse_conditions(["articleType=Shirts"]))


def test_query_labels_option_is_the_file_its_filters_read(make_catalog, tmp_path, capsys):
    from desktop_app import cli

    folder = make_catalog(6, name="plain")  # no labels.csv in or beside it
    other = tmp_path / "elsewhere.csv"
    other.write_text("filename,articleType\nimg001.jpg,Shirts\nimg002.jpg,Shirts\nimg003.jpg,Jeans\n")
    assert cli.main(["index", str(folder), "--model", "colour-texture"]) == 0
    capsys.readouterr()
    args = ["query", str(folder / "img000.jpg"), "--catalog", str(folder), "--model", "colour-texture", "-k", "5"]
    assert cli.main(args + ["--labels", str(other), "--where", "articleType=Shirts"]) == 0
    assert [line.rsplit("/", 1)[1] for line in capsys.readouterr().out.splitlines()] in (
        ["img001.jpg", "img002.jpg"], ["img002.jpg", "img001.jpg"])
    assert cli.main(args + ["--where", "articleType=Shirts"]) == 1
    assert "Filters need labels" in capsys.readouterr().err


def test_max_distance_keeps_only_close_enough_results(make_catalog, counting_embedder):
    folder = _labelled(make_catalog)
    with CatalogSession(folder, counting_embedder) as session:
        session.index()
        everything = session.query_item("img000.jpg", k=10)
        limit = everything[3].distance
        close = session.query_item("img000.jpg", k=10, max_distance=limit)
        none = session.query_item("img000.jpg", k=10, max_distance=everything[0].distance / 2)
    assert close == everything[:4] and none == []


def test_catalog_items_list_every_item_with_its_labels_filterable(make_catalog, counting_embedder):
    folder = _labelled(make_catalog)
    with CatalogSession(folder, counting_embedder) as session:
        session.index()
        everything = session.items()
        women_tshirts = session.items(parse_conditions(["gender=Women", "articleType=Tshirts"]))
    assert [item.relpath for item in everything] == [f"img{i:03d}.jpg" for i in range(30)]
    assert everything[1].labels == {"articleType": "Jeans", "gender": "Men"}
    assert [item.relpath for item in women_tshirts] == [f"img{i:03d}.jpg" for i in range(17, 30, 3)]
