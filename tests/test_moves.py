"""Moved and renamed photos keep their vectors (core/moves.py): a stored item gone from one path and a new path
with the same size and content hash are one photo, re-pointed in the store, not embedded again."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from desktop_app import cli
from desktop_app.core.catalog import HASH_SAMPLE, content_hash
from desktop_app.core.session import CatalogSession
from support import make_image

pytestmark = pytest.mark.integration


def _vectors(session) -> dict[str, np.ndarray]:
    relpaths, vectors = session.store.load_vectors()
    return dict(zip(relpaths, vectors, strict=True))


def test_photos_moved_into_a_subfolder_or_renamed_are_re_pointed_not_embedded(make_catalog, counting_embedder):
    folder = make_catalog(10)
    with CatalogSession(folder, counting_embedder) as session:
        session.index()
        before = _vectors(session)
        embedded = counting_embedder.embedded
        for i in range(4):  # into another subfolder, renamed on the way
            os.renames(folder / f"img{i:03d}.jpg", folder / "moved" / f"photo-{i}.jpg")
        (folder / "img009.jpg").rename(folder / "last.jpg")
        report = session.index()
        after = _vectors(session)
    assert (report.moved, report.embedded, report.removed, report.unchanged) == (5, 0, 0, 5)
    assert counting_embedder.embedded == embedded and report.decoded == 0
    assert sorted(after) == sorted([f"moved/photo-{i}.jpg" for i in range(4)] + ["last.jpg"]
                                   + [f"img{i:03d}.jpg" for i in range(4, 9)])
    for i in range(4):
        np.testing.assert_array_equal(after[f"moved/photo-{i}.jpg"], before[f"img{i:03d}.jpg"])
    np.testing.assert_array_equal(after["last.jpg"], before["img009.jpg"])


def test_a_photo_moved_and_changed_is_embedded_and_a_copy_is_not_a_move(make_catalog, counting_embedder):
    folder = make_catalog(6)
    with CatalogSession(folder, counting_embedder) as session:
        session.index()
        before = _vectors(session)
        (folder / "img000.jpg").unlink()
        make_image(folder / "sub" / "img000.jpg", seed=100)  # another picture under the moved name
        shutil.copy(folder / "img001.jpg", folder / "copy-of-1.jpg")  # the original stays: nothing is gone
        report = session.index()
        after = _vectors(session)
    assert (report.moved, report.embedded, report.removed) == (0, 2, 1)
    assert not np.array_equal(after["sub/img000.jpg"], before["img000.jpg"])
    np.testing.assert_array_equal(after["copy-of-1.jpg"], before["img001.jpg"])  # same pixels, embedded again


def test_identical_photos_moved_together_each_keep_a_vector(make_catalog, counting_embedder):
    folder = make_catalog(3)
    shutil.copy(folder / "img000.jpg", folder / "twin.jpg")
    with CatalogSession(folder, counting_embedder) as session:
        session.index()
        os.renames(folder / "img000.jpg", folder / "a" / "one.jpg")
        os.renames(folder / "twin.jpg", folder / "a" / "two.jpg")
        report = session.index()
        assert (report.moved, report.embedded, session.store.count()) == (2, 0, 4)


def test_the_content_hash_reads_both_ends_of_a_big_file(tmp_path):
    body = bytearray(os.urandom(3 * HASH_SAMPLE))
    path = tmp_path / "big.bin"
    path.write_bytes(body)
    digest = content_hash(path, len(body))
    body[-1] ^= 1  # the last byte differs
    path.write_bytes(body)
    assert content_hash(path, len(body)) != digest
    body[-1] ^= 1
    body[len(body) // 2] ^= 1  # the middle is not read: a changed photo changes size or ends as well
    path.write_bytes(body)
    assert content_hash(path, len(body)) == digest
    assert content_hash(tmp_path / "gone.bin", 10) is None


def test_index_says_how_many_were_moved(make_catalog, capsys):
    folder = make_catalog(4)
    assert cli.main(["index", str(folder), "--model", "colour-texture"]) == 0
    os.renames(folder / "img002.jpg", folder / "new" / "img002.jpg")
    capsys.readouterr()
    assert cli.main(["index", str(folder), "--model", "colour-texture"]) == 0
    assert "0 embedded, 3 unchanged, 1 moved, 0 skipped, 0 removed; 4 searchable" in capsys.readouterr().out
