"""The catalog browser's scroll responsiveness on a big catalog (issue #14.5), outside the tests:

    xvfb-run -a -s "-screen 0 1280x800x24" python -m desktop_app.bench.browser_scroll [--items 44000]
        [--photos /work/shared/data/fashion-2k/images] [--pages 60] [--photo-size 1500x2000 [--distinct 300]]

A folder of N links to the sample photos (cycled) is shown in the browser's grid (catalog_grid.py) at
1100×720; then the grid scrolls one page per 16 ms timer tick (a person holding Page Down, faster than
any screen refresh), then one page at a time waiting for its thumbnails. A 1 ms timer measures the event
loop's latency throughout (its longest gap is the longest the window could not react). Prints the figures.
With --photo-size, the links go to `--distinct` enlarged copies of the photos at that size (photo_sizes.py).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from ..core.catalog import scan
from .inputs import DEFAULT_IMAGES, link_or_copy
from .machine import load_average, run_heading
from .photo_sizes import describe_size, enlarged_copies, photo_size_argument


def make_links(photos: Path, n: int, folder: Path, photo_size: tuple[int, int] | None = None,
               distinct: int = 300) -> list[str]:
    sources = [photos / f.relpath for f in scan(photos.resolve())]
    if photo_size is not None and sources:
        sources = enlarged_copies(sources[:distinct], folder / "enlarged", photo_size)
    if not sources:
        raise SystemExit(f"no photos in {photos}")
    names = [f"p{i:05d}{sources[i % len(sources)].suffix.lower()}" for i in range(n)]
    for i, name in enumerate(names):
        link_or_copy(sources[i % len(sources)], folder / name)
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop_app.bench.browser_scroll")
    parser.add_argument("--items", type=int, default=44_000)
    parser.add_argument("--photos", type=Path, default=DEFAULT_IMAGES)
    parser.add_argument("--pages", type=int, default=60, help="pages scrolled in each pass")
    parser.add_argument("--photo-size", type=photo_size_argument, help="WIDTHxHEIGHT: enlarged copies of the photos")
    parser.add_argument("--distinct", type=int, default=300, help="how many enlarged copies (with --photo-size)")
    args = parser.parse_args(argv)


    from ..core.filters import CatalogItem
    from ..ui.catalog_grid import CatalogGrid
    from ..ui.thumbnails import ThumbnailLoader
    from .event_loop import LoopWatch, gui_application, run_for

    app = gui_application()
    print(f"{run_heading('browser scroll')}; Qt platform {app.platformName()}")
    with tempfile.TemporaryDirectory(prefix="fashionrec-browser-") as workdir:
        started = time.perf_counter()
        names = make_links(args.photos, args.items, Path(workdir), args.photo_size, args.distinct)
        copies = (f" ({args.distinct} copies enlarged to {describe_size(args.photo_size)}, JPEG q90)"
                  if args.photo_size else " (as they are)")
        print(f"{len(names):,} links to the photos of {args.photos}{copies} in {time.perf_counter() - started:.1f} s")
        loader = ThumbnailLoader()
        grid = CatalogGrid(loader)
        grid.resize(1100, 720)
        grid.show()
        model = grid.catalog_model

        watch = LoopWatch()
        gaps = watch.gaps

        def wait_for_thumbnails() -> None:
            while model.wanted():
                run_for(2)

        items = [CatalogItem(name, {}) for name in names]
        run_for(200)
        started = time.perf_counter()
        grid.set_items(workdir, items)
        app.processEvents()
        print(f"list of {len(items):,} items set and first screen laid out: "
              f"{(time.perf_counter() - started) * 1000:.0f} ms")
        started = time.perf_counter()
        wait_for_thumbnails()
        print(f"first screen's {model.requested} thumbnails in: {(time.perf_counter() - started) * 1000:.0f} ms")

        bar = grid.verticalScrollBar()
        frames: list[float] = []

        def scroll_one_page() -> float:
            """Scroll a page and paint it at once (as a screen refresh would): ms spent."""
            t0 = time.perf_counter()
            bar.setValue(bar.value() + bar.pageStep())
            grid.viewport().repaint()
            return (time.perf_counter() - t0) * 1000

        # pass 1: one page every 16 ms, thumbnails decoding behind
        requested_before = model.requested
        watch.start()
        for _ in range(args.pages):
            frames.append(scroll_one_page())
            run_for(16)
        watch.stop()
        flick_gaps = list(gaps)
        requested = model.requested - requested_before
        print(f"pass 1, a page every 16 ms ({args.pages} pages, {bar.value() // grid.gridSize().height():,} "
              f"lines down): scroll+paint per page median {statistics.median(frames):.1f} ms, "
              f"max {max(frames):.1f} ms; event-loop gap median {statistics.median(flick_gaps):.1f} ms, "
              f"max {max(flick_gaps):.1f} ms; thumbnails asked for {requested:,}, decoded "
              f"{model.loaded:,} in all, cached {model.cached()}")
        wait_for_thumbnails()

        # pass 2: page by page, each page's thumbnails complete before the next
        frames.clear()
        complete: list[float] = []
        watch.start()
        for _ in range(args.pages):
            t0 = time.perf_counter()
            frames.append(scroll_one_page())
            app.processEvents()
            wait_for_thumbnails()
            complete.append((time.perf_counter() - t0) * 1000)
        watch.stop()
        print(f"pass 2, page by page ({args.pages} pages): scroll+paint median {statistics.median(frames):.1f} ms, "
              f"max {max(frames):.1f} ms; page complete with thumbnails median {statistics.median(complete):.0f} "
              f"ms, max {max(complete):.0f} ms; event-loop gap max {max(gaps):.1f} ms")

        started = time.perf_counter()
        bar.setValue(bar.maximum())
        grid.viewport().repaint()
        jump = (time.perf_counter() - started) * 1000
        wait_for_thumbnails()
        print(f"jump to the end (item {len(items):,}): scroll+paint {jump:.1f} ms; "
              f"total thumbnails asked for {model.requested:,} of {len(items):,} items, cached {model.cached()}")
        loader.shut_down()
        grid.close()
    print(f"load average at the end {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
