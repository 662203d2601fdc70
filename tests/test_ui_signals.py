"""Stopping the window (issue 24.10, "SIGTERM like SIGINT everywhere"): SIGTERM or Ctrl+C closes it as File ▸ Quit
does — the index batch under way is finished and kept (the next run resumes), an export in progress leaves no file
and no hidden `.partial` — and it exits with 143 / 130, as the command line does. Before, SIGTERM killed it at once
(the export's `.partial` stayed) and Ctrl+C did nothing until the next Python slot ran.

The processes are real windows (`desktop_app.ui.app.run`, offscreen) in a child Python, receiving real signals; only
the step they are stopped in is slowed down (a test embedder, a slow row writer), so the signal lands mid-step."""

from __future__ import annotations

import signal
import sys

import pytest

from support import assert_the_next_run_resumes, ended, start_python, stored, stored_or_zero, wait_for

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is not a signal a Windows process gets")]

WINDOW_INDEXING = """
    from desktop_app.ui import app
    from desktop_app.ui.main_window import MainWindow
    from support import SlowEmbedder

    app.MainWindow = lambda **options: MainWindow(embedder=SlowEmbedder(), batch_size=2)
    raise SystemExit(app.run(["fashionrec", FOLDER]))
"""

WINDOW_EXPORTING = """
    from desktop_app.ui import app
    from desktop_app.ui.main_window import MainWindow
    from support import CountingEmbedder, slow_export_rows

    slow_export_rows()

    def window(**options):  # once indexed, File ▸ Export similar items… to OUT, 3 per item
        made = MainWindow(embedder=CountingEmbedder())
        made.index_finished.connect(lambda report: made.tools.export.export(OUT, 3))
        return made

    app.MainWindow = window
    raise SystemExit(app.run(["fashionrec", FOLDER]))
"""

CLOSING = ("closing the window: every finished batch is kept and the next run resumes, an unfinished export writes "
           "no file.")


@pytest.fixture(autouse=True)
def offscreen(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_while_indexing_closes_the_window_keeping_the_finished_batches(signum, make_catalog):
    folder = make_catalog(20)
    process = start_python(WINDOW_INDEXING, FOLDER=folder)
    wait_for(lambda: stored_or_zero(folder) >= 2, process)
    process.send_signal(signum)
    err = ended(process)
    assert process.returncode == 128 + signum, err
    what = "terminated" if signum == signal.SIGTERM else "interrupted"
    assert f"fashionrec: {what}; {CLOSING}" in err.splitlines()
    assert "Traceback" not in err
    kept = stored(folder)
    assert 2 <= kept < 20 and kept % 2 == 0  # whole batches only
    assert_the_next_run_resumes(folder, kept, 20)


def test_sigterm_while_the_window_exports_leaves_no_file_and_no_partial(make_catalog, tmp_path):
    folder = make_catalog(30)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    process = start_python(WINDOW_EXPORTING, FOLDER=folder, OUT=out_dir / "similar.csv")
    wait_for(lambda: any(p.suffix == ".partial" for p in out_dir.iterdir()), process)  # the rows are being written
    process.send_signal(signal.SIGTERM)
    err = ended(process)
    assert process.returncode == 143, err
    assert f"fashionrec: terminated; {CLOSING}" in err.splitlines()
    assert list(out_dir.iterdir()) == []
