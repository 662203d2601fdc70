"""The exported file (issue 24): Cancel while the rows are being written leaves no file and no temporary, the
write phase reports its progress, and the file gets the permissions the umask gives any new file (it was
always 0600, mkstemp's), or those of the file it replaces."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from desktop_app.core.export import export_neighbours
from desktop_app.core.session import CatalogSession
from support import REPO

pytestmark = pytest.mark.unit


def files_in(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def test_cancel_while_writing_leaves_no_file(make_catalog, counting_embedder, tmp_path):
    folder = make_catalog(8)
    out = tmp_path / "out"
    out.mkdir()
    written = []

    def cancel_once_writing_started() -> bool:
        return bool(written)  # never during the search: only once the write phase has reported

    with CatalogSession(folder, counting_embedder) as session:
        session.index()
        report = export_neighbours(session, out / "similar.csv", k=3, should_cancel=cancel_once_writing_started,
                                   write_progress=lambda done, total: written.append((done, total)))
    assert report.cancelled and report.rows == 0
    assert written == [(0, 8)]  # the write phase had started
    assert files_in(out) == []  # neither the file nor its hidden .partial


def test_the_write_phase_reports_progress_to_the_end(make_catalog, counting_embedder, tmp_path):
    folder = make_catalog(5)
    written = []
    with CatalogSession(folder, counting_embedder) as session:
        session.index()
        report = export_neighbours(session, tmp_path / "similar.jsonl", k=2,
                                   write_progress=lambda done, total: written.append((done, total)))
    assert not report.cancelled and report.rows == 10
    assert written[0] == (0, 5) and written[-1] == (5, 5)


def _export_with_umask(umask: int, folder, out) -> os.stat_result:
    """`fashionrec-cli neighbours` as a person runs it, in a shell with this umask."""
    result = subprocess.run([sys.executable, "-m", "desktop_app.cli", "neighbours", str(folder), "--model",
                             "colour-texture", "--out", str(out), "-k", "2"], capture_output=True, text=True,
                            cwd=REPO, timeout=120, preexec_fn=lambda: os.umask(umask))
    assert result.returncode == 0, result.stderr
    return out.stat()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_the_exported_file_has_the_permissions_of_any_new_file(make_catalog, tmp_path):
    folder = make_catalog(4)
    assert stat.S_IMODE(_export_with_umask(0o022, folder, tmp_path / "shared.csv").st_mode) == 0o644
    assert stat.S_IMODE(_export_with_umask(0o077, folder, tmp_path / "private.csv").st_mode) == 0o600
    (tmp_path / "group.csv").write_text("old\n")
    (tmp_path / "group.csv").chmod(0o640)
    assert stat.S_IMODE(_export_with_umask(0o022, folder, tmp_path / "group.csv").st_mode) == 0o640  # as it was
