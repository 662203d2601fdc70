"""The CLI's several photos and feedback: `query IMG IMG --like ITEM --unlike ITEM` and `eval --feedback-rounds`."""

import pytest

from desktop_app import cli
from support import run_cli, write_labels

pytestmark = pytest.mark.integration


def test_query_with_several_photos_and_feedback_from_the_command_line(make_catalog, capsys):
    catalog = make_catalog(12)
    assert cli.main(["index", str(catalog), "--model", "colour-texture"]) == 0
    capsys.readouterr()
    code, plain, _ = run_cli(capsys, "query", str(catalog / "img001.jpg"), "--catalog", str(catalog), "-k", "11")
    order = [line.split()[-1].rsplit("/", 1)[1] for line in plain.splitlines()]
    assert code == 0 and "img001.jpg" not in order  # the photo itself is left out, as before
    last = order[-1]
    code, out, _ = run_cli(capsys, "query", str(catalog / "img001.jpg"), "--catalog", str(catalog), "-k", "11",
                           "--like", last, "--like", str(catalog / last), "--unlike", order[0])
    moved = [line.split()[-1].rsplit("/", 1)[1] for line in out.splitlines()]
    assert code == 0 and moved.index(last) < order.index(last) and moved.index(order[0]) > 0
    code, out, _ = run_cli(capsys, "query", str(catalog / "img001.jpg"), str(catalog / "img002.jpg"),
                           "--catalog", str(catalog), "-k", "3", "--json")
    assert code == 0 and all("img001" not in line and "img002" not in line for line in out.splitlines())
    code, _, err = run_cli(capsys, "query", str(catalog / "img001.jpg"), "--catalog", str(catalog),
                           "--like", "nope.jpg")
    assert code == 1 and "nope.jpg is not an indexed item of the catalog" in err


def test_eval_prints_precision_per_feedback_round(make_catalog, capsys):
    catalog = write_labels(make_catalog(30), 30)
    code, out, _ = run_cli(capsys, "eval", str(catalog), "--feedback-rounds", "2")
    assert code == 0 and "no feedback      precision@5" in out and "after round 2    precision@5" in out
    first = float(out.split("precision@5 ")[1].split()[0])  # eval's own precision@5 …
    assert f"no feedback      precision@5 {first:.3f}" in out  # … is the feedback table's round 0
