"""bench --neighbours and bench --duplicates run end to end on small inputs (their figures are not asserted:
speed goals are printed by the bench, never timed tests)."""

import io

from desktop_app import cli
from desktop_app.bench.neighbours import run_neighbours_bench


def test_neighbours_bench_reports_time_and_memory_for_both_stores(make_catalog):
    out = io.StringIO()
    rows = run_neighbours_bench(make_catalog(12), items=300, out=out, log=io.StringIO()).rows
    labels = [row.label for row in rows]
    assert "synthetic: k=5 search" in labels and "sample: k=5 search" in labels
    assert any(label.startswith("synthetic: memory beyond the vectors") for label in labels)
    assert "synthetic: write 1,500 rows" in out.getvalue() and "sample: write 60 rows" in out.getvalue()


def test_duplicates_bench_prints_a_row_per_threshold(make_catalog, capsys):
    folder = make_catalog(12)
    assert cli.main(["bench", "--duplicates", "--model", "colour-texture", "--images", str(folder),
                     "--sources", "2"]) == 0
    out = capsys.readouterr().out
    assert "12 photos, 2 of them × 7 planted copies (seed 0)" in out
    table = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert [row[0] for row in table][:3] == ["0.02", "0.04", "0.06"]
    assert any(row[0] == "0.24" and "(default)" in " ".join(row) for row in table)
