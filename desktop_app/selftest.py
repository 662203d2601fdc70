"""`fashionrec --self-test`: proves a build works end to end, unattended, and says what it checked.

In a temporary data dir it generates a small catalog, indexes it with seeded random ResNet50 weights and
runs a 5-NN query, first through the core (what the CLI uses), then through the real main window
(offscreen, its lanes, its thumbnail grid, its watched folder); then the built-in network (EfficientNet-Lite0,
its int8 model bundled) indexes and queries the same catalog. The query photo is a resized copy of one catalog item
saved outside the catalog, so the right first answer is known. When a ResNet50 weights file was bundled,
the app must also find it by itself and run its converted model. One summary line; exit 0 only if all passed.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
from PIL import Image

CATALOG_SIZE = 12
K = 5
SEED = 0
TWIN = 5  # the catalog item the query photo is a copy of
WINDOW_TIMEOUT_MS = 180_000


class SelfTestFailure(Exception):
    pass


def make_catalog(folder: Path, count: int = CATALOG_SIZE) -> list[Path]:
    """`count` 60×80 JPEGs, each a distinct blocky colour pattern (as the tests' make_image)."""
    folder.mkdir(parents=True)
    paths = []
    for i in range(count):
        coarse = np.random.default_rng(i).integers(0, 256, size=(4, 3, 3), dtype=np.uint8)
        path = folder / f"item{i:02d}.jpg"
        Image.fromarray(coarse, "RGB").resize((60, 80), Image.Resampling.BILINEAR).save(path, quality=95)
        paths.append(path)
    return paths


def make_query(item: Path, target: Path) -> Path:
    """The item at twice its size, as PNG: another file, the same picture."""
    with Image.open(item) as img:
        img.resize((img.width * 2, img.height * 2), Image.Resampling.BICUBIC).save(target)
    return target


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SelfTestFailure(message)


def check_results(where: str, relpaths: list[str]) -> None:
    check(len(relpaths) == K, f"{where}: expected {K} results, got {len(relpaths)}: {relpaths}")
    check(len(set(relpaths)) == K, f"{where}: repeated results {relpaths}")
    twin = f"item{TWIN:02d}.jpg"
    check(relpaths[0] == twin, f"{where}: the query's twin {twin} is not first: {relpaths}")


def check_core(catalog: Path, query: Path, embedder) -> list[str]:
    """Index and query through CatalogSession, as the CLI does; returns the result relpaths."""
    from .core.session import CatalogSession

    with CatalogSession(catalog, embedder) as session:
        report = session.index(batch_size=8)
        check(not report.cancelled and report.embedded == CATALOG_SIZE and not report.all_skipped,
              f"core index: expected {CATALOG_SIZE} embedded and none skipped, got {report}")
        vectors = session.store.load_vectors()[1]
        check(vectors.shape == (CATALOG_SIZE, embedder.dim), f"core: stored vectors have shape {vectors.shape}")
        check(bool(np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)), "core: vectors not L2-normalised")
        relpaths = [r.relpath for r in session.query(query, K)]
    check_results("core query", relpaths)
    return relpaths


def check_window(catalog: Path, query: Path, embedder) -> tuple[list[str], float]:
    """Open the real main window, let it index the catalog and show the grid for the query photo; then copy a
    photo into the catalog: the folder watch (watchdog, which a build must carry) indexes it by itself."""
    import shutil

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .ui.app import create_application
    from .ui.main_window import MainWindow

    started = time.perf_counter()
    app = create_application([sys.argv[0]])
    window = MainWindow(embedder=embedder, batch_size=8)
    outcome: dict = {}

    def finish(**result) -> None:
        if "done" not in outcome:
            outcome.update(result, done=True)
            QApplication.exit(0)

    def after_index(report) -> None:
        if window.watch.runs:  # the run the watch started for the copied photo
            finish(watched=report.embedded)
        elif report.embedded == CATALOG_SIZE:
            window.query_image(query)
        else:
            finish(error=f"window: expected {CATALOG_SIZE} embedded, got {report}")

    def after_query(_seconds) -> None:
        outcome["results"] = window.shown_results()
        if window.watch.watching is None:
            finish(error="window: the catalog folder is not watched")
        else:
            shutil.copy(query, catalog / f"copied-in{query.suffix}")

    window.index_finished.connect(after_index)
    window.grid_ready.connect(after_query)
    window.message_shown.connect(lambda text: finish(error=f"window showed: {text}") if text else None)
    window.show()
    QTimer.singleShot(0, lambda: window.open_catalog(catalog))
    timeout_error = f"window: the query and the watched folder's index run not done after {WINDOW_TIMEOUT_MS // 1000} s"
    QTimer.singleShot(WINDOW_TIMEOUT_MS, lambda: finish(error=timeout_error))
    app.exec()
    visible = window.isVisible()
    tiles = window.grid.count()
    window.close()  # joins the worker thread
    (catalog / f"copied-in{query.suffix}").unlink(missing_ok=True)
    check("error" not in outcome, outcome.get("error", ""))
    check(visible, "window: the main window was not visible")
    relpaths = [item.relpath for item in outcome["results"]]
    check_results("window query", relpaths)
    check(tiles == K, f"window: the grid shows {tiles} tiles, not {K}")
    check(outcome.get("watched") == 1, f"window: the watched folder indexed {outcome.get('watched')} photos, not 1")
    return relpaths, time.perf_counter() - started


def check_bundled_weights(image: Path) -> str:
    """When a weights file was bundled, the app must choose it on its own and run its converted model."""
    from .core.embedders import create_embedder
    from .core.images import load_rgb
    from .core.paths import resources_dir
    from .core.weights import WEIGHTS_FILENAME, resolve_weights

    if not (resources_dir() / WEIGHTS_FILENAME).is_file():
        return "no weights file bundled"
    os.environ.pop("FASHIONREC_WEIGHTS", None)  # the bundled file, not a person's override
    weights = resolve_weights(allow_download=False)
    check(weights.source == "bundled with the app", f"the bundled weights were not chosen: {weights.describe()}")
    vector = create_embedder("resnet50", weights).embed(load_rgb(image)[np.newaxis])
    check(vector.shape == (1, 2048) and abs(float(np.linalg.norm(vector)) - 1) < 1e-3,
          f"bundled weights: bad vector of shape {vector.shape}")
    return f"bundled weights {weights.path.name if weights.path else '(none)'} found and run"


def check_weights_chosen_at_run_time(image: Path, workdir: Path) -> str:
    """Any other weights file the person chooses must run too: written into the bundled template (frozen app)."""
    from .core.embedders import create_embedder, tflite_patch
    from .core.embedders.litert import models_dir
    from .core.images import load_rgb
    from .core.weights import resolve_weights

    if not tflite_patch.has_template(models_dir()):
        return "no model template bundled"
    os.environ["FASHIONREC_CACHE_DIR"] = str(workdir / "model-cache")  # not the person's cache
    path = tflite_patch.write_random_weights_file(workdir / "chosen-weights.h5", models_dir())
    started = time.perf_counter()
    embedder = create_embedder("resnet50", resolve_weights(path, allow_download=False))
    vector = embedder.embed(load_rgb(image)[np.newaxis])
    check(vector.shape == (1, 2048) and abs(float(np.linalg.norm(vector)) - 1) < 1e-3,
          f"weights chosen at run time: bad vector of shape {vector.shape}")
    return f"a weights file chosen at run time made into a model and run ({time.perf_counter() - started:.1f} s)"


def check_int8_query(catalog: Path, query: Path, workdir: Path) -> str:
    """The int8 runtime: quantize on the catalog's photos, index, and find the query's twin first. On the
    weights file written for the run-time check (frozen app: no TensorFlow for the random init), else seed SEED."""
    from .core.embedders import create_embedder
    from .core.weights import Weights, random_weights

    chosen = workdir / "chosen-weights.h5"
    weights = Weights(path=chosen, source="self-test") if chosen.is_file() else random_weights(SEED)
    os.environ["FASHIONREC_CACHE_DIR"] = str(workdir / "model-cache")  # not the person's cache
    os.environ["FASHIONREC_DATA_DIR"] = str(workdir / "int8-data")
    started = time.perf_counter()
    embedder = create_embedder("resnet50", weights, precision="int8", catalog=catalog.resolve())
    relpaths = check_core(catalog, query, embedder)
    return f"int8 index + query ({time.perf_counter() - started:.1f} s) found {relpaths[0]} first"


def check_built_in(catalog: Path, query: Path, workdir: Path) -> str:
    """The built-in network from its bundled checkpoint, at its default precision (int8, calibrated on the
    generated set): checkpoint read and checked, graph built, quantized, index + query, the twin first."""
    from .core.embedders import BUILT_IN_MODEL, create_embedder

    os.environ["FASHIONREC_CACHE_DIR"] = str(workdir / "model-cache")  # not the person's cache
    os.environ["FASHIONREC_DATA_DIR"] = str(workdir / "built-in-data")
    started = time.perf_counter()
    embedder = create_embedder(BUILT_IN_MODEL, catalog=catalog.resolve())
    check(embedder.precision == "int8", f"the built-in network runs in {embedder.precision}, not its default int8")
    relpaths = check_core(catalog, query, embedder)
    made = "the app's bundled copy" if "bundled copy" in embedder.load_report else "quantized here"
    return (f"built-in network {BUILT_IN_MODEL} int8 ({made}) index + query ({time.perf_counter() - started:.1f} s) "
            f"found {relpaths[0]} first")


def run_checks(workdir: Path, embedder=None, int8: bool = True) -> str:
    """All checks in `workdir`; `embedder` defaults to ResNet50 with seeded random weights. `int8=False` leaves
    out the int8 checks (ResNet50's and the built-in network's: they quantize, a minute on 2 cores)."""
    from .core.embedders import create_embedder
    from .core.paths import resources_dir
    from .core.weights import random_weights

    check(resources_dir().is_dir(), f"resources folder missing: {resources_dir()}")
    catalog = workdir / "catalog"
    items = make_catalog(catalog)
    query = make_query(items[TWIN], workdir / "query.png")
    embedder = embedder or create_embedder("resnet50", random_weights(SEED))

    started = time.perf_counter()
    core = check_core(catalog, query, embedder)
    core_seconds = time.perf_counter() - started
    os.environ["FASHIONREC_DATA_DIR"] = str(workdir / "window-data")  # the window indexes from scratch too
    window, window_seconds = check_window(catalog, query, embedder)
    check(window == core, f"window results {window} differ from core results {core}")
    bundled = check_bundled_weights(query)
    chosen = check_weights_chosen_at_run_time(query, workdir)
    built_in = check_built_in(catalog, query, workdir) if int8 else "built-in network not checked"
    int8_outcome = check_int8_query(catalog, query, workdir) if int8 else "int8 not checked"
    build = "frozen" if getattr(sys, "frozen", False) else "from source"
    return (f"{build}, {type(embedder).__name__} ({embedder.describe()}); {CATALOG_SIZE} generated images indexed, "
            f"{K}-NN query via core ({core_seconds:.1f} s) and main window ({window_seconds:.1f} s) agree: "
            f"{', '.join(core)}; {bundled}; {chosen}; {built_in}; {int8_outcome}; resources at {resources_dir()}")


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fashionrec-selftest-") as tmp:
        workdir = Path(tmp)
        os.environ["FASHIONREC_DATA_DIR"] = str(workdir / "core-data")  # never touch the person's real data
        try:
            summary = run_checks(workdir)
        except SelfTestFailure as failure:
            print(f"fashionrec self-test FAILED: {failure}", flush=True)
            return 1
        except Exception:  # noqa: BLE001 - any other error is a failure too, with its traceback
            traceback.print_exc()
            print("fashionrec self-test FAILED: unexpected error (traceback above)", flush=True)
            return 1
    print(f"fashionrec self-test passed in {time.perf_counter() - started:.1f} s: {summary}", flush=True)
    return 0
