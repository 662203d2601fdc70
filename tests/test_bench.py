"""The bench command: its inputs and helpers, and one tiny end-to-end run (figures printed, never judged)."""

import io
import os
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

from desktop_app import bench
from desktop_app.bench import inputs, machine, measure
from desktop_app.cli import benchmark, program
from desktop_app.cli.commands import COMMANDS
from desktop_app.core.catalog import scan
from desktop_app.core.catalog_data import Catalog
from desktop_app.core.errors import UserError
from desktop_app.core.images import load_rgb
from support import make_image


def test_generated_images_when_there_is_no_sample_catalog(tmp_path, monkeypatch):
    monkeypatch.setattr(inputs, "DEFAULT_IMAGES", tmp_path / "absent")
    folder, source = inputs.prepare_catalog(None, 6, tmp_path / "work")
    files = scan(folder)
    assert len(files) == 6 and "6 generated" in source
    pixels = [load_rgb(folder / f.relpath).tobytes() for f in files]
    assert len(set(pixels)) == 6  # all decodable, all different


def test_catalog_of_the_first_n_photos_of_a_folder(tmp_path):
    for i in range(5):
        make_image(tmp_path / "photos" / f"p{i}.jpg", seed=i)
    folder, _ = inputs.prepare_catalog(tmp_path / "photos", 3, tmp_path / "work")
    assert sorted(p.read_bytes() for p in folder.iterdir()) == sorted(
        (tmp_path / "photos" / f"p{i}.jpg").read_bytes() for i in range(3))
    with pytest.raises(UserError, match="has only 5 images"):
        inputs.prepare_catalog(tmp_path / "photos", 9, tmp_path / "work2")


def test_the_indexer_counts_its_decodes(tmp_path, counting_embedder):
    from desktop_app.core.session import CatalogSession

    for i in range(3):
        make_image(tmp_path / "c" / f"p{i}.jpg", seed=i)
    with CatalogSession(tmp_path / "c", counting_embedder) as session:
        assert session.index().decoded == 3
        assert session.index().decoded == 0  # unchanged files are not decoded again
        make_image(tmp_path / "c" / "p1.jpg", seed=9)
        (tmp_path / "c" / "p2.jpg").write_bytes(b"broken")  # a decode that fails is still a decode
        assert session.index().decoded == 2


def test_reopen_of_a_synthesised_indexed_catalog_decodes_and_hashes_nothing(tmp_path, counting_embedder):
    photos = [make_image(tmp_path / f"src{i}.jpg", seed=i) for i in range(3)]
    inputs.synthesise_indexed_catalog(photos, 25, tmp_path / "big", counting_embedder, tmp_path / "data")
    with closing(Catalog((tmp_path / "big").resolve(), tmp_path / "data").open_store(counting_embedder)) as store:
        assert store.unhashed() == []  # as the indexer leaves it: the re-open's time is not a migration's
    seconds, decodes, items = measure.reopen(tmp_path / "big", counting_embedder, tmp_path / "data")
    assert (decodes, items, counting_embedder.embedded) == (0, 25, 0)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_peak_rss_follows_a_big_allocation():
    import mmap

    assert machine.reset_peak_rss()
    before = machine.peak_rss()
    with mmap.mmap(-1, 64 * 2**20) as block:  # fresh pages (malloc could reuse resident ones)
        np.frombuffer(block, np.uint8)[:] = 1  # touched: now resident
        assert machine.peak_rss() >= before + 60 * 2**20


def test_bench_command_line():
    args = program.build_parser().parse_args(["bench", "--images", "x", "-n", "7", "--backend", "keras"])
    assert (args.images, args.n, args.backend, args.run) == (Path("x"), 7, "keras", benchmark.cmd_bench)
    assert "bench" in COMMANDS


@pytest.mark.heavy
def test_tiny_bench_prints_every_figure_and_leaves_the_data_dir_alone(tmp_path, random_embedder, data_dir):
    for i in range(4):
        make_image(tmp_path / "photos" / f"p{i}.jpg", seed=i)
    out, log = io.StringIO(), io.StringIO()
    rows = bench.run_bench(random_embedder, images=tmp_path / "photos", n=4, knn_sizes=(100, 300),
                           reopen_size=40, out=out, log=log)
    text = out.getvalue()
    for figure in ("seed loop", "raw forward", "our index pipeline", "ratio ours / seed loop",
                   "ratio ours / raw forward", "peak RSS", "query latency median", "query latency p95",
                   "re-open, 4 items, 0 decodes", "re-open, 40 items, 0 decodes", "k-NN, 100 items",
                   "k-NN, 300 items"):
        assert figure in text, figure
    assert all(row.value for row in rows)
    assert not (data_dir / "catalogs").exists()  # the bench's stores went to a temporary data dir
    assert os.environ["FASHIONREC_DATA_DIR"] == str(data_dir)


def test_the_moved_bench_renames_photos_and_reports_them_moved_not_embedded(make_catalog, counting_embedder):
    from desktop_app.bench.moves import run_moves_bench

    out = io.StringIO()
    result = run_moves_bench(counting_embedder, make_catalog(12), n=12, out=out, log=io.StringIO())
    rows = {row.label: row for row in result.rows}
    assert rows["index after the move: embedded, moved"].value == "0, 12"
    assert rows["index after the move: embedded, moved"].met and "ratio to the goal" in out.getvalue()
    assert counting_embedder.embedded == 0  # the store was filled as if indexed, the move embedded nothing
