"""Drop a photo on the window → its five most similar items painted, measured in the real window (issue 22.5):

    xvfb-run -a -s "-screen 0 1280x800x24" python -m desktop_app.bench.drop_latency [--model colour-texture]
        [--photos /work/shared/data/fashion-2k/images] [-n 200] [--catalog-size 1500x2000]
        [--sizes 1500x2000,4000x3000] [--drops 20]

A catalog of `n` photos enlarged to `--catalog-size` (photo_sizes.py; the results' thumbnails are decoded from
them) is opened and indexed in the window. Then, for each query size, other photos enlarged to that size are
dropped on the result grid, one at a time, as a file manager drops them (the drop event Qt delivers, the same
path a person's drop takes): the time runs from sending the drop event until the grid has painted after its
fifth thumbnail arrived (the end of that paint event). Each size is preceded by one drop not counted (the first
query of a size loads nothing new, but the first ever warms the model). Beside it, the engine alone on the
same photos: CatalogSession.query (decode, embed, k-NN) with no window. Prints median and p95 of both.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ..core.catalog import scan
from .event_loop import wait_until
from .inputs import DEFAULT_IMAGES
from .machine import load_average, run_heading
from .measure import percentile
from .photo_sizes import PHONE_SIZE, SHOP_SIZE, describe_size, enlarged_copies, photo_size_argument

PAINT_TIMEOUT_S = 60


def parse_sizes(text: str) -> list[tuple[int, int]]:
    return [photo_size_argument(part) for part in text.split(",")]


def build_parser() -> argparse.ArgumentParser:
    from ..cli.options import add_model_options, add_precision_option

    parser = argparse.ArgumentParser(prog="python -m desktop_app.bench.drop_latency")
    add_model_options(parser)
    add_precision_option(parser)
    parser.add_argument("--photos", type=Path, default=DEFAULT_IMAGES)
    parser.add_argument("-n", type=int, default=200, help="photos in the catalog")
    parser.add_argument("--catalog-size", type=photo_size_argument, default=SHOP_SIZE)
    parser.add_argument("--sizes", type=parse_sizes, default=[SHOP_SIZE, PHONE_SIZE], help="query photo sizes")
    parser.add_argument("--drops", type=int, default=20, help="drops measured per query size")
    return parser


def summary(seconds: list[float]) -> str:
    return (f"median {1000 * statistics.median(seconds):.0f} ms, p95 {1000 * percentile(seconds, 95):.0f} ms, "
            f"max {1000 * max(seconds):.0f} ms ({len(seconds)} drops)")


class PaintWatch:
    """Tells when the result grid has painted with all its thumbnails: `complete` (the grid's last thumbnail
    arrived) arms it, the end of the viewport's next paint event fires it."""

    def __init__(self, window):
        from PySide6.QtCore import QEvent, QObject, QTimer

        self.complete = False
        self.painted_at: float | None = None
        watch = self

        class Filter(QObject):
            def eventFilter(self, obj, event):  # noqa: N802 - Qt's name
                if event.type() == QEvent.Type.Paint and watch.complete and watch.painted_at is None:
                    QTimer.singleShot(0, watch.mark)  # runs once this paint event has been handled
                return False

        self.filter = Filter()
        window.grid.viewport().installEventFilter(self.filter)
        window.grid_ready.connect(self.arm)

    def arm(self, _seconds: float) -> None:
        self.complete = True

    def mark(self) -> None:
        if self.painted_at is None:
            self.painted_at = time.perf_counter()

    def reset(self) -> None:
        self.complete, self.painted_at = False, None


def gui_drops(app, window, photos: list[Path]) -> list[float]:
    """Seconds from each drop to the painted grid (the first photo is dropped once, not counted)."""
    from ..ui.app import deliver_drop, file_mime

    watch = PaintWatch(window)
    times = []
    for photo in photos:
        watch.reset()
        started = time.perf_counter()
        deliver_drop(window.grid.viewport(), file_mime(photo))
        wait_until(app, lambda: watch.painted_at is not None, PAINT_TIMEOUT_S, poll=0.0005)
        assert watch.painted_at is not None
        times.append(watch.painted_at - started)
        time.sleep(0.05)  # the thumbnail pool and the lanes idle, as between a person's drops
    return times[1:]


def engine_queries(folder: Path, embedder, photos: list[Path]) -> list[float]:
    from ..core.session import CatalogSession

    times = []
    with CatalogSession(folder, embedder) as session:
        for photo in photos:
            started = time.perf_counter()
            session.query(photo, k=5)
            times.append(time.perf_counter() - started)
    return times[1:]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from ..cli.options import weights_from
    from ..core.embedders import create_embedder
    from ..core.indexer import IndexReport
    from ..ui.app import create_application
    from ..ui.main_window import MainWindow

    with tempfile.TemporaryDirectory(prefix="fashionrec-drop-") as tmp:
        work = Path(tmp)
        os.environ["FASHIONREC_DATA_DIR"] = str(work / "data")  # stores and window settings of this run only
        app = create_application(sys.argv[:1])  # the app's own style: tiles as a person sees them
        print(f"{run_heading('drop latency')}; Qt platform {app.platformName()}", flush=True)
        sources = [args.photos / f.relpath for f in scan(args.photos.resolve()) if not f.problem]
        if len(sources) < args.n + args.drops + 1:
            raise SystemExit(f"{args.photos} has {len(sources)} photos; need n + drops + 1")
        folder = work / "catalog"
        enlarged_copies(sources[: args.n], folder, args.catalog_size)
        queries = {size: enlarged_copies(sources[args.n : args.n + args.drops + 1], work / describe_size(size), size)
                   for size in args.sizes}
        embedder = create_embedder(args.model, weights_from(args), getattr(args, "backend", None), args.precision,
                                   catalog=folder)
        print(f"model {embedder.describe()}; catalog: {args.n} photos at {describe_size(args.catalog_size)} "
              f"(JPEG q90); {args.drops} drops per query size", flush=True)

        window = MainWindow(embedder=embedder)
        window.resize(1100, 720)
        window.show()
        finished: list[IndexReport] = []
        window.index_finished.connect(finished.append)
        window.open_catalog(folder)
        wait_until(app, lambda: bool(finished), timeout=3600)
        print(f"indexed {finished[0].indexed} photos in the window", flush=True)
        for size, photos in queries.items():
            gui = gui_drops(app, window, photos)
            engine = engine_queries(folder, embedder, photos)
            print(f"query photo {describe_size(size)}: drop → 5 thumbnails painted {summary(gui)}; "
                  f"engine alone (decode + embed + k-NN) {summary(engine)}", flush=True)
        window.close()
    print(f"load average at the end {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
