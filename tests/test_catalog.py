import os

import pytest

from desktop_app.core.catalog import catalog_root, scan
from desktop_app.core.errors import UserError
from support import make_image


def test_scan_finds_all_image_extensions_any_case_sorted(tmp_path):
    names = ["b.JPG", "a.jpeg", "c.png", "d.WebP", "e.bmp", "f.gif", "g.tif", "h.TIFF", "sub/deeper/i.jpg"]
    for i, name in enumerate(names):
        make_image(tmp_path / name, seed=i, fmt="PNG")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "readme.md").write_text("x")

    found = [f.relpath for f in scan(tmp_path)]

    assert found == sorted(names)


def test_scan_skips_hidden_files_and_folders(tmp_path):
    make_image(tmp_path / "visible.jpg", 1)
    make_image(tmp_path / ".hidden.jpg", 2)
    make_image(tmp_path / ".thumbs" / "x.jpg", 3)
    assert [f.relpath for f in scan(tmp_path)] == ["visible.jpg"]


def test_scan_records_size_and_mtime(tmp_path):
    path = make_image(tmp_path / "a.jpg", 1)
    (entry,) = scan(tmp_path)
    st = os.stat(path)
    assert (entry.size, entry.mtime_ns) == (st.st_size, st.st_mtime_ns)


def test_scan_survives_symlink_loop_and_ignores_folder_named_like_image(tmp_path):
    make_image(tmp_path / "sub" / "a.jpg", 1)
    os.symlink(tmp_path, tmp_path / "sub" / "loop")
    (tmp_path / "folder.jpg").mkdir()
    assert [f.relpath for f in scan(tmp_path)] == ["sub/a.jpg"]


def test_catalog_root_errors_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="not found"):
        catalog_root(tmp_path / "missing")
    (tmp_path / "file.jpg").write_bytes(b"x")
    with pytest.raises(UserError, match="Not a folder"):
        catalog_root(tmp_path / "file.jpg")
    assert catalog_root(tmp_path) == tmp_path.resolve()
