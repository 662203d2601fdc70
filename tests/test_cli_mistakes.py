"""The command-line mistakes a newcomer made (issue 24), each run as they ran it: a real `fashionrec-cli`
process. Every one ends in a single line naming what is wrong (exit 2 for a wrong argument, 1 for a problem to
fix), no traceback, and nothing written: no cache for a folder nobody meant, no half-done work."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.cli import program
from desktop_app.core.indexer import MAX_BATCH_SIZE
from support import REPO, make_image

pytestmark = pytest.mark.integration


def cli(*argv: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "desktop_app.cli", *argv], capture_output=True, text=True,
                          cwd=cwd, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})


def one_line_error(result: subprocess.CompletedProcess, code: int, *fragments: str) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert result.stderr.startswith("fashionrec: ") and len(result.stderr.strip().splitlines()) == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    return result.stderr


def caches_in(data_dir: Path) -> list[Path]:
    return sorted(data_dir.rglob("*.sqlite"))


def test_an_empty_folder_name_is_refused_and_the_current_folder_is_not_indexed(tmp_path, data_dir):
    make_image(tmp_path / "holiday.jpg", seed=1)  # the current folder has a photo: `index ''` indexed it
    one_line_error(cli("index", "", "--model", "colour-texture", cwd=tmp_path), 1, "No catalog folder given")
    one_line_error(cli("query", str(tmp_path / "holiday.jpg"), "--catalog", "", "--model", "colour-texture",
                       cwd=tmp_path), 1, "No catalog folder given")
    assert caches_in(data_dir) == []


def test_an_empty_photo_or_output_name_is_refused(make_catalog):
    folder = str(make_catalog(2))
    one_line_error(cli("query", "", "--catalog", folder, "--model", "colour-texture"), 1, "No query photo given")
    one_line_error(cli("neighbours", folder, "--model", "colour-texture", "--out", ""), 1, "No output file given")


@pytest.mark.parametrize("argv, fragment", [
    (["index", "c", "--random-weights", "-1"], "--random-weights: must be at least 0, got -1"),
    (["index", "c", "--random-weights", str(2**32)], "--random-weights: must be at most 4,294,967,295"),
    (["index", "c", "--batch-size", "100000"], f"--batch-size: must be at most {MAX_BATCH_SIZE}"),
    (["query", "p.jpg", "--catalog", "c", "--crop", "-10,0,50,50"], "--crop: '-10,0,50,50': crop numbers cannot be "
                                                                      "negative"),
    (["query", "p.jpg", "--catalog", "c", "--max-distance", "inf"], "--max-distance: must be a finite number, got inf"),
    (["eval", "c", "--sheet-rows", "100000"], "--sheet-rows: must be at most 100"),
    (["eval", "c", "--seed", "-1"], "--seed: must be at least 0, got -1"),
], ids=["seed-negative", "seed-too-big", "batch-size", "crop-negative", "max-distance-inf", "sheet-rows",
        "eval-seed"])
def test_a_wrong_value_is_an_argument_error_naming_the_option(argv, fragment):
    one_line_error(cli(*argv), 2, fragment)


def test_info_of_a_folder_that_does_not_exist_is_an_error(tmp_path):
    one_line_error(cli("info", str(tmp_path / "nonexistent")), 1, "Catalog folder not found")


def test_forget_without_arguments_asks_for_a_folder():
    message = one_line_error(cli("forget"), 1, "Give the catalog FOLDER")
    assert "not both" not in message


def test_an_output_folder_where_no_file_can_be_made_is_found_before_indexing(make_catalog, data_dir):
    folder = make_catalog(4)
    one_line_error(cli("neighbours", str(folder), "--model", "colour-texture", "--out", "/proc/x.csv"), 1,
                   "Cannot create a file in /proc")
    one_line_error(cli("eval", str(folder), "--model", "colour-texture", "--sheet", "/nope/x.png"), 1,
                   "The folder /nope does not exist")
    assert caches_in(data_dir) == []  # refused before any indexing


def test_a_crop_of_zeros_and_ones_says_it_is_read_as_fractions(make_catalog, data_dir):
    folder = make_catalog(4)
    assert cli("index", str(folder), "--model", "colour-texture").returncode == 0
    result = cli("query", str(folder / "img000.jpg"), "--catalog", str(folder), "--model", "colour-texture",
                 "--crop", "1,1,1,1")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0].startswith("note: --crop 1,1,1,1 is read as fractions")
    assert "goes past the image's edge" in result.stderr.splitlines()[1]


def test_every_option_and_argument_has_help():
    parser = program.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in commands.choices.items():
        bare = [a.dest for a in command._actions if not a.help]
        assert bare == [], f"{name}: no help for {bare}"
    precision = " ".join(commands.choices["index"].format_help().split())
    assert "fp32 for a new catalog, fp32" not in precision


def test_a_k_above_the_catalog_size_says_what_it_becomes_and_writing_shows_progress(make_catalog, tmp_path):
    folder = make_catalog(4)
    result = cli("neighbours", str(folder), "--model", "colour-texture", "-k", "100000", "--out",
                 str(tmp_path / "similar.csv"))
    assert result.returncode == 0, result.stderr
    assert "note: -k 100,000 is more than the 3 other items: each item gets all of them." in result.stderr
    assert "writing similar.csv 4/4 (100%)" in result.stderr
    assert "wrote 12 rows (4 items × 3 similar items)" in result.stdout


def _catalog_with_labels(make_catalog, tmp_path):
    folder = make_catalog(6)
    (folder / "labels.csv").write_text("filename,articleType\n" + "".join(f"img{i:03d}.jpg,Shirts\n" for i in range(6)))
    other = tmp_path / "other.csv"
    other.write_text("filename,articleType\n" + "".join(f"img{i:03d}.jpg,{'Jeans' if i < 3 else 'Tops'}\n"
                                                          for i in range(6)))
    assert cli("index", str(folder), "--model", "colour-texture").returncode == 0
    return folder, other


def test_neighbours_reads_the_labels_file_given(make_catalog, tmp_path):
    folder, other = _catalog_with_labels(make_catalog, tmp_path)
    out = tmp_path / "jeans.csv"
    result = cli("neighbours", str(folder), "--model", "colour-texture", "--labels", str(other),
                 "--where", "articleType=Jeans", "-k", "2", "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows = out.read_text().splitlines()
    assert rows[0] == "item,rank,neighbour,distance,item_articleType,neighbour_articleType"
    assert len(rows) == 1 + 3 * 2 and all(row.endswith(",Jeans,Jeans") for row in rows[1:])


def test_a_field_name_in_another_case_is_understood_and_a_misspelt_one_gets_a_suggestion(make_catalog, tmp_path):
    folder, _ = _catalog_with_labels(make_catalog, tmp_path)
    query = ["query", str(folder / "img000.jpg"), "--catalog", str(folder), "--model", "colour-texture", "-k", "2"]
    assert cli(*query, "--where", "ArticleType=shirts").returncode == 0
    one_line_error(cli(*query, "--where", "articletyp=Shirts"), 1,
                   "No label field 'articletyp' in labels.csv; did you mean articleType? fields: articleType.")


def test_a_labels_file_separated_by_semicolons_says_so(make_catalog, tmp_path):
    folder, _ = _catalog_with_labels(make_catalog, tmp_path)
    semicolons = tmp_path / "semicolons.csv"
    semicolons.write_text("filename;articleType\nimg000.jpg;Shirts\n")
    one_line_error(cli("eval", str(folder), "--model", "colour-texture", "--labels", str(semicolons)), 1,
                   "its columns are separated by semicolons: save it with commas")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX named pipes")
def test_a_device_or_a_pipe_as_the_query_is_not_called_an_empty_file(make_catalog, tmp_path):
    folder = make_catalog(3)
    assert cli("index", str(folder), "--model", "colour-texture").returncode == 0
    os.mkfifo(tmp_path / "pipe.jpg")  # reading it would wait for a writer forever
    for query in (tmp_path / "pipe.jpg", Path("/dev/zero")):
        one_line_error(cli("query", str(query), "--catalog", str(folder), "--model", "colour-texture"), 1,
                       f"Cannot use {query.name} as a query: not a regular file (a device or a pipe)")
