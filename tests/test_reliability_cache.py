"""Reliability (issue 7): a damaged or foreign cache, an unwritable or full data folder, no pickle.

The small CountingEmbedder stands in for ResNet50: what is tested here is the store, not the network.
"""

from __future__ import annotations

import ast
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app import cli
from desktop_app.core import store as store_module
from desktop_app.core.catalog_data import Catalog
from desktop_app.core.errors import UserError
from desktop_app.core.session import CatalogSession
from desktop_app.core.store_schema import SCHEMA_VERSION
from support import REPO, CountingEmbedder


def _indexed_store(folder: Path) -> Path:
    """Index the folder once; returns the store file (closed, its WAL folded back in)."""
    with CatalogSession(folder, CountingEmbedder()) as session:
        session.index(batch_size=4)
        return session.store.path


def _garbage(path: Path) -> None:
    path.write_bytes(os.urandom(8192))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _set_meta(key: str, value: str):
    def change(path: Path) -> None:
        with sqlite3.connect(path) as db:
            db.execute("UPDATE meta SET value = ? WHERE key = ?", (value, key))
    return change


def _foreign_layout(path: Path) -> None:
    """A SQLite file of an older layout: a meta table with other columns."""
    path.unlink()
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE meta (name TEXT, version INTEGER)")
        db.execute("CREATE TABLE items (relpath TEXT, features BLOB)")


@pytest.mark.parametrize("damage, reason", [
    (_garbage, "the cache file is damaged (file is not a database)"),
    (_truncate, "the cache file is damaged (database disk image is malformed)"),
    (_set_meta("schema_version", "0"),
     f"the cache was written by another version of fashionrec (cache format 0, this version uses {SCHEMA_VERSION})"),
    (_set_meta("fingerprint", "tiny-thumbnail-v0"), "the cache holds vectors of another model or weights"),
    (_foreign_layout, "the cache file is not in fashionrec's format"),
], ids=["garbage", "truncated", "other-schema", "other-fingerprint", "foreign-layout"])
def test_damaged_or_foreign_cache_is_detected_told_and_rebuilt(make_catalog, monkeypatch, capsys, damage, reason):
    folder = make_catalog(10)
    store_path = _indexed_store(folder)
    damage(store_path)

    assert cli.main(["index", str(folder), "--random-weights", "--batch-size", "4"],
                    make_embedder=lambda args: CountingEmbedder()) == 0
    captured = capsys.readouterr()
    assert f"note: the cache was rebuilt: {reason}" in captured.err.splitlines()
    assert "10 embedded" in captured.out and "10 searchable" in captured.out

    kept_aside = [p.name for p in store_path.parent.iterdir() if ".damaged-" in p.name]
    assert kept_aside and all(name.startswith(store_path.name) for name in kept_aside)
    reopened = Catalog(folder.resolve()).open_store(CountingEmbedder())
    assert reopened.rebuilt_reason is None and reopened.integrity_ok() and reopened.count() == 10
    reopened.close()


def test_only_the_latest_damaged_copy_is_kept(make_catalog, monkeypatch):
    folder = make_catalog(4)
    stamps, real_strftime = iter(["first", "second", "third"]), store_module.time.strftime
    monkeypatch.setattr(store_module.time, "strftime",  # a new stamp per rebuild (logging uses it too)
                        lambda fmt, *args: next(stamps) if fmt == "%Y%m%d-%H%M%S" else real_strftime(fmt, *args))
    for _ in range(3):  # e.g. going back and forth between two app versions
        store_path = _indexed_store(folder)
        _set_meta("schema_version", "0")(store_path)
    with CatalogSession(folder, CountingEmbedder()) as session:
        assert session.store.rebuilt_reason
    kept = {p.name.removeprefix(store_path.name) for p in store_path.parent.glob("*.damaged-*")}
    assert kept and {name.split("-")[1] for name in kept} == {"third"}


def test_a_healthy_cache_is_never_rebuilt(make_catalog):
    folder = make_catalog(5)
    _indexed_store(folder)
    with CatalogSession(folder, CountingEmbedder()) as session:
        assert session.store.rebuilt_reason is None and session.index().embedded == 0


def test_forget_is_refused_while_the_catalog_is_being_indexed(make_catalog, capsys):
    folder = make_catalog(3)
    store_path = _indexed_store(folder)
    with CatalogSession(folder, CountingEmbedder()) as session, session.store.writer_lock():
        assert cli.main(["forget", str(folder)]) == 1
        assert capsys.readouterr().err.splitlines() == [
            f"fashionrec: The catalog {folder.resolve()} is busy: another fashionrec is indexing it with tiny. "
            "Try again when it has finished."]
        assert store_path.exists()
    assert cli.main(["forget", str(folder)]) == 0
    assert not list(store_path.parent.glob("*.sqlite*"))
    assert cli.main(["info", str(folder)]) == 0 and "not indexed yet" in capsys.readouterr().out


# -- nothing read from disk is ever executed ----------------------------------------------------------

UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "cloudpickle", "dill", "joblib", "shelve", "marshal"}
UNSAFE_KEYWORDS = {("allow_pickle", True), ("safe_mode", False)}  # np.load / keras model loading


def unsafe_deserialisation(source: str) -> list[str]:
    """Imports of pickle-like modules and calls that switch unpickling on, found in Python source."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in UNSAFE_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNSAFE_MODULES:
            found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Call):
            found += [f"{k.arg}={k.value.value}" for k in node.keywords
                      if isinstance(k.value, ast.Constant) and (k.arg, k.value.value) in UNSAFE_KEYWORDS]
        elif isinstance(node, ast.Attribute) and node.attr in ("read_pickle", "to_pickle"):
            found.append(node.attr)
    return found


def test_the_scanner_finds_pickle_use():
    sample = ("import pickle\nfrom joblib import load\nimport numpy as np\n"
              "np.load('x.npy', allow_pickle=True)\npd.read_pickle('y')\n")
    assert unsafe_deserialisation(sample) == ["import pickle", "from joblib import ...", "allow_pickle=True",
                                              "read_pickle"]
    assert unsafe_deserialisation("np.load('x.npy', allow_pickle=False)\n") == []


# The one exception (issue 21): the built-in network's torch checkpoint is read by an unpickler that refuses every
# global outside a short allow-list (tests/test_torch_checkpoint.py feeds it crafted files that would run commands).
ALLOW_LISTED_UNPICKLER = "desktop_app/core/embedders/torch_checkpoint.py"


def test_no_pickle_anywhere_in_the_app():
    sources = sorted((REPO / "desktop_app").rglob("*.py")) + sorted((REPO / "build").rglob("*.py"))
    assert len(sources) > 10
    offenders = {str(p.relative_to(REPO)): found for p in sources
                 if (found := unsafe_deserialisation(p.read_text(encoding="utf-8")))}
    assert offenders.pop(ALLOW_LISTED_UNPICKLER) == ["import pickle"]
    assert offenders == {}
    tree = ast.parse((REPO / ALLOW_LISTED_UNPICKLER).read_text(encoding="utf-8"))
    uses = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name) and node.value.id == "pickle"}
    assert uses == {"Unpickler", "UnpicklingError"}  # no pickle.load/loads: only its own subclass unpickles
    unpickler = next(node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
                     and any(ast.unparse(base) == "pickle.Unpickler" for base in node.bases))
    assert "find_class" in {item.name for item in unpickler.body if isinstance(item, ast.FunctionDef)}
    for path in sources:  # and not hidden in a string (e.g. exec'd or eval'd text)
        assert "allow_pickle=True" not in path.read_text(encoding="utf-8"), path


# -- an unwritable or full data folder ----------------------------------------------------------------

def _run_cli(*args: str, env_changes: dict[str, str]) -> subprocess.CompletedProcess:
    env = {**os.environ, **env_changes}
    return subprocess.run([sys.executable, "-m", "desktop_app.cli", *args], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=300)


def test_unwritable_data_folder_is_one_line_and_exit_1(make_catalog, tmp_path):
    folder = make_catalog(2)
    blocker = tmp_path / "a file.txt"  # root ignores chmod, but nobody can create a folder inside a file
    blocker.write_text("I am a file")
    result = _run_cli("index", str(folder), "--random-weights",
                      env_changes={"FASHIONREC_DATA_DIR": str(blocker / "sub")})
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"fashionrec: Cannot write to the fashionrec data folder {blocker / 'sub' / 'catalogs'}"
        f"/{Catalog(folder.resolve()).folder.name} (Not a directory). Free some space or fix its permissions, "
        "or point FASHIONREC_DATA_DIR at a writable folder."]


def test_unwritable_data_folder_through_the_window_lanes(make_catalog, tmp_path, monkeypatch, qapp):
    from desktop_app.ui.lanes import WRITER, Lane
    from desktop_app.ui.operations.catalog import open_on

    folder = make_catalog(2)
    (tmp_path / "a file.txt").write_text("I am a file")
    monkeypatch.setenv("FASHIONREC_DATA_DIR", str(tmp_path / "a file.txt" / "sub"))
    lane = Lane(WRITER, {"tiny": CountingEmbedder()})
    errors = []
    lane.failed.connect(lambda token, message: errors.append((token, message)))
    lane.run(3, lambda lane: open_on(lane, str(folder), "tiny", None), False)
    (token, message), = errors
    assert token == 3 and message.startswith("Cannot write to the fashionrec data folder")
    assert lane.session is None


@pytest.fixture
def disk_with_room_for(monkeypatch):
    """disk_with_room_for(pages): every store connection may grow to that many 4 KiB pages, and SQLite
    then fails with its real 'database or disk is full' error. Call it with None to free the space."""
    real_connect = sqlite3.connect

    def limit(pages: int | None) -> None:
        if pages is None:
            monkeypatch.setattr(sqlite3, "connect", real_connect)
            return

        def connect(*args, **kwargs):
            db = real_connect(*args, **kwargs)
            db.execute(f"PRAGMA max_page_count = {pages}")
            return db

        monkeypatch.setattr(sqlite3, "connect", connect)

    return limit


def test_disk_full_before_anything_is_written_leaves_no_store(make_catalog, monkeypatch, capsys, disk_with_room_for):
    folder = make_catalog(3)
    disk_with_room_for(2)
    assert cli.main(["index", str(folder), "--random-weights"], make_embedder=lambda args: CountingEmbedder()) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("fashionrec: Cannot use the cache ")
    assert "(database or disk is full). Free some disk space and index again" in err[0]
    assert list(Catalog(folder.resolve()).folder.glob("*.sqlite*")) == []  # no half-made store


def test_disk_full_mid_index_keeps_whole_batches_and_resumes(make_catalog, monkeypatch, capsys, disk_with_room_for):
    folder = make_catalog(40)
    disk_with_room_for(14)
    assert cli.main(["index", str(folder), "--random-weights", "--batch-size", "4"],
                    make_embedder=lambda args: CountingEmbedder()) == 1
    captured = capsys.readouterr()
    message = [line for line in captured.err.splitlines() if line.startswith("fashionrec:")]
    assert len(message) == 1 and "(database or disk is full)" in message[0]
    assert "nothing indexed so far is lost" in message[0] and "Traceback" not in captured.err

    disk_with_room_for(None)  # space freed
    embedder = CountingEmbedder()
    with CatalogSession(folder, embedder) as session:
        kept = session.store.count()
        assert session.store.rebuilt_reason is None and session.store.integrity_ok()
        assert 0 < kept < 40 and kept % 4 == 0  # whole batches only: the failed one was rolled back
        report = session.index(batch_size=4)
    assert (report.embedded, report.unchanged, report.indexed) == (40 - kept, kept, 40)
    assert embedder.embedded == 40 - kept


def test_a_locked_or_failing_disk_never_discards_the_cache(make_catalog, monkeypatch):
    """Only damage rebuilds a cache: 'database is locked' (or an I/O error) while opening must not
    move a healthy cache aside, which would lose every vector in it."""
    folder = make_catalog(6)
    store_path = _indexed_store(folder)
    real_connect = sqlite3.connect

    class LockedConnection(sqlite3.Connection):
        def execute(self, sql, *args):
            if "quick_check" in sql:
                raise sqlite3.OperationalError("database is locked")
            return super().execute(sql, *args)

    monkeypatch.setattr(sqlite3, "connect", lambda *args, **kw: real_connect(*args, factory=LockedConnection, **kw))
    with pytest.raises(UserError) as err:
        CatalogSession(folder, CountingEmbedder())
    assert "(database is locked). Another fashionrec is using it; try again in a moment" in str(err.value)

    monkeypatch.setattr(sqlite3, "connect", real_connect)
    assert not list(store_path.parent.glob("*.damaged-*"))
    with CatalogSession(folder, CountingEmbedder()) as session:
        assert session.store.count() == 6 and session.store.rebuilt_reason is None
