"""Searching without writing (issue 24): `query` only reads a cache. It creates none for a model the catalog was
never indexed with (it says which caches there are), and it works, as `info` does, on a data folder on a
read-only disk."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app import cli
from desktop_app.core.catalog_data import Catalog
from desktop_app.core.embedders import create_embedder
from desktop_app.core.session import CatalogSession
from support import REPO, CountingEmbedder, make_image, write_labels

pytestmark = pytest.mark.integration


def fashionrec(*argv: str, env_changes: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "desktop_app.cli", *argv], capture_output=True, text=True,
                          cwd=REPO, timeout=120, env={**os.environ, **(env_changes or {})})


def stores(data_dir: Path) -> list[Path]:
    return sorted(data_dir.rglob("*.sqlite"))


def test_query_with_a_model_never_indexed_creates_nothing_and_names_what_is_cached(make_catalog, data_dir):
    folder = make_catalog(4)
    assert fashionrec("index", str(folder), "--model", "colour-texture").returncode == 0
    before = stores(data_dir)
    result = fashionrec("query", str(folder / "img001.jpg"), "--catalog", str(folder), "--model", "shape-colour")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        f"fashionrec: The catalog {folder} is not indexed with shape-colour yet. It has a cache for colour-texture: "
        f"add --model colour-texture to search it, or index it first: "
        f"python -m desktop_app.cli index {folder} --model shape-colour")
    assert stores(data_dir) == before  # no empty shape-colour cache for `info` to list
    assert "shape-colour" not in fashionrec("info").stdout


class Int8Resnet(CountingEmbedder):
    """Stands for resnet50 in int8 (a store's fingerprint is JSON naming its precision)."""
    name = "resnet50"
    precision = "int8"

    @property
    def fingerprint(self) -> str:
        return json.dumps({"model": "resnet50", "precision": self.precision})


class Fp32Resnet(Int8Resnet):
    precision = "fp32"


def test_a_catalog_indexed_only_in_int8_names_the_precision_option(make_catalog, capsys):
    folder = make_catalog(3)
    with CatalogSession(folder, Int8Resnet()) as session:
        session.index()
    code = cli.main(["query", str(folder / "img000.jpg"), "--catalog", str(folder)],
                    make_embedder=lambda args: Fp32Resnet())
    assert code == 1
    assert "It has a cache for resnet50 int8: add --model resnet50 --precision int8 to search it" in \
        capsys.readouterr().err


def _can_mount_read_only() -> bool:
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True)
    return probe.returncode == 0


def read_only_view(data_dir: Path, target: Path, *argv: str) -> subprocess.CompletedProcess:
    """Runs the CLI with FASHIONREC_DATA_DIR on a read-only mount of `data_dir` (a bind mount in a private mount
    namespace: even root cannot write there, as on the read-only disk the newcomer had)."""
    target.mkdir()
    command = " ".join(map(str, [sys.executable, "-m", "desktop_app.cli", *[f"'{a}'" for a in argv]]))
    script = (f"mount --bind '{data_dir}' '{target}' && mount -o remount,ro,bind '{target}' && "
              f"FASHIONREC_DATA_DIR='{target}' exec {command}")
    return subprocess.run(["unshare", "--mount", "sh", "-c", script], capture_output=True, text=True, cwd=REPO,
                          timeout=120)


@pytest.mark.skipif(not _can_mount_read_only(), reason="needs a private mount namespace (unshare --mount)")
def test_an_up_to_date_cache_on_a_read_only_disk_is_searched_and_listed(make_catalog, data_dir, tmp_path):
    folder = make_catalog(5)
    with CatalogSession(folder, create_embedder("colour-texture")) as session:
        session.index()
    mount = tmp_path / "read-only"
    query = read_only_view(data_dir, mount, "query", folder / "img002.jpg", "--catalog", folder,
                           "--model", "colour-texture", "-k", "2", "--include-self")
    assert query.returncode == 0, query.stderr
    assert query.stdout.splitlines()[0].endswith(f"{folder / 'img002.jpg'}")
    info = read_only_view(data_dir, tmp_path / "read-only-2", "info")
    assert info.returncode == 0, info.stderr
    assert f"catalog {folder}\n  colour-texture" in info.stdout
    assert "no longer exists" not in info.stdout and "forget --missing" not in info.stdout


READING_COMMANDS = {  # a command that indexes before reading → (its arguments after the folder, what it prints)
    "eval": (("-k", "2"), "leave-one-out on 'articleType': 4 queries, 5 labelled items"),
    "neighbours": (("--out", "OUT/similar.csv", "-k", "2"), "wrote 10 rows (5 items × 2 similar items)"),
    "duplicates": (("--threshold", "0"), "0 group(s) of near-duplicates, 0 items, among 5 items"),
    "match": (("--catalog", "FOLDER", "--out", "OUT/matches.csv", "-k", "2"), "matched 5 photos of"),
}


@pytest.mark.skipif(not _can_mount_read_only(), reason="needs a private mount namespace (unshare --mount)")
@pytest.mark.parametrize("command", READING_COMMANDS)
def test_commands_that_index_first_read_an_up_to_date_cache_on_a_read_only_disk(command, make_catalog, data_dir,
                                                                                 tmp_path):
    """eval, neighbours, duplicates and match bring the index up to date before reading it: on a read-only data
    folder an up-to-date cache is read as it is (they failed with 'Cannot write to the fashionrec data folder'),
    and one that is not up to date is said in one line, naming what changed and why it cannot be brought up to
    date."""
    folder = make_catalog(5)
    write_labels(folder, 5)
    with CatalogSession(folder, create_embedder("colour-texture")) as session:
        session.index()
    out = tmp_path / "out"
    out.mkdir()
    extra, printed = READING_COMMANDS[command]
    argv = [command, folder, *[a.replace("OUT", str(out)).replace("FOLDER", str(folder)) for a in extra],
            "--model", "colour-texture"]
    result = read_only_view(data_dir, tmp_path / "read-only", *argv)
    assert result.returncode == 0, result.stderr
    assert printed in result.stdout

    make_image(folder / "img100.jpg", seed=100)  # the cache is no longer up to date
    (folder / "img001.jpg").unlink()
    stale = read_only_view(data_dir, tmp_path / "read-only-2", *argv)
    assert stale.returncode == 1 and "Traceback" not in stale.stderr
    assert stale.stderr.splitlines()[-1] == (
        f"fashionrec: The cache of {folder} for colour-texture is not up to date (new or changed photos: 1, gone: 1) "
        f"and cannot be brought up to date: fashionrec's data folder {tmp_path / 'read-only-2'}/catalogs/"
        f"{Catalog.open(folder, data_dir).folder.name} cannot be written (a read-only disk or folder): index the "
        "catalog where it can be written, or point FASHIONREC_DATA_DIR at a writable copy of it.")


@pytest.mark.skipif(not _can_mount_read_only(), reason="needs a private mount namespace (unshare --mount)")
def test_a_model_never_indexed_on_a_read_only_disk_says_it_cannot_be_indexed_there(make_catalog, data_dir, tmp_path):
    folder = make_catalog(3)
    with CatalogSession(folder, create_embedder("colour-texture")) as session:
        session.index()
    result = read_only_view(data_dir, tmp_path / "read-only", "duplicates", folder, "--model", "shape-colour")
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"fashionrec: The catalog {folder} is not indexed with shape-colour yet. It has a "
                                    "cache for colour-texture: add --model colour-texture to search it")
    assert result.stderr.rstrip().endswith("cannot be written (a read-only disk or folder): index the catalog where "
                                           "it can be written, or point FASHIONREC_DATA_DIR at a writable copy of it.")
