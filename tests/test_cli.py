import json

import pytest

from desktop_app import cli


def test_missing_folder_is_one_line_and_exit_1(tmp_path, capsys):
    assert cli.main(["index", str(tmp_path / "nope"), "--random-weights"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"fashionrec: Catalog folder not found: {tmp_path / 'nope'}"]


def test_folder_without_images_is_a_user_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert cli.main(["index", str(tmp_path / "empty"), "--random-weights"]) == 1
    assert "No images found" in capsys.readouterr().err


def test_bad_weights_file_is_a_user_error(tmp_path, capsys):
    bogus = tmp_path / "w.h5"
    bogus.write_text("nope")
    (tmp_path / "c").mkdir()
    assert cli.main(["index", str(tmp_path / "c"), "--weights", str(bogus)]) == 1
    assert "Not a Keras HDF5 weights file" in capsys.readouterr().err


@pytest.mark.heavy
def test_index_query_info_forget_end_to_end(make_catalog, capsys):
    folder = make_catalog(9)
    (folder / "broken.jpg").write_bytes(b"")
    assert cli.main(["index", str(folder), "--random-weights", "--batch-size", "4"]) == 0
    out = capsys.readouterr()
    assert "9 embedded" in out.out and "1 skipped" in out.out and "broken.jpg: empty file" in out.out
    assert "indexing 10/10 (100%)" in out.err

    assert cli.main(["index", str(folder), "--random-weights"]) == 0
    again = capsys.readouterr()
    assert "0 embedded, 10 unchanged" in again.out
    assert not any(line.startswith("indexing") for line in again.err.splitlines())

    assert cli.main(["query", str(folder / "img004.jpg"), "--catalog", str(folder), "--random-weights",
                     "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["rank"] for r in results] == [1, 2, 3, 4, 5]
    assert all(r["path"].startswith(str(folder.resolve())) and "img004" not in r["path"] for r in results)
    assert results == sorted(results, key=lambda r: r["distance"])

    assert cli.main(["info", str(folder)]) == 0
    assert "9 items, 1 skipped" in capsys.readouterr().out
    assert cli.main(["forget", str(folder)]) == 0
    assert cli.main(["info", str(folder)]) == 0
    assert "not indexed yet" in capsys.readouterr().out
