"""The window's two lanes and watched folder (issue 23), measured outside the tests:

    python -m desktop_app.bench.search_while_indexing [--items 10000] [--model resnet50] [--random-weights 0]
        [--photos /work/shared/data/fashion-2k/images] [--at 0.05 0.1 0.2] [--batch-size 16]

--model takes a model box choice too, e.g. "efficientnet-lite0 (fp32)"; --random-weights is ResNet50's seeded
init (said in the output: its weights file is not on this machine).

1. A catalog of N links to the sample photos (cycled) is opened in the window (offscreen is fine) for the first
   time; when indexing has done each fraction given by --at, a sample photo is dropped as a query: the time from
   the query to its answer (results title) and to the complete grid (thumbnails painted) is printed, with how
   many items the answer searched, and whether indexing was still running when it arrived. Indexing is then
   cancelled.
2. The watched folder: a 200-photo catalog with colour-texture, indexed; a query photo from outside; the photo is
   copied into the catalog and the time until it is the first result, with no key pressed, is printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from .browser_scroll import make_links
from .event_loop import gui_application, wait_until
from .inputs import DEFAULT_IMAGES
from .machine import load_average, run_heading


def search_while_indexing(app, args, folder: Path, query: Path) -> None:
    from ..core.weights import random_weights
    from ..ui.main_window import MainWindow

    weights = random_weights(args.random_weights) if args.random_weights is not None else None
    window = MainWindow(model=args.model, weights=weights, batch_size=args.batch_size)
    window.resize(1100, 720)
    window.show()
    answered: list[float] = []
    pane = window.search
    real_on_answer = pane._on_answer

    def on_answer(answer, version) -> None:  # the moment each answer arrives, then the pane's own handling
        answered.append(time.perf_counter())
        real_on_answer(answer, version)

    setattr(pane, "_on_answer", on_answer)  # noqa: B010 - a timing hook on the pane's slot, this run only

    def progress():
        assert window.control.progress is not None  # set once indexing has started (waited for below)
        return window.control.progress

    window.open_catalog(folder)
    wait_until(app, lambda: window.control.progress is not None)
    total = progress().total
    catalog = window.catalog  # what the window opened: the embedder's own description (weights) and precision
    model = f"{catalog.model} ({catalog.precision})" if catalog else args.model
    print(f"1. search while indexing: {total:,} photos ({photo_sizes(args.photos)}; the query {photo_sizes(query)}), "
          f"{model}, batch {args.batch_size}")
    for fraction in args.at:
        wait_until(app, lambda f=fraction: progress().done >= f * total)
        done_before = progress().done
        grids: list[float] = []
        window.grid_ready.connect(grids.append)
        asked = time.perf_counter()
        window.query_image(query)
        wait_until(app, lambda grids=grids: bool(grids), timeout=120)
        window.grid_ready.disconnect(grids.append)
        answer = answered[-1] - asked
        print(f"   at {done_before:,}/{total:,} indexed: answer {answer:.3f} s, complete grid {grids[0]:.3f} s, "
              f"indexing still running: {window.indexing}; title: {window.results_title.text()!r}")
    window.cancel_indexing()
    wait_until(app, lambda: not window.indexing)
    window.close()


def photo_sizes(path: Path, count: int = 50) -> str:
    """The sizes of a photo, or of a folder's first `count` photos (the sample's are all 224×224)."""
    from PIL import Image

    paths = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())[:count]
    sizes = set()
    for photo in paths:
        with Image.open(photo) as image:
            sizes.add(image.size)
    return ", ".join(f"{w}×{h}" for w, h in sorted(sizes))


def watched_folder(app, photos: Path, workdir: Path) -> None:
    from ..core.catalog import scan
    from ..ui.main_window import MainWindow

    folder = workdir / "watched"
    folder.mkdir()
    make_links(photos, 200, folder)
    outside = photos / next(f.relpath for f in scan(photos.resolve()))
    window = MainWindow(model="colour-texture")
    window.show()
    finished: list[object] = []
    window.index_finished.connect(finished.append)
    window.open_catalog(folder)
    wait_until(app, lambda: bool(finished))
    arrival = workdir / f"arrival{outside.suffix}"
    shutil.copy(outside, arrival)
    window.query_image(arrival)
    wait_until(app, lambda: window.grid.count() == 5)
    copied = time.perf_counter()
    shutil.copy(arrival, folder / arrival.name)
    wait_until(app, lambda: bool(window.shown_results()) and window.shown_results()[0].relpath == arrival.name, 60)
    print(f"2. watched folder (colour-texture, 200 items): a photo copied in is the first result after "
          f"{time.perf_counter() - copied:.2f} s, no key pressed; index runs started by the watch: {window.watch.runs}")
    window.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop_app.bench.search_while_indexing")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--photos", type=Path, default=DEFAULT_IMAGES)
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--random-weights", type=int, default=0, help="seed of ResNet50's random init (say so)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--at", type=float, nargs="+", default=[0.02, 0.05, 0.1])
    args = parser.parse_args(argv)
    if args.model != "resnet50":
        args.random_weights = None

    app = gui_application()
    print(f"{run_heading('search while indexing')}; Qt platform {app.platformName()}; load {load_average()}")
    with tempfile.TemporaryDirectory(prefix="fashionrec-lanes-") as workdir:
        os.environ["FASHIONREC_DATA_DIR"] = str(Path(workdir) / "data")  # a first indexing, whatever was cached
        (Path(workdir) / "catalog").mkdir()
        make_links(args.photos, args.items, Path(workdir) / "catalog")
        query = args.photos / sorted(os.listdir(args.photos))[0]
        search_while_indexing(app, args, Path(workdir) / "catalog", query)
        watched_folder(app, args.photos, Path(workdir))
    print(f"load at the end {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
