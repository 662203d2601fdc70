"""Reliability (issue 7): `fashionrec-cli index` killed with SIGKILL or Ctrl+C mid-run; two instances at once.

These start real CLI processes (python -m desktop_app.cli) with --random-weights on generated images;
the one that embeds imports TensorFlow and runs ResNet50, hence `heavy`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop_app import cli
from desktop_app.core.catalog import scan
from desktop_app.core.catalog_data import Catalog
from desktop_app.core.session import CatalogSession
from support import REPO, CountingEmbedder, make_image

BATCH = 8
BUSY_MESSAGE = ("is busy: another fashionrec is indexing it with resnet50. Try again when it has finished. "
                "Or add --wait to wait for it.")


def _cli(folder: Path, *extra: str, log: Path) -> subprocess.Popen:
    """`fashionrec-cli index` in the background, its output (stdout and stderr) going to `log`."""
    command = [sys.executable, "-m", "desktop_app.cli", "index", str(folder), "--random-weights",
               "--batch-size", str(BATCH), *extra]
    with open(log, "w") as out:  # the child keeps its own copy of the handle
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=REPO, env=dict(os.environ))


def _stored_count(folder: Path) -> int:
    """Items committed so far, read like a second program would: read-only, never blocking the writer."""
    stores = list(Catalog(folder.resolve()).folder.glob("*.sqlite"))
    if not stores:
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{stores[0]}?mode=ro", uri=True, timeout=5)) as db:
            return db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    except sqlite3.OperationalError:  # created but its tables not yet
        return 0


def _wait_until(condition, process: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the indexer exited early ({process.returncode}):\n{log.read_text()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"timed out; indexer output so far:\n{log.read_text()}")
        time.sleep(0.05)


@pytest.mark.heavy
def test_kill_9_mid_index_loses_at_most_a_batch_and_resumes(tmp_path, random_embedder):
    folder = tmp_path / "catalog"
    total = 48
    for i in range(total):
        make_image(folder / f"item{i:03d}.jpg", seed=i, size=(24, 32))
    log = tmp_path / "first-run.log"

    first = _cli(folder, log=log)
    try:
        _wait_until(lambda: _stored_count(folder) > 0, first, log)
        first.send_signal(signal.SIGSTOP)  # frozen mid-run, still holding the catalog: keeps this test short

        # A second CLI process on the same catalog meanwhile: told the catalog is busy, changes nothing.
        second = subprocess.run([sys.executable, "-m", "desktop_app.cli", "index", str(folder), "--random-weights"],
                                capture_output=True, text=True, cwd=REPO, timeout=120)
        assert second.returncode == 1
        assert second.stderr.splitlines()[-1] == f"fashionrec: The catalog {folder.resolve()} {BUSY_MESSAGE}"

        committed_before_kill = _stored_count(folder)
        first.send_signal(signal.SIGKILL)  # (a stopped process dies of SIGKILL at once)
    finally:
        first.kill()
        first.wait()
    assert first.returncode == -signal.SIGKILL
    assert 0 < committed_before_kill < total, "the first run finished before it could be killed"

    embedder_runs = []
    with CatalogSession(folder, random_embedder) as session:
        store = session.store
        assert store.rebuilt_reason is None and store.integrity_ok()
        kept = store.count()
        assert committed_before_kill <= kept < total and kept % BATCH == 0  # whole batches, none lost
        report = session.index(batch_size=BATCH, progress=lambda p: embedder_runs.append(p.total))
        relpaths, vectors = store.load_vectors()
        skipped = store.skipped_files()

    assert embedder_runs[0] == total - kept  # only the rest was even scheduled
    assert (report.embedded, report.unchanged, report.indexed) == (total - kept, kept, total)
    assert relpaths == sorted(set(relpaths)) == [f.relpath for f in scan(folder)]  # no duplicates
    assert vectors.shape == (total, random_embedder.dim) and skipped == []


@pytest.mark.heavy
def test_second_instance_says_busy_or_waits_with_wait(make_catalog, tmp_path, random_embedder):
    folder = make_catalog(4)
    with CatalogSession(folder, random_embedder) as session:
        session.index()  # the CLI then has nothing to embed: no TensorFlow in the child processes
        with session.store.writer_lock():  # this process indexing, as the app would
            busy = subprocess.run([sys.executable, "-m", "desktop_app.cli", "index", str(folder),
                                   "--random-weights"], capture_output=True, text=True, cwd=REPO, timeout=120)
            log = tmp_path / "waiting.log"
            waiting = _cli(folder, "--wait", log=log)
            _wait_until(lambda: "waiting for the other fashionrec" in log.read_text(), waiting, log)
            time.sleep(1.0)
            assert waiting.poll() is None, log.read_text()  # still waiting for us
        assert waiting.wait(timeout=120) == 0, log.read_text()
        assert session.store.integrity_ok() and session.store.count() == 4

    assert busy.returncode == 1 and busy.stdout == ""
    assert busy.stderr.splitlines()[-1] == f"fashionrec: The catalog {folder.resolve()} {BUSY_MESSAGE}"
    assert "0 embedded, 4 unchanged" in log.read_text()


class InterruptedEmbedder(CountingEmbedder):
    """Ctrl+C arrives while the third batch is being embedded."""

    def embed(self, batch):
        if self.batches == 2:
            raise KeyboardInterrupt
        return super().embed(batch)


def test_ctrl_c_mid_batch_keeps_the_finished_batches(make_catalog, monkeypatch, capsys):
    folder = make_catalog(20)
    assert cli.main(["index", str(folder), "--random-weights", "--batch-size", "4"],
                    make_embedder=lambda args: InterruptedEmbedder()) == 130
    assert capsys.readouterr().err.splitlines()[-1] == \
        "fashionrec: interrupted; every finished batch is saved and the next run resumes."
    embedder = CountingEmbedder()
    with CatalogSession(folder, embedder) as session:
        assert session.store.count() == 8 and session.store.integrity_ok()
        report = session.index(batch_size=4)
    assert (report.embedded, report.unchanged, report.indexed) == (12, 8, 20) and embedder.embedded == 12
