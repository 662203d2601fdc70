"""The CLI at its edges (#12): closed pipes, counts below 1, no display, stale caches, no stderr, busy stores,
and the light command registry (#13). Subprocesses where only a real process can show it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from desktop_app import cli
from desktop_app.cli import options, program, progress
from desktop_app.cli.commands import COMMANDS
from desktop_app.core import caches
from desktop_app.core.embedders import create_embedder
from desktop_app.core.formatting import format_duration, rough_duration
from desktop_app.core.session import CatalogSession
from desktop_app.core.store_io import CatalogBusy
from support import REPO, CountingEmbedder


def _run(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=REPO, timeout=120,
                          env=env or dict(os.environ), **kwargs)


def _colour_texture_catalog(make_catalog, n: int = 6, name: str = "catalog"):
    folder = make_catalog(n, name=name)
    with CatalogSession(folder, create_embedder("colour-texture")) as session:
        session.index()
    return folder


# -- 1. a closed pipe ends quietly ------------------------------------------------------------------------
@pytest.mark.parametrize("command", [["query", "{photo}", "--catalog", "{folder}", "-k", "5"],
                                     ["query", "{photo}", "--catalog", "{folder}", "--json"],
                                     ["eval", "{folder}", "-k", "2"],
                                     ["info"]], ids=["query", "query-json", "eval", "info"])
def test_a_reader_that_has_gone_ends_the_command_quietly(make_catalog, tmp_path, command):
    folder = _colour_texture_catalog(make_catalog)
    (folder / "labels.csv").write_text("filename,articleType\n" + "".join(f"img{i:03d}.jpg,{i % 2}\n"
                                                                          for i in range(6)))
    argv = [a.format(photo=folder / "img000.jpg", folder=folder) for a in command]
    if argv[0] != "info":
        argv += ["--model", "colour-texture"]
    read, write = os.pipe()
    os.close(read)  # like `| head -1` once head has exited: nobody reads what the command prints
    with os.fdopen(write, "w") as closed_pipe:
        result = subprocess.run([sys.executable, "-m", "desktop_app.cli", *argv], stdout=closed_pipe,
                                stderr=subprocess.PIPE, text=True, cwd=REPO, timeout=120)
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr, result.stderr
    assert result.returncode == program.SIGPIPE_EXIT


# -- 2. counts ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, option", [
    (["query", "p.jpg", "--catalog", "c", "-k", "-3"], "-k"),
    (["query", "p.jpg", "--catalog", "c", "-k", "0"], "-k"),
    (["index", "c", "--batch-size", "0"], "--batch-size"),
    (["eval", "c", "-k", "0"], "-k"),
    (["eval", "c", "--sheet-rows", "0"], "--sheet-rows"),
    (["bench", "-n", "0"], "-n"),
    (["bench", "--batch-size", "0"], "--batch-size"),
])
def test_every_count_below_one_is_refused_in_one_line(argv, option, capsys):
    with pytest.raises(SystemExit) as refused:
        cli.main(argv)
    assert refused.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"fashionrec: argument {option}: must be at least 1, got ")


def test_a_count_that_is_not_a_number_is_named(capsys):
    with pytest.raises(SystemExit):
        cli.main(["index", "c", "--batch-size", "many"])
    assert "argument --batch-size: expected a whole number, got 'many'" in capsys.readouterr().err


# -- 3. no display --------------------------------------------------------------------------------------
def _no_display_env() -> dict:
    return {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the display check is for Linux")
def test_help_and_version_need_no_display_and_the_window_says_why_it_cannot_open():
    env = _no_display_env()
    shown = _run("desktop_app", "--help", env=env)
    assert shown.returncode == 0 and shown.stdout.startswith("usage: python -m desktop_app")
    assert "index" in shown.stdout and "--backend" not in shown.stderr
    version = _run("desktop_app", "--version", env=env)
    assert version.returncode == 0 and version.stdout.startswith("fashionrec ")
    window = _run("desktop_app", env=env)
    assert window.returncode == 1 and window.stdout == ""
    assert window.stderr.splitlines() == [window.stderr.strip()]  # one line
    assert window.stderr.startswith("fashionrec: no display")
    assert "xvfb-run -a" in window.stderr and "QT_QPA_PLATFORM=offscreen" in window.stderr
    wrong = _run("desktop_app", "--model", "nope", env=env)
    assert wrong.returncode == 2 and "invalid choice: 'nope'" in wrong.stderr and "Abort" not in wrong.stderr


# -- 4. caches of folders that are gone -------------------------------------------------------------------
def test_info_lists_every_cached_catalog_and_forget_removes_stale_ones(make_catalog, capsys):
    kept = _colour_texture_catalog(make_catalog, name="kept")
    gone = _colour_texture_catalog(make_catalog, 3, name="gone")
    gone_root = gone.resolve()
    for path in gone.iterdir():
        path.unlink()
    gone.rmdir()

    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"catalog {kept.resolve()}\n" in out and f"catalog {gone_root}  (folder no longer exists)" in out
    assert "6 items, 0 skipped" in out and "3 items, 0 skipped" in out
    assert "2 cached catalog(s)" in out and "1 whose folder is gone" in out and "forget --missing" in out

    assert cli.main(["forget", str(gone_root)]) == 0
    assert capsys.readouterr().out.startswith(f"forgot 1 cache(s) of {gone_root}")
    assert cli.main(["forget", str(gone_root)]) == 0
    assert capsys.readouterr().out.strip() == f"nothing cached for {gone_root}"
    assert [c.root for c in caches.list_catalogs()] == [str(kept.resolve())]


def test_forget_missing_keeps_the_catalogs_that_still_exist(make_catalog, capsys):
    kept = _colour_texture_catalog(make_catalog, name="kept")
    gone = _colour_texture_catalog(make_catalog, 3, name="gone")
    gone.rename(gone.with_name("moved"))
    assert cli.main(["forget", "--missing"]) == 0
    out = capsys.readouterr().out
    assert f"forgot {gone.resolve()} (colour-texture;" in out and "1 cache(s) of missing folders removed" in out
    assert [c.root for c in caches.list_catalogs()] == [str(kept.resolve())]
    assert cli.main(["forget", "--missing", str(kept)]) == 1  # one or the other


def test_a_store_size_includes_its_wal_and_shm_files(make_catalog):
    folder = make_catalog(4)
    with CatalogSession(folder, CountingEmbedder()) as session:
        session.index()  # the connection is open: SQLite keeps the -wal and -shm files
        path = session.store.path
        parts = [os.path.getsize(f"{path}{suffix}") for suffix in ("", "-wal", "-shm")]
        assert parts[1] > 0 and caches.bytes_on_disk(path) == sum(parts)
        assert caches.list_stores(session.root)[0].bytes == sum(parts)


# -- 5. no stderr (a windowed app on Windows) ----------------------------------------------------------------
def test_the_cli_runs_without_stdout_and_stderr(make_catalog, monkeypatch):
    folder = make_catalog(3)
    monkeypatch.setattr(sys, "stderr", None)
    monkeypatch.setattr(sys, "stdout", None)
    assert cli.main(["index", str(folder), "--model", "colour-texture"]) == 0
    progress.ProgressLine(None)  # built with no stream at all: writes nothing
    for stream in (sys.stdout, sys.stderr):  # what main put in their place, kept open for the process's life
        assert stream.name == os.devnull
        stream.close()


def test_the_packaged_app_offers_no_ray_engine(monkeypatch):
    assert program.build_parser().parse_args(["index", "F", "--engine", "ray"]).engine == "ray"
    monkeypatch.setattr(sys, "frozen", True, raising=False)  # what PyInstaller sets: Ray is not bundled
    with pytest.raises(SystemExit):
        program.build_parser().parse_args(["index", "F", "--engine", "ray"])
    assert program.build_parser().parse_args(["index", "F"]).engine == "local"


def test_indexing_again_with_nothing_new_prints_no_progress_line(make_catalog, capsys):
    folder = make_catalog(3)
    assert cli.main(["index", str(folder), "--model", "colour-texture"]) == 0
    assert "indexing 3/3 (100%)" in capsys.readouterr().err
    assert cli.main(["index", str(folder), "--model", "colour-texture"]) == 0
    again = capsys.readouterr()
    assert "0 embedded, 3 unchanged" in again.out
    assert not any(line.startswith("indexing") for line in again.err.splitlines())


# -- 6. a folder without images ------------------------------------------------------------------------------
def test_a_folder_without_images_is_one_line_and_creates_nothing(tmp_path, data_dir, capsys):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "notes.txt").write_text("no photos here")
    assert cli.main(["index", str(tmp_path / "empty"), "--model", "colour-texture"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [f"fashionrec: No images found in {(tmp_path / 'empty').resolve()} "
                                         "(looked for .jpg .jpeg .png .webp .bmp .gif .tif .tiff files)."]
    assert not (data_dir / "catalogs").exists() or not list((data_dir / "catalogs").rglob("*.sqlite*"))


# -- 7. one lock per store; readers of an up-to-date store need none -----------------------------------------
def test_indexing_one_model_does_not_block_another(make_catalog):
    folder = make_catalog(4)
    with (CatalogSession(folder, CountingEmbedder()) as tiny, tiny.store.writer_lock(),
          CatalogSession(folder, create_embedder("colour-texture")) as other):
        assert other.index().embedded == 4


def test_a_reader_needs_the_lock_only_when_there_is_something_to_index(make_catalog):
    folder = make_catalog(4)
    with CatalogSession(folder, CountingEmbedder()) as indexer, CatalogSession(folder, CountingEmbedder()) as reader:
        indexer.index()
        with indexer.store.writer_lock():
            assert reader.index(lock_only_for_changes=True).unchanged == 4  # nothing to do: no lock
            with pytest.raises(CatalogBusy, match="is busy: another fashionrec is indexing it with tiny"):
                reader.index()  # `index` itself always takes it
            (folder / "img001.jpg").write_bytes((folder / "img002.jpg").read_bytes())
            with pytest.raises(CatalogBusy):
                reader.index(lock_only_for_changes=True)


def test_the_busy_message_offers_wait_and_wait_says_it_is_waiting(make_catalog, tmp_path, data_dir):
    folder = _colour_texture_catalog(make_catalog, 4)
    command = [sys.executable, "-m", "desktop_app.cli", "index", str(folder), "--model", "colour-texture"]
    with CatalogSession(folder, create_embedder("colour-texture")) as session, session.store.writer_lock():
        busy = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=120)
        waiting = subprocess.Popen([*command, "--wait"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   cwd=REPO)
        first_lines = [waiting.stderr.readline() for _ in range(3)]  # catalog, model, then the wait
    out, err = waiting.communicate(timeout=120)
    assert busy.returncode == 1 and busy.stderr.strip().endswith("Or add --wait to wait for it.")
    assert first_lines[2].startswith(f"waiting for the other fashionrec indexing {folder.resolve()}")
    assert waiting.returncode == 0 and "4 unchanged" in out


# -- 8. a catalog indexed with another model ---------------------------------------------------------------------
def test_query_names_the_models_a_catalog_has_a_cache_for(make_catalog, monkeypatch, capsys):
    folder = _colour_texture_catalog(make_catalog)

    def no_weights(args):
        from desktop_app.core.embedders import WeightsNeeded

        raise WeightsNeeded("No ResNet50 weights file found (a long explanation) …")

    assert cli.main(["query", str(folder / "img000.jpg"), "--catalog", str(folder), "--model", "resnet50"],
                    make_embedder=no_weights) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"fashionrec: {folder.resolve()} has a cache for colour-texture only, and resnet50 needs weights that were "
        "not found: add --model colour-texture, or give --weights FILE."]


# -- 9. names and choices shown are the real ones ------------------------------------------------------------------
def test_usage_names_the_program_that_was_run():
    assert _run("desktop_app", "index", "--help").stdout.startswith("usage: python -m desktop_app index ")
    assert _run("desktop_app.cli", "query", "--help").stdout.startswith("usage: python -m desktop_app.cli query ")


def test_only_backends_this_installation_can_run_are_offered(monkeypatch):
    monkeypatch.setattr(options, "available_backends", lambda: ())  # the packaged app: no TensorFlow
    args = program.build_parser().parse_args(["index", "c"])
    assert options.backend_from(args) is None
    with pytest.raises(SystemExit):
        program.build_parser().parse_args(["index", "c", "--backend", "keras"])


def test_durations_in_words_and_on_a_clock():
    assert (rough_duration(12), rough_duration(80), rough_duration(600)) == ("under a minute", "about 1 min",
                                                                              "about 10 min")
    assert (format_duration(None), format_duration(61.4), format_duration(3725)) == ("--:--", "1:01", "1:02:05")


# -- 13. the command registry -------------------------------------------------------------------------------------
def test_the_cli_is_built_from_the_registry_and_main_does_not_import_it():
    subcommands = program.build_parser()._subparsers._group_actions[0].choices
    assert list(subcommands) == list(COMMANDS)
    check = subprocess.run([sys.executable, "-c", "import sys, desktop_app.__main__, desktop_app.cli.commands; print("
                            "'desktop_app.cli.program' in sys.modules, 'desktop_app.core.session' in sys.modules)"],
                           capture_output=True, text=True, cwd=REPO, timeout=60)
    assert check.stdout.split() == ["False", "False"], check.stderr
