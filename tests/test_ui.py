"""The desktop window, driven like a person would: real drop events, the background lanes, the real core.

Tests marked heavy run the real ResNet50 (seeded random weights, built once per session) on tiny
generated catalogs; the rest need no model at all.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QGuiApplication, QImage

from desktop_app.core import settings, weights
from desktop_app.core.catalog_data import Catalog
from desktop_app.ui.app import deliver_drop, file_mime
from desktop_app.ui.dialogs import SkippedDialog, WeightsDialog
from support import index_in_window

INDEX_TIMEOUT_MS = 120_000  # generous: CI shares 2 cores; nothing here asserts speed


@pytest.mark.heavy
def test_index_to_100_percent_then_a_dropped_photo_fills_the_grid(qtbot, open_window, make_catalog,
                                                                  random_embedder):
    catalog = make_catalog(9)
    (catalog / "broken.jpg").write_bytes(b"not really a jpeg")
    window = open_window(random_embedder)

    report = index_in_window(qtbot, window, catalog)

    assert (report.embedded, report.cancelled) == (9, False)
    assert window.indexing_bar.bar.value() == window.indexing_bar.bar.maximum() == 10  # 9 photos + 1 skipped
    assert window.status.count_label.text() == "9 items"
    assert window.status.catalog_label.toolTip() == str(catalog.resolve())
    assert window.demo_banner.isVisible() and "random weights" in window.status.model_label.text()
    assert window.recent.folders()[0] == str(catalog.resolve())
    assert list(window.skipped_files) == ["broken.jpg"] and window.status.skipped_button.isVisible()
    assert SkippedDialog(window.catalog.root, sorted(window.skipped_files.items())).table.rowCount() == 1

    query = catalog / "img004.jpg"
    with qtbot.waitSignal(window.grid_ready, timeout=INDEX_TIMEOUT_MS):
        event = deliver_drop(window.grid.viewport(), file_mime(query))  # "anywhere": on the results grid
    assert event.isAccepted()
    assert window.grid.count() == 5
    tiles = [window.grid.item(i) for i in range(5)]
    assert [t.text().split(".")[0] for t in tiles] == ["1", "2", "3", "4", "5"]
    paths = [t.toolTip() for t in tiles]
    assert str(query) not in paths and all(p.startswith(str(catalog.resolve())) for p in paths)
    assert all(not t.icon().isNull() for t in tiles)
    assert window.query_panel.caption.text() == "img004.jpg"

    with qtbot.waitSignal(window.grid_ready, timeout=INDEX_TIMEOUT_MS):  # "Find similar to this"
        window.query_item(window.shown_results()[0].relpath)
    assert window.grid.count() == 5

    with qtbot.waitSignal(window.grid_ready, timeout=INDEX_TIMEOUT_MS):  # k is adjustable
        window.k_box.setValue(3)
    assert window.grid.count() == 3


@pytest.mark.heavy
def test_cancel_stops_early_and_leaves_a_valid_cache_that_resumes(qtbot, open_window, make_catalog,
                                                                  random_embedder):
    catalog = make_catalog(24)
    window = open_window(random_embedder, batch_size=2)
    window.control.loading_model.connect(window.cancel_indexing)  # cancel as soon as indexing starts

    report = index_in_window(qtbot, window, catalog)

    assert report.cancelled and 0 < report.indexed < 24
    assert not window.indexing_bar.isVisible()
    store = Catalog(catalog.resolve()).open_store(random_embedder)
    assert store.integrity_ok() and store.count() == report.indexed
    store.close()

    window.control.loading_model.disconnect(window.cancel_indexing)
    with qtbot.waitSignal(window.index_finished, timeout=INDEX_TIMEOUT_MS) as resumed:
        window.reindex()
    assert not resumed.args[0].cancelled
    assert (resumed.args[0].embedded, resumed.args[0].unchanged) == (24 - report.indexed, report.indexed)
    assert window.status.count_label.text() == "24 items"


@pytest.mark.heavy
def test_photo_dropped_while_indexing_is_answered_from_what_is_indexed_and_esc_stops_it(
        qtbot, open_window, make_catalog, random_embedder):
    catalog = make_catalog(40)
    window = open_window(random_embedder, batch_size=2)
    window.open_catalog(catalog)
    qtbot.waitUntil(lambda: window.indexing_bar.bar.value() >= 8, timeout=INDEX_TIMEOUT_MS)
    with qtbot.waitSignal(window.grid_ready, timeout=INDEX_TIMEOUT_MS):
        deliver_drop(window, file_mime(catalog / "img001.jpg"))
    assert window.grid.count() == 5 and "; indexing goes on" in window.results_title.text()

    with qtbot.waitSignal(window.index_finished, timeout=INDEX_TIMEOUT_MS) as finished:
        qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert finished.args[0].cancelled and 6 <= finished.args[0].indexed < 40
    qtbot.waitUntil(lambda: "indexing goes on" not in window.results_title.text(), timeout=INDEX_TIMEOUT_MS)


@pytest.mark.heavy
def test_dropped_non_image_shows_a_message_and_keeps_the_results(qtbot, open_window, make_catalog, tmp_path,
                                                               random_embedder):
    catalog = make_catalog(6)
    window = open_window(random_embedder)
    index_in_window(qtbot, window, catalog)
    with qtbot.waitSignal(window.grid_ready, timeout=INDEX_TIMEOUT_MS):
        deliver_drop(window, file_mime(catalog / "img000.jpg"))

    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list")
    with qtbot.waitSignal(window.message_shown, timeout=INDEX_TIMEOUT_MS):
        deliver_drop(window, file_mime(notes))

    assert window.notice.isVisible()
    assert "notes.txt" in window.notice.text() and "not an image" in window.notice.text()
    assert window.grid.count() == 5  # the earlier results stay


@pytest.mark.heavy
def test_closing_mid_index_cancels_and_joins_the_lanes(qtbot, open_window, make_catalog, random_embedder):
    catalog = make_catalog(30)
    window = open_window(random_embedder, batch_size=2)
    window.open_catalog(catalog)
    qtbot.waitUntil(lambda: window.indexing_bar.bar.value() > 0, timeout=INDEX_TIMEOUT_MS)

    window.close()

    assert not window.lanes.running and window.lanes.writer.session is None and window.lanes.reader.session is None
    store = Catalog(catalog.resolve()).open_store(random_embedder)
    assert store.integrity_ok() and 0 < store.count() < 30
    store.close()


def test_window_opens_without_tensorflow(tmp_path):
    """Launch through run() as `fashionrec` does; TensorFlow must not be imported to show the window."""
    shot = tmp_path / "empty.png"
    code = ("import sys\nfrom desktop_app.ui.app import run\n"
            f"code = run(['fashionrec', '--random-weights', '--screenshot', {str(shot)!r}])\n"
            "print('exit', code, 'tensorflow' in sys.modules, 'keras' in sys.modules)")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "exit 0 False False"
    assert shot.stat().st_size > 0


def test_query_without_a_catalog_says_what_to_do(qtbot, open_window, make_catalog):
    window = open_window()
    photo = make_catalog(1) / "img000.jpg"
    with qtbot.waitSignal(window.message_shown, timeout=10_000):
        deliver_drop(window, file_mime(photo))
    assert "Open a catalog folder first" in window.notice.text()
    assert window.grid.count() == 0


def test_dropping_text_is_refused_with_a_hint(qtbot, open_window):
    window = open_window()
    mime = QMimeData()
    mime.setText("a blue dress")
    event = deliver_drop(window, mime)
    assert not event.isAccepted()
    assert "Drop an image file" in window.notice.text()


def test_missing_weights_asks_for_the_file(qtbot, open_window, make_catalog, monkeypatch):
    monkeypatch.setattr("desktop_app.core.weights.keras_cache_path", lambda: make_catalog(0) / "none.h5")
    monkeypatch.setattr("desktop_app.core.weights._try_download", lambda: None)  # offline, whatever the host
    window = open_window(model="resnet50")  # asked for by name (without a model the built-in network is used)
    asked = []
    window.ask_for_weights = lambda message: asked.append(message)  # the person cancels the dialog
    with qtbot.waitSignal(window.message_shown, timeout=10_000):
        window.open_catalog(make_catalog(2))
    assert weights.WEIGHTS_FILENAME in asked[0]
    assert weights.WEIGHTS_FILENAME in window.notice.text()
    assert window.catalog is None


def test_weights_dialog_checks_and_remembers_the_chosen_file(qtbot, tmp_path):
    dialog = WeightsDialog(weights.missing_weights_message())
    qtbot.addWidget(dialog)
    wrong = tmp_path / "notes.h5"
    wrong.write_bytes(b"plain text")
    assert not dialog.choose_file(str(wrong))
    assert "Not a Keras HDF5 weights file" in dialog.problem.text() and dialog.choice is None

    good = tmp_path / weights.WEIGHTS_FILENAME
    good.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    assert dialog.choose_file(str(good))
    assert settings.get(weights.SETTING_KEY) == str(good.resolve())
    assert dialog.choice.path == good.resolve() and not dialog.choice.is_random

    demo = WeightsDialog("missing")
    qtbot.addWidget(demo)
    demo.choose_random()
    assert demo.choice.is_random


def test_weight_free_model_indexes_and_answers_drops_and_pastes(qtbot, open_window, make_catalog, tmp_path):
    """The whole flow with the colour-texture descriptor (no TensorFlow): quick enough for every run."""
    catalog = make_catalog(8)
    window = open_window(model="colour-texture")
    assert window.model_box.currentText() == "colour-texture"

    report = index_in_window(qtbot, window, catalog)
    assert report.embedded == 8 and not window.demo_banner.isVisible()
    with qtbot.waitSignal(window.grid_ready, timeout=30_000):
        deliver_drop(window, file_mime(catalog / "img002.jpg"))
    assert window.grid.count() == 5

    image = QImage(str(catalog / "img005.jpg"))
    clipboard_mime = QMimeData()
    clipboard_mime.setImageData(image)
    QGuiApplication.clipboard().setMimeData(clipboard_mime)
    with qtbot.waitSignal(window.grid_ready, timeout=30_000):
        window.paste_action.trigger()
    assert window.grid.count() == 5
    assert window.shown_results()[0].relpath == "img005.jpg"  # the pasted pixels are that item's
    assert window.query_panel.caption.text().startswith("pasted-")


def test_the_model_box_chooses_the_model_that_indexes(qtbot, open_window, make_catalog):
    catalog = make_catalog(3)
    window = open_window()
    assert window.model == "resnet50"
    window.model_box.setCurrentText("colour-texture")
    assert window.model == "colour-texture"
    index_in_window(qtbot, window, catalog)
    assert window.status.model_label.text() == "colour-texture"
    assert [a.text() for a in window.recent.menu.actions()] == [str(catalog.resolve())]
    assert window.status.count_label.text() == "3 items"


def test_application_has_the_icon_and_style_from_resources(qapp):
    from desktop_app.ui.app import create_application

    app = create_application(["fashionrec"])
    assert not app.windowIcon().isNull() and app.windowIcon().availableSizes()
    assert "dropZone" in app.styleSheet()


def test_unwritable_data_folder_is_a_dialog_not_a_crash(qtbot, open_window, make_catalog, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("FASHIONREC_DATA_DIR", str(blocker / "data"))  # cannot be created, even by root
    catalog = make_catalog(3)
    window = open_window(model="colour-texture")
    with qtbot.waitSignal(window.message_shown, timeout=10_000) as shown:
        window.open_catalog(catalog)
    assert "Cannot write to the fashionrec data folder" in shown.args[0]
    qtbot.waitUntil(lambda: window.error_box is not None and window.error_box.isVisible(), timeout=5_000)
    assert "Cannot write to the fashionrec data folder" in window.error_box.text()
    assert not window.notice.isVisible()  # said once, in the dialog
    assert window.catalog is None or not window.indexing
