"""core.reader: a read-only twin of a CatalogSession that searches what is committed while the session indexes."""

from __future__ import annotations

import threading

import pytest

from desktop_app.core import compact_index, reader
from desktop_app.core.errors import UserError
from desktop_app.core.reader import CatalogReader
from desktop_app.core.session import CatalogSession
from desktop_app.core.store import Embedded
from support import make_image

pytestmark = pytest.mark.unit


def test_the_reader_answers_from_its_read_until_a_refresh_finds_the_store_changed(make_catalog, counting_embedder):
    folder = make_catalog(6)
    with CatalogSession(folder, counting_embedder) as session:
        session.index()
        twin = CatalogReader(session)
        assert len(twin.searcher) == 6 and twin.query_item("img002.jpg", k=3)[0].relpath != "img002.jpg"
        assert not twin.refresh()  # nothing changed

        for i in range(6, 10):
            make_image(folder / f"img{i:03d}.jpg", seed=i)
        session.index()
        assert len(twin.searcher) == 6 and twin.stored() == 10  # still the earlier read
        assert twin.refresh() and len(twin.searcher) == 10
        assert [r.relpath for r in twin.query(folder / "img008.jpg", k=2)] == \
            [r.relpath for r in session.query(folder / "img008.jpg", k=2)]
        twin.close()


def test_the_reader_cannot_write(make_catalog, counting_embedder):
    with CatalogSession(make_catalog(3), counting_embedder) as session:
        session.index()
        twin = CatalogReader(session)
        with pytest.raises(TypeError):
            twin.index()
        with pytest.raises(UserError, match="readonly"):
            twin.store.remove(["img000.jpg"])
        assert session.store.count() == 3
        twin.close()


def test_a_read_sees_whole_batches_while_the_writer_commits(make_catalog, counting_embedder):
    """Reads racing a writer that commits batches of 10: every read holds a multiple of 10 items."""
    folder = make_catalog(1)
    with CatalogSession(folder, counting_embedder) as session:
        session.index()
        twin = CatalogReader(session)
        vector = twin.searcher.vector_of("img000.jpg")
        done = threading.Event()

        def write() -> None:
            for batch in range(40):
                session.store.commit_batch([Embedded(f"b{batch:02d}-{i}.jpg", 1, 1, vector) for i in range(10)], [])
            done.set()

        writer = threading.Thread(target=write)
        writer.start()
        sizes = set()
        while not done.is_set():
            twin.refresh()
            sizes.add(len(twin.searcher))
        writer.join()
        assert all((size - 1) % 10 == 0 for size in sizes)
        twin.refresh()
        assert len(twin.searcher) == 401
        twin.close()


def test_a_big_catalog_is_searched_capped_until_its_compact_index_is_as_new_as_the_store(
        make_catalog, counting_embedder, monkeypatch):
    per_item = counting_embedder.dim * 4
    monkeypatch.setattr(compact_index, "COMPACT_THRESHOLD_BYTES", 8 * per_item)
    monkeypatch.setattr(reader, "COMPACT_THRESHOLD_BYTES", 8 * per_item)
    folder = make_catalog(12)
    with CatalogSession(folder, counting_embedder) as session:
        session.index(batch_size=4)  # builds the compact index at its end (the catalog is "big")
        twin = CatalogReader(session)
        assert isinstance(twin.searcher, compact_index.CompactSearcher) and len(twin.searcher) == 12

        for i in range(12, 14):
            make_image(folder / f"img{i:03d}.jpg", seed=i)
        session.store.commit_batch([Embedded("extra.jpg", 1, 1, twin.searcher.vector_of("img000.jpg"))], [])
        assert twin.refresh()  # the compact index is stale now: the first 8 by path, exactly
        assert len(twin.searcher) == 8 and twin.searcher.relpaths == sorted(twin.searcher.relpaths)
        twin.close()
