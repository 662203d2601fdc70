"""The catalog map's pan and zoom responsiveness at 44,000 items (issue 25), outside the tests:

    xvfb-run -a -s "-screen 0 1280x800x24" python -m desktop_app.bench.map_pan [--items 44000] [--frames 120]

A map of N items (clusters of points, coloured by 12 labels + 'other', as a real catalog's layout looks) is shown
in the map's canvas (map_canvas.py) at 1000×700 with a query's 5 results ringed; then it pans a step per 16 ms
timer tick, zooms in and out around the middle a step per tick (down to where thumbnails are drawn), while a 1 ms
timer measures the event loop's latency (its longest gap is the longest the window could not react). Thumbnails
come from links to the sample photos when --photos is given. Also times reading a cached map of N items back
(core.catalog_map.read_map, the "cached re-open"). Prints the figures.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from .machine import load_average, run_heading


def synthetic_map(items: int, seed: int = 0) -> tuple[list[str], np.ndarray, list[str | None]]:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-60, 60, (40, 2))
    cluster = rng.integers(0, len(centres), items)
    points = centres[cluster] + rng.normal(scale=rng.uniform(1, 6, len(centres))[cluster, None], size=(items, 2))
    labels = [f"label{c % 16}" if c % 17 else None for c in cluster]
    return [f"p{i:05d}.jpg" for i in range(items)], points, labels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop_app.bench.map_pan")
    parser.add_argument("--items", type=int, default=44_000)
    parser.add_argument("--frames", type=int, default=120, help="ticks of each pass (pan, zoom in, zoom out)")
    parser.add_argument("--photos", type=Path, help="thumbnails: links to these photos (default: grey boxes)")
    args = parser.parse_args(argv)

    from PySide6.QtCore import QPointF

    from ..core.catalog_map import CatalogMap, read_map, save_map
    from ..ui.map_canvas import MapCanvas
    from ..ui.thumbnails import ThumbnailLoader
    from .browser_scroll import make_links
    from .event_loop import LoopWatch, gui_application, run_for

    app = gui_application()
    print(f"{run_heading('map pan/zoom')}; Qt platform {app.platformName()}")
    relpaths, points, labels = synthetic_map(args.items)
    with tempfile.TemporaryDirectory(prefix="fashionrec-map-") as workdir:
        cache = Path(workdir) / "store.sqlite.map.npz"
        save_map(cache, CatalogMap(relpaths, points.astype(np.float32), "generation-1"))
        started = time.perf_counter()
        again = read_map(cache, "generation-1")
        assert again is not None and len(again) == args.items
        print(f"cached map of {args.items:,} items read back in {(time.perf_counter() - started) * 1000:.0f} ms "
              f"({cache.stat().st_size / 2**20:.1f} MiB)")
        if args.photos:
            relpaths = make_links(args.photos, args.items, Path(workdir))
        loader = ThumbnailLoader()
        canvas = MapCanvas(loader)
        canvas.resize(1000, 700)
        canvas.show()
        started = time.perf_counter()
        canvas.set_map(workdir, relpaths, points, labels)
        canvas.show_query(relpaths[:5])
        canvas.repaint()
        ms = (time.perf_counter() - started) * 1000
        print(f"map of {args.items:,} items set and first frame painted in {ms:.0f} ms")

        watch = LoopWatch()

        def measured(step, what: str) -> None:
            frames: list[float] = []
            shown: list[int] = []
            watch.start()
            for _ in range(args.frames):
                t0 = time.perf_counter()
                step()
                canvas.repaint()  # paint now, as a screen refresh would
                frames.append((time.perf_counter() - t0) * 1000)
                shown.append(canvas.last_frame_items)
                run_for(16)
            watch.stop()
            gaps = watch.gaps
            print(f"{what}: step+paint median {statistics.median(frames):.1f} ms, max {max(frames):.1f} ms; "
                  f"event-loop gap median {statistics.median(gaps):.1f} ms, max {max(gaps):.1f} ms "
                  f"(target < 50 ms); items in view {min(shown):,}–{max(shown):,}")

        run_for(200)
        moves = iter([(7, 3)] * (args.frames // 2) + [(-7, -3)] * args.frames)
        measured(lambda: canvas.pan(*next(moves)), f"pan, 7 px per tick there and back ({args.frames} ticks)")
        canvas.centre = points[0].copy()  # zoom in on an item in a cluster
        middle = QPointF(500, 350)
        zoom_in = (60 ** (1 / args.frames))
        measured(lambda: canvas.zoom(zoom_in, middle), f"zoom in to 60× ({args.frames} ticks, thumbnails at the end)")
        measured(lambda: canvas.zoom(1 / zoom_in, middle), "zoom out again")
        loader.shut_down()
        canvas.close()
    print(f"load average at the end {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
