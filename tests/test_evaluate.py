"""Leave-one-out evaluation: the metric maths on hand-made rankings, label matching, and precision@k on a
generated catalog whose answer is known by construction."""

import csv

import numpy as np
import pytest
from PIL import Image

from desktop_app import cli
from desktop_app.core import evaluate as ev
from desktop_app.core import labels as lb
from desktop_app.core.catalog_data import Catalog
from desktop_app.core.errors import UserError


def write_csv(path, rows, columns=("filename", "articleType", "baseColour")):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


# -- metric maths --------------------------------------------------------------------------------------
def test_precision_and_average_precision_on_hand_made_rankings():
    hits = np.array([[1, 0, 1, 0, 0],  # 2 relevant: AP = (1/1 + 2/3) / 2
                     [0, 0, 0, 0, 1],  # 10 relevant: AP = (1/5) / 5
                     [1, 1, 1, 0, 0],  # 3 relevant, all first: AP = 1
                     [0, 0, 0, 0, 0]], dtype=bool)
    relevant = np.array([2, 10, 3, 4])
    np.testing.assert_allclose(ev.precision_at_k(hits, 5), [0.4, 0.2, 0.6, 0.0])
    np.testing.assert_allclose(ev.average_precision_at_k(hits, relevant, 5), [5 / 6, 0.04, 1.0, 0.0])
    np.testing.assert_allclose(ev.precision_at_k(hits, 2), [0.5, 0.0, 1.0, 0.0])
    np.testing.assert_allclose(ev.average_precision_at_k(hits, relevant, 2), [0.5, 0.0, 1.0, 0.0])


def test_scores_of_known_vectors_and_the_random_baseline():
    # 2 tight clusters of 3 ("a") and 2 ("b") items, plus one "c" alone and one unlabelled item.
    vectors = np.array([[1, 0, 0], [0.99, 0.1, 0], [0.98, 0.2, 0],
                        [0, 1, 0], [0.1, 0.99, 0], [0, 0, 1], [0.7, 0.7, 0]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    relpaths = [f"x{i}.jpg" for i in range(7)]
    labels = dict(zip(relpaths, "aaabbc", strict=False))  # x6.jpg has no label
    match = lb.match_labels(relpaths, {**labels, "gone.jpg": "a"})
    result = ev.evaluate(relpaths, vectors, match, k=2)
    assert (result.queries, result.singletons, result.unlabelled, result.labels_without_image) == (5, 1, 1, 1)
    # k=2: "a" queries find both other a's (P=1); "b" queries find the other b first, then an a (P=0.5)
    assert result.precision == pytest.approx((3 * 1.0 + 2 * 0.5) / 5)
    assert result.mean_ap == pytest.approx(1.0)  # every possible hit, ranked first
    assert result.random_precision == pytest.approx((3 * 2 / 5 + 2 * 1 / 5) / 5)  # (n_c - 1) / (N - 1)
    by_label = {c.label: c for c in result.classes}
    assert by_label["a"].precision == 1.0 and by_label["b"].precision == 0.5 and by_label["c"].queries == 0
    assert [c.label for c in result.classes] == ["a", "b", "c"]  # best first, unscorable last
    report = ev.format_report(result)
    assert "precision@2 0.800" in report and "mAP@2 1.000" in report and "(only item)" in report


def test_too_few_labelled_items_is_a_user_error():
    with pytest.raises(UserError, match="Only 1 indexed image"):
        ev.evaluate(["a.jpg", "b.jpg"], np.eye(2, dtype=np.float32), lb.match_labels(["a.jpg", "b.jpg"],
                                                                                    {"a.jpg": "x"}), 5)


# -- labels --------------------------------------------------------------------------------------------
def test_labels_match_by_relative_path_or_unambiguous_basename():
    relpaths = ["men/1.jpg", "women/1.jpg", "women/2.jpg", "kids/3.jpg", "4.jpg"]
    match = lb.match_labels(relpaths, {"men/1.jpg": "shirt", "2.jpg": "dress", "3.jpg": "cap", "x/3.jpg": "hat",
                                       "4.jpg": "belt", "9.jpg": "sock"})
    # women/1.jpg: no such path, and basename 1.jpg is only in the CSV as men/1.jpg → matched by basename
    assert match.labels == {"men/1.jpg": "shirt", "women/1.jpg": "shirt", "women/2.jpg": "dress", "4.jpg": "belt"}
    assert match.unlabelled == ["kids/3.jpg"]  # 3.jpg is ambiguous in the CSV: not guessed
    assert match.unmatched == ["3.jpg", "9.jpg", "x/3.jpg"]


def test_a_label_column_reports_what_is_wrong(tmp_path):
    good = write_csv(tmp_path / "good.csv", [("a.jpg", "Shirts", "Blue"), ("b.jpg", "", "Red"), ("c.jpg", "Caps", "")])
    table = lb.read_label_table(good, ["a.jpg", "b.jpg"])
    assert table.column("articleType", ["a.jpg", "b.jpg"]).labels == {"a.jpg": "Shirts"}  # empty label: unlabelled
    assert table.column("articleType", ["a.jpg", "b.jpg"]).unlabelled == ["b.jpg"]
    assert table.column("articleType", ["a.jpg"]).unmatched == ["c.jpg"]  # a label whose photo is not indexed
    assert table.column("baseColour", ["a.jpg", "b.jpg"]).labels == {"a.jpg": "Blue", "b.jpg": "Red"}
    assert table.column("baseColour", ["a.jpg"]).unmatched == []  # c.jpg has no colour to miss
    with pytest.raises(UserError, match="no 'season' column; choose one of: articleType, baseColour"):
        table.column("season", [])
    with pytest.raises(UserError, match="has no 'filename' column"):
        lb.read_label_table(write_csv(tmp_path / "nofile.csv", [("a.jpg", "x")], ("name", "articleType")), [])
    (tmp_path / "latin1.csv").write_bytes("filename,articleType\na.jpg,Chemise \xe9t\xe9\n".encode("latin-1"))
    with pytest.raises(UserError, match="not UTF-8"):
        lb.read_label_table(tmp_path / "latin1.csv", [])
    with pytest.raises(UserError, match="Labels file not found"):
        lb.read_label_table(tmp_path / "missing.csv", [])


def test_label_texts_from_a_csv_beside_or_inside_the_catalog(tmp_path, make_catalog):
    folder = make_catalog(3, name="shop/images")
    relpaths = ["img000.jpg", "img001.jpg", "img002.jpg"]

    def texts(root, relpaths):
        path = Catalog(root.resolve()).labels_path
        table = lb.read_label_table(path, relpaths) if path else None
        return {r: table.text(r) for r in relpaths if table and table.text(r)}

    assert texts(folder, relpaths) == {}
    write_csv(tmp_path / "shop" / "labels.csv", [("img000.jpg", "Tshirts", "Blue"), ("img001.jpg", "Watches", "")])
    assert texts(folder, relpaths) == {"img000.jpg": "Tshirts · Blue", "img001.jpg": "Watches"}
    assert texts(folder, relpaths[:1]) == {"img000.jpg": "Tshirts · Blue"}
    assert texts(tmp_path / "shop", [f"images/{r}" for r in relpaths]) == {
        "images/img000.jpg": "Tshirts · Blue", "images/img001.jpg": "Watches"}
    write_csv(folder / "labels.csv", [("img002.jpg", "Caps")], ("filename", "subCategory"))  # inside wins
    assert texts(folder, relpaths) == {"img002.jpg": "Caps"}


# -- a catalog whose answer is known by construction -------------------------------------------------------
KINDS = {  # label → (colour, stripes vertical?)
    "red-horizontal": ((210, 30, 30), False),
    "green-vertical": ((30, 160, 50), True),
    "blue-checks": ((30, 50, 200), None),
}


def garment(colour, vertical, seed):
    """A 60×80 product photo: a patterned rectangle on white; pattern period and position vary with seed."""
    rng = np.random.default_rng(seed)
    img = np.full((80, 60, 3), 255, dtype=np.uint8)
    top, left = rng.integers(6, 12), rng.integers(6, 12)
    period = int(rng.choice([6, 8, 10]))
    ys, xs = np.mgrid[0:80 - 2 * top, 0:60 - 2 * left]
    if vertical is None:
        on = ((ys // (period // 2)) + (xs // (period // 2))) % 2 == 0
    else:
        on = ((xs if vertical else ys) // (period // 2)) % 2 == 0
    patch = np.where(on[..., None], np.array(colour, dtype=np.uint8), np.uint8(235))
    img[top:80 - top, left:60 - left] = patch
    return Image.fromarray(img)


@pytest.fixture
def known_catalog(tmp_path):
    folder = tmp_path / "known"
    folder.mkdir()
    rows = []
    for label, (colour, vertical) in KINDS.items():
        for i in range(4):
            name = f"{label}-{i}.png"
            garment(colour, vertical, seed=len(rows)).save(folder / name)
            rows.append((name, label, "x"))
    garment((120, 120, 120), False, seed=99).save(folder / "unlabelled.png")
    return folder, write_csv(tmp_path / "labels.csv", rows)


def test_eval_cli_on_a_catalog_with_a_known_answer(known_catalog, tmp_path, capsys):
    folder, labels = known_catalog
    sheet = tmp_path / "sheet.png"
    assert cli.main(["eval", str(folder), "--labels", str(labels), "--model", "colour-texture", "-k", "3",
                     "--sheet", str(sheet), "--sheet-rows", "2"]) == 0
    out = capsys.readouterr()
    assert "indexing 13/13 (100%)" in out.err  # indexed first, with the progress line
    # each of the 12 queries has exactly 3 look-alikes (same colour and pattern): all found, all first
    assert "12 queries, 12 labelled items, 3 labels" in out.out
    assert "precision@3 1.000   mAP@3 1.000   random precision@3 0.273" in out.out  # 3/11
    assert "1 indexed images without a label; 0 labels without an indexed image" in out.out
    with Image.open(sheet) as drawn:
        width, height = drawn.size
    assert width > 4 * ev.THUMB[0] and 2 * ev.THUMB[1] < height < 3 * ev.THUMB[1]  # 1 + k columns, 2 rows

    # k=5 asks for more than the 3 relevant items: precision is capped at 3/5, AP@5 still 1
    assert cli.main(["eval", str(folder), "--labels", str(labels), "--model", "colour-texture", "-k", "5"]) == 0
    out = capsys.readouterr()
    assert "precision@5 0.600   mAP@5 1.000" in out.out and "indexing" not in out.err  # nothing to re-index


def test_eval_cli_finds_labels_csv_beside_the_folder_and_checks_the_field(known_catalog, tmp_path, capsys):
    folder, _ = known_catalog  # labels.csv is in the catalog's parent
    assert cli.main(["eval", str(folder), "--model", "colour-texture", "--field", "baseColour", "-k", "2"]) == 0
    assert "precision@2 1.000" in capsys.readouterr().out  # one colour label "x" for every item
    assert cli.main(["eval", str(folder), "--model", "colour-texture", "--field", "usage"]) == 1
    assert "no 'usage' column" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:  # a count below 1 is refused before anything runs
        cli.main(["eval", str(folder), "--model", "colour-texture", "--sheet", str(tmp_path / "x.png"),
                  "--sheet-rows", "0"])
    assert refused.value.code == 2 and not (tmp_path / "x.png").exists()
    assert "argument --sheet-rows: must be at least 1, got 0" in capsys.readouterr().err
