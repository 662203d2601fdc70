"""The Catalog object (core/catalog_data.py): the one place that names a catalog's files in the data dir."""

import pytest

from desktop_app.core import caches
from desktop_app.core.catalog_data import Catalog
from desktop_app.core.errors import UserError
from desktop_app.core.session import CatalogSession
from support import CountingEmbedder

pytestmark = pytest.mark.unit


def test_every_file_of_a_store_is_named_by_the_catalog(make_catalog, data_dir):
    catalog = Catalog.open(make_catalog(2))
    assert catalog.folder.parent == data_dir / "catalogs" and catalog.folder.name.startswith("catalog-")
    embedder = CountingEmbedder()
    path = catalog.store_path(embedder.name, embedder.fingerprint)
    assert path.parent == catalog.folder and Catalog.model_of(path) == "tiny"
    assert path != catalog.store_path(embedder.name, embedder.fingerprint + " other weights")
    assert not catalog.has_store(embedder)
    with CatalogSession(catalog, embedder) as session:
        assert session.catalog is catalog and session.store.path == path and catalog.has_store(embedder)
    assert {p.parent for p in (catalog.lock_path(path), catalog.compact_dir(path),
                               catalog.tuned_path(path, "article Type"), catalog.calibration_path)} == {catalog.folder}
    assert catalog.tuned_path(path, "a") != catalog.tuned_path(path, "b")
    assert catalog.store_paths() == [path]


def test_a_catalog_of_a_missing_folder_is_refused_but_its_files_can_still_be_named(tmp_path):
    with pytest.raises(UserError, match="not found"):
        Catalog.open(tmp_path / "gone")
    assert Catalog(tmp_path / "gone").folder == Catalog(tmp_path / "gone").folder


def test_forget_removes_every_file_made_from_the_stores(make_catalog):
    folder = make_catalog(3)
    with CatalogSession(folder, CountingEmbedder()) as session:
        session.index()
        path, catalog = session.store.path, session.catalog
    made = [catalog.tuned_path(path, "articleType"), catalog.compact_dir(path) / "meta.json"]
    for file in made:
        file.parent.mkdir(exist_ok=True)
        file.write_bytes(b"x")
    assert caches.forget_catalog(folder.resolve()) == 1
    assert not [p for p in catalog.folder.iterdir() if not p.name.endswith(".lock")]


def test_the_labels_file_given_wins_over_the_one_found(make_catalog, tmp_path):
    folder = make_catalog(1)
    assert Catalog.open(folder).labels_path is None
    (folder / "labels.csv").write_text("filename,articleType\n")
    assert Catalog.open(folder).labels_path == folder.resolve() / "labels.csv"
    other = tmp_path / "mine.csv"
    assert Catalog.open(folder, labels_file=other).labels_path == other
