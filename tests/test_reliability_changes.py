"""Reliability (issue 7): files that change while they are indexed — deleted, replaced, rewritten after being
read, gone for a run, unreadable, a whole folder unplugged or a subfolder unreadable — never cost the cache.
Every image here is generated in the test; the small CountingEmbedder embeds them."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.catalog import scan
from desktop_app.core.errors import UserError
from desktop_app.core.images import UnreadableFile, load_rgb
from desktop_app.core.session import CatalogSession
from support import CountingEmbedder, make_image


def _rewrite(path: Path, seed: int) -> None:
    """New content and, for sure, a new mtime (a same-second rewrite could keep it on coarse clocks)."""
    make_image(path, seed=seed)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))


def _tiny_vector(path: Path) -> np.ndarray:
    return CountingEmbedder().embed(load_rgb(path, (8, 8))[None])[0]


def test_files_deleted_or_replaced_between_scan_and_decode(make_catalog, monkeypatch):
    folder = make_catalog(6)
    def scan_then_change_files(root, *more):
        files = scan(root, *more)
        (folder / "img001.jpg").unlink()
        _rewrite(folder / "img002.jpg", seed=50)
        (folder / "img003.jpg").write_bytes(b"replaced by a broken download")
        return files

    with CatalogSession(folder, CountingEmbedder()) as session:
        report = session.index(batch_size=2, scan=scan_then_change_files)
        relpaths, vectors = session.store.load_vectors()
        assert dict(report.all_skipped) == {"img001.jpg": "file not found (deleted or moved)",
                                        "img003.jpg": "not an image Pillow can read (unknown or corrupt format)"}
        assert relpaths == ["img000.jpg", "img002.jpg", "img004.jpg", "img005.jpg"]
        assert np.array_equal(vectors[1], _tiny_vector(folder / "img002.jpg"))  # the new content

        truth = session.index(batch_size=2)
    assert (truth.embedded, truth.removed, truth.indexed) == (0, 1, 4)
    assert dict(truth.all_skipped) == {"img003.jpg": "not an image Pillow can read (unknown or corrupt format)"}


def test_file_changed_after_it_was_read_is_embedded_again_next_run(make_catalog, monkeypatch):
    folder = make_catalog(3)
    def load_then_change(path):
        pixels = load_rgb(path, CountingEmbedder.input_size)
        if Path(path).name == "img001.jpg":
            _rewrite(Path(path), seed=77)
        elif Path(path).name == "img002.jpg":
            Path(path).unlink()
        return pixels

    with CatalogSession(folder, CountingEmbedder()) as session:
        first = session.index(decode=load_then_change)
        assert first.indexed == 3  # what was read is stored, under the identity seen before reading
        second = session.index()
        relpaths, vectors = session.store.load_vectors()
    assert (second.embedded, second.removed, second.unchanged) == (1, 1, 1)
    assert relpaths == ["img000.jpg", "img001.jpg"]
    assert np.array_equal(vectors[1], _tiny_vector(folder / "img001.jpg"))


def test_a_file_missing_during_a_run_is_indexed_once_it_is_back(make_catalog, tmp_path, monkeypatch):
    """A drive unplugged mid-run, a sync client moving files: the same file (same size and mtime)
    coming back must be indexed, not remembered as skipped forever."""
    folder = make_catalog(4)
    def scan_then_unplug(root, *more):
        files = scan(root, *more)
        os.rename(folder / "img002.jpg", tmp_path / "img002.jpg")  # rename keeps size and mtime
        return files

    with CatalogSession(folder, CountingEmbedder()) as session:
        first = session.index(scan=scan_then_unplug)
        os.rename(tmp_path / "img002.jpg", folder / "img002.jpg")
        back = session.index()
    assert dict(first.all_skipped) == {"img002.jpg": "file not found (deleted or moved)"}
    assert (back.embedded, back.all_skipped, back.indexed) == (1, [], 4)


def test_an_unreadable_file_is_tried_again_after_its_permissions_are_fixed(make_catalog, monkeypatch):
    """chmod does not change a file's mtime, so an access failure must not be remembered by identity.
    (Simulated: we run as root in CI, and root reads chmod-000 files.)"""
    folder = make_catalog(3)

    def permission_denied(path):
        if Path(path).name == "img001.jpg":
            raise UnreadableFile("permission denied (the file is not readable)")
        return load_rgb(path, CountingEmbedder.input_size)

    with CatalogSession(folder, CountingEmbedder()) as session:
        first = session.index(decode=permission_denied)
        still = session.index(decode=permission_denied)
        fixed = session.index()  # the person fixed the permissions
    assert dict(first.all_skipped) == {"img001.jpg": "permission denied (the file is not readable)"}
    assert dict(still.newly_skipped) == dict(first.all_skipped) and still.unchanged == 2
    assert (fixed.embedded, fixed.all_skipped, fixed.indexed) == (1, [], 3)


def test_an_unplugged_or_emptied_catalog_folder_never_wipes_the_cache(make_catalog, tmp_path):
    folder = make_catalog(5)
    with CatalogSession(folder, CountingEmbedder()) as session:
        session.index()
        os.rename(folder, tmp_path / "elsewhere")  # the drive is gone while the app is open
        with pytest.raises(UserError, match="is not available .* Its cache was kept"):
            session.index()
        folder.mkdir()  # an empty mount point where the drive used to be
        with pytest.raises(UserError, match="has no images now .* The cache of its 5 items was kept"):
            session.index()
        folder.rmdir()
        os.rename(tmp_path / "elsewhere", folder)  # plugged in again
        back = session.index()
    assert (back.embedded, back.unchanged, back.removed, back.indexed) == (0, 5, 0, 5)


def test_an_unreadable_subfolder_is_listed_and_its_cache_kept(make_catalog, monkeypatch):
    """A network share or a subfolder without permission (simulated: root can list anything)."""
    folder = make_catalog(3)
    for i in range(2):
        make_image(folder / "summer" / f"dress{i}.jpg", seed=20 + i)
    with CatalogSession(folder, CountingEmbedder()) as session:
        assert session.index().indexed == 5
        real_scandir = os.scandir

        def scandir(path="."):
            if os.fspath(path).endswith("summer"):
                raise PermissionError(13, "Permission denied", os.fspath(path))
            return real_scandir(path)

        monkeypatch.setattr(os, "scandir", scandir)
        blocked = session.index()
        monkeypatch.setattr(os, "scandir", real_scandir)
        readable = session.index()
    assert (blocked.removed, blocked.indexed) == (0, 5)  # summer/*.jpg stay searchable
    assert blocked.all_skipped == [("summer", "folder could not be read (Permission denied)")]
    assert (readable.embedded, readable.unchanged, readable.all_skipped, readable.indexed) == (0, 5, [], 5)
