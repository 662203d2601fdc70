"""A cache written by an older fashionrec opens in this one without re-embedding: the committed schema-1 store
(tests/data/store-v1, written by main before migrations existed) is migrated in place, its vectors kept bit for
bit, and its items get content hashes so that a photo moved afterwards keeps its vector too."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3

import numpy as np
import pytest

from desktop_app.core import decoding
from desktop_app.core.catalog_data import Catalog
from desktop_app.core.decoding import decoder_for
from desktop_app.core.embedders import create_embedder
from desktop_app.core.session import CatalogSession
from desktop_app.core.store_schema import SCHEMA_VERSION
from support import REPO

pytestmark = pytest.mark.integration
FIXTURE = REPO / "tests" / "data" / "store-v1"


@pytest.fixture(autouse=True)
def colour_texture_decoded_as_when_the_fixture_was_written(monkeypatch):
    """The fixture was written when colour-texture decoded every photo in full; since issue 22 it decodes big
    photos reduced, which its fingerprint names (so such a cache is indexed again once). The migration is tested
    with the decoding and fingerprint the fixture was written with."""
    monkeypatch.setitem(decoding.POLICY, "colour-texture", decoding.Decoding())


def _rows(path, query: str) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return list(db.execute(query))


def _old_cache_in_place(tmp_path):
    """The fixture's photos in a new folder, given the mtimes the old store recorded, and the old store where
    this version looks for the folder's colour-texture cache, its meta naming this folder: as if the same
    folder were opened again after an upgrade."""
    root = (tmp_path / "catalog").resolve()
    shutil.copytree(FIXTURE / "catalog", root)
    old_store = FIXTURE / "colour-texture.sqlite"
    for relpath, mtime_ns in _rows(old_store, "SELECT relpath, mtime_ns FROM items UNION ALL "
                                              "SELECT relpath, mtime_ns FROM skipped"):
        os.utime(root / relpath, ns=(mtime_ns, mtime_ns))
    embedder = create_embedder("colour-texture")
    target = Catalog(root).store_path(embedder.name, embedder.fingerprint)
    target.parent.mkdir(parents=True)
    shutil.copy(old_store, target)
    with contextlib.closing(sqlite3.connect(target)) as db, db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'root'", (str(root),))
    return root, embedder, target


def _stored_vectors(path) -> dict[str, bytes]:
    return dict(_rows(path, "SELECT relpath, vector FROM items"))


def test_a_schema_1_cache_is_migrated_in_place_and_nothing_is_embedded_again(tmp_path):
    root, embedder, store_path = _old_cache_in_place(tmp_path)
    assert _rows(store_path, "SELECT value FROM meta WHERE key = 'schema_version'") == [("1",)]
    before = _stored_vectors(store_path)
    assert len(before) == 5

    with CatalogSession(root, embedder) as session:
        assert session.store.rebuilt_reason is None  # migrated, not moved aside and rebuilt
        report = session.index()
        assert (report.embedded, report.decoded, report.unchanged, report.indexed) == (0, 0, 6, 5)
        assert report.hashed == 5 and [r for r, _ in report.all_skipped] == ["broken.jpg"]
        results = session.query_item("img001.jpg", k=2)
    assert len(results) == 2
    assert _rows(store_path, "SELECT value FROM meta WHERE key = 'schema_version'") == [(str(SCHEMA_VERSION),)]
    assert _stored_vectors(store_path) == before  # the very bytes the old version wrote
    assert not list(store_path.parent.glob("*.damaged-*"))

    (root / "img001.jpg").rename(root / "sub" / "renamed.jpg")  # the migrated items have hashes now
    with CatalogSession(root, embedder) as session:
        moved = session.index()
    assert (moved.embedded, moved.moved, moved.removed) == (0, 1, 0)
    assert _stored_vectors(store_path)["sub/renamed.jpg"] == before["img001.jpg"]


def test_a_schema_1_cache_is_searched_read_only_without_being_migrated(tmp_path):
    root, embedder, store_path = _old_cache_in_place(tmp_path)
    with CatalogSession(root, embedder, read_only=True) as session:
        results = session.query_item("img002.jpg", k=3)
    assert len(results) == 3 and "img002.jpg" not in [r.relpath for r in results]
    assert _rows(store_path, "SELECT value FROM meta WHERE key = 'schema_version'") == [("1",)]


def test_the_migrated_vectors_are_the_ones_this_version_computes(tmp_path):
    """The fixture's vectors are what indexing its photos now gives, so keeping them is right, not merely fast;
    its 60×80 photos are smaller than twice colour-texture's input, so today's reduced decoding gives them the
    very pixels of the full decoding they were indexed with."""
    root, embedder, store_path = _old_cache_in_place(tmp_path)
    with CatalogSession(root, embedder) as session:
        session.index()
        relpaths, kept = session.store.load_vectors()
    decode = decoder_for(embedder)
    fresh = embedder.embed(np.stack([decode(root / relpath) for relpath in relpaths]))
    np.testing.assert_allclose(kept, fresh, atol=1e-6)
    reduced = decoding.Decoder(decode.size, margin=2)  # colour-texture's policy outside this module
    assert all(np.array_equal(reduced(root / relpath), decode(root / relpath)) for relpath in relpaths)
