"""Stopping a command (issue 24): SIGTERM is handled as Ctrl+C is, in indexing and in an export (it left a hidden
754 MB .partial file), and the closing line says what the interrupted step keeps: indexing keeps every finished
batch, an export writes nothing.

The processes are real `fashionrec-cli` runs (program.main in a child Python), receiving real signals; only the
step they are stopped in is slowed down, by a test embedder or a slow row writer, so the signal lands mid-step."""

from __future__ import annotations

import signal
import sys

import pytest

from desktop_app import cli
from desktop_app.core import export
from desktop_app.core.session import CatalogSession
from support import CountingEmbedder, assert_the_next_run_resumes, ended, start_python, stored, stored_or_zero, wait_for

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is not a signal a Windows process gets")]

SLOW_INDEX = """
    from desktop_app import cli
    from support import SlowEmbedder

    raise SystemExit(cli.main(["index", FOLDER, "--batch-size", "2"], make_embedder=lambda args: SlowEmbedder()))
"""

SLOW_EXPORT = """
    from desktop_app import cli
    from support import CountingEmbedder, slow_export_rows

    slow_export_rows(started=STARTED)
    raise SystemExit(cli.main(["neighbours", FOLDER, "--out", OUT, "-k", "3"],
                              make_embedder=lambda args: CountingEmbedder()))
"""


def test_sigterm_while_indexing_keeps_the_finished_batches_and_the_next_run_resumes(make_catalog):
    folder = make_catalog(20)
    process = start_python(SLOW_INDEX, FOLDER=folder)
    wait_for(lambda: stored_or_zero(folder) >= 2, process)
    process.send_signal(signal.SIGTERM)
    err = ended(process)
    assert process.returncode == 143, err
    assert err.splitlines()[-1] == "fashionrec: terminated; every finished batch is saved and the next run resumes."
    kept = stored(folder)
    assert 2 <= kept < 20 and kept % 2 == 0  # whole batches only
    assert_the_next_run_resumes(folder, kept, 20)


def test_sigterm_while_exporting_leaves_no_file_and_no_partial(make_catalog, tmp_path):
    folder = make_catalog(30)
    with CatalogSession(folder, CountingEmbedder()) as session:
        session.index()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    started = tmp_path / "writing-started"
    process = start_python(SLOW_EXPORT, FOLDER=folder, OUT=out_dir / "similar.csv", STARTED=started)
    wait_for(started.exists, process)
    assert [p.suffix for p in out_dir.iterdir()] == [".partial"]  # the hidden file is being written
    process.send_signal(signal.SIGTERM)
    err = ended(process)
    assert process.returncode == 143, err
    assert err.splitlines()[-1] == f"fashionrec: terminated; {out_dir / 'similar.csv'} was not written (no file " \
                                   f"was written)."
    assert list(out_dir.iterdir()) == []


def test_ctrl_c_in_an_export_says_the_file_was_not_written(make_catalog, tmp_path, monkeypatch, capsys):
    folder = make_catalog(6)
    out = tmp_path / "similar.csv"
    out.write_text("the previous export\n")

    def rows_then_ctrl_c(*args):
        yield {"item": "a", "rank": 1, "neighbour": "b", "distance": 0.0}
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "neighbour_rows", rows_then_ctrl_c)
    assert cli.main(["neighbours", str(folder), "--out", str(out)], make_embedder=lambda args: CountingEmbedder()) \
        == 130
    assert capsys.readouterr().err.splitlines()[-1] == \
        f"fashionrec: interrupted; {out} was not written (the file there before is unchanged)."
    assert out.read_text() == "the previous export\n"
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["similar.csv"]  # no .partial left
