"""The CLI's neighbours, duplicates and query --crop / --where / --max-distance: output and one-line errors."""

import csv
import json

import numpy as np
from PIL import Image

from desktop_app import cli
from support import run_cli


def _catalog_with_labels_and_a_copy(make_catalog):
    folder = make_catalog(10)
    Image.open(folder / "img003.jpg").save(folder / "copy-of-3.jpg", quality=90)  # a re-encoded copy
    with open(folder / "labels.csv", "w") as f:
        f.write("filename,articleType\n" + "".join(f"img{i:03d}.jpg,{'Shirts' if i % 2 else 'Jeans'}\n"
                                                     for i in range(10)))
    return folder


def _indexed(folder, capsys):
    assert cli.main(["index", str(folder), "--model", "colour-texture"]) == 0
    capsys.readouterr()
    return folder


def test_neighbours_writes_csv_rows_with_labels_and_says_how_many(make_catalog, tmp_path, capsys):
    folder = _catalog_with_labels_and_a_copy(make_catalog)
    code, out, _ = run_cli(capsys, "neighbours", str(folder), "-k", "2", "--out", str(tmp_path / "similar.csv"))
    with open(tmp_path / "similar.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert code == 0 and "wrote 22 rows (11 items × 2 similar items)" in out
    assert len(rows) == 22 and rows[0].keys() == {"item", "rank", "neighbour", "distance", "item_articleType",
                                                  "neighbour_articleType"}
    copy_rows = [r for r in rows if r["item"] == "copy-of-3.jpg"]
    assert copy_rows[0]["neighbour"] == "img003.jpg" and copy_rows[0]["neighbour_articleType"] == "Shirts"
    assert copy_rows[0]["item_articleType"] == ""  # the copy has no label


def test_neighbours_refuses_a_bad_output_before_indexing(make_catalog, tmp_path, capsys, data_dir):
    folder = make_catalog(3)
    code, _, err = run_cli(capsys, "neighbours", str(folder), "--out", str(tmp_path / "similar.txt"))
    assert code == 1 and err.strip() == ("fashionrec: Cannot tell the format of similar.txt: "
                                         "name the output .csv or .jsonl.")
    assert not list(data_dir.rglob("*.sqlite"))  # nothing indexed


def test_duplicates_prints_the_groups_and_json(make_catalog, capsys):
    folder = _catalog_with_labels_and_a_copy(make_catalog)
    code, out, _ = run_cli(capsys, "duplicates", str(folder))
    assert code == 0
    assert out.splitlines()[0].startswith("group 1: 2 items, farthest link 0.")
    assert out.splitlines()[1:3] == [f"  {folder.resolve() / 'copy-of-3.jpg'}", f"  {folder.resolve() / 'img003.jpg'}"]
    assert "1 group(s) of near-duplicates, 2 items, among 11 items at distance <= 0.24, the default for " \
           "colour-texture" in out
    code, out, err = run_cli(capsys, "duplicates", str(folder), "--json", "--threshold", "0")
    assert code == 0 and json.loads(out) == [] and "0 group(s)" in err
    code, out, _ = run_cli(capsys, "duplicates", str(folder), "--model", "shape-colour")
    assert code == 0 and "at distance <= 0.24, the default for shape-colour" in out
    assert out.splitlines()[1:3] == [f"  {folder.resolve() / 'copy-of-3.jpg'}", f"  {folder.resolve() / 'img003.jpg'}"]


def test_duplicates_with_a_model_without_a_measured_threshold_asks_for_one(make_catalog, capsys, data_dir):
    folder = make_catalog(3)
    code = cli.main(["duplicates", str(folder), "--random-weights"])
    err = capsys.readouterr().err
    assert code == 1 and "No measured default duplicate threshold for resnet50 yet; pass --threshold D" in err
    assert not list(data_dir.rglob("*.sqlite"))


def test_query_with_a_crop_a_filter_and_a_distance_limit(make_catalog, tmp_path, capsys):
    folder = _indexed(_catalog_with_labels_and_a_copy(make_catalog), capsys)
    halves = [np.asarray(Image.open(folder / name).convert("RGB")) for name in ("img004.jpg", "img007.jpg")]
    Image.fromarray(np.concatenate(halves, axis=1)).save(tmp_path / "both.png")

    code, out, err = run_cli(capsys, "query", str(tmp_path / "both.png"), "--catalog", str(folder), "-k", "1",
                        "--crop", "0.5,0,0.5,1")
    assert code == 0 and out.split()[-1] == str(folder.resolve() / "img007.jpg"), err

    code, out, _ = run_cli(capsys, "query", str(folder / "img003.jpg"), "--catalog", str(folder), "-k", "3",
                           "--where", "articleType=jeans", "--json")
    assert code == 0 and [int(r["path"][-7:-4]) % 2 for r in json.loads(out)] == [0, 0, 0]

    code, out, err = run_cli(capsys, "query", str(folder / "img003.jpg"), "--catalog", str(folder),
                             "--max-distance", "0.0001")
    assert code == 0 and out == ""
    assert err.strip() == "fashionrec: No catalog item is within distance 0.0001 of the photo; try a larger " \
                          "--max-distance."


def test_bad_crops_and_filters_are_one_line(make_catalog, capsys):
    folder = _indexed(_catalog_with_labels_and_a_copy(make_catalog), capsys)
    image = str(folder / "img000.jpg")
    for argv, message in [
        (["--crop", "0,0,10"], "argument --crop: '0,0,10' is not X,Y,W,H"),
        (["--crop", "0,0,0,5"], "zero width or height"),
        (["--crop", "0,0,600,80"], "Cannot use img000.jpg as a query: the crop 0,0,600,80 goes past the image's edge"),
        (["--where", "articleType"], "'articleType' is not a filter: write FIELD=VALUE"),
        (["--where", "colour=red"], "No label field 'colour' in labels.csv; fields: articleType."),
        (["--where", "articleType=Dress"], "No item has articleType=Dress; values of articleType: Jeans, Shirts."),
        (["--max-distance", "far"], "argument --max-distance: expected a number, got 'far'"),
    ]:
        code, out, err = run_cli(capsys, "query", image, "--catalog", str(folder), *argv)
        assert code in (1, 2) and out == "" and len(err.strip().splitlines()) == 1 and message in err, err
