"""Issue 24's window defects and rough edges: the distance limit in the tuned space, the export's folder, name
and tuning, opening an item without a desktop launcher, the shown photo searched in the next catalog, and a
search from the near-duplicates window that ignores the main label filter."""

from __future__ import annotations

import csv
import threading

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QMessageBox, QPushButton, QWidget

from desktop_app.core import tuning
from desktop_app.core.session import CatalogSession
from desktop_app.ui import export_action, item_actions
from desktop_app.ui.export_action import ExportDialog, default_folder
from desktop_app.ui.filter_box import PLAIN_RANGE, TUNED_PREFIX, TUNED_RANGE, FilterBox
from desktop_app.ui.item_actions import open_file
from support import make_image, write_labels

pytestmark = pytest.mark.gui
TIMEOUT_MS = 60_000


def indexed(qtbot, window, folder):
    with qtbot.waitSignal(window.index_finished, timeout=TIMEOUT_MS):
        window.open_catalog(folder)
    return window


def test_the_distance_limit_follows_the_space_its_distances_are_in(qtbot):
    """Issue 24.5: tuned distances are ~10 apart on fashion-2k; the box allowed 0–4."""
    box = FilterBox()
    qtbot.addWidget(box)
    box.set_labels({"gender": {"Men": 2}, "articleType": {"Jeans": 3, "Shirts": 1}})
    assert box.field_box.currentText() == "articleType"  # preferred over the file's first column
    assert [box.value_box.itemText(i) for i in range(box.value_box.count())] == ["any", "Jeans (3)", "Shirts (1)"]
    assert box.distance_box.maximum() == PLAIN_RANGE[0]
    box.distance_box.setValue(0.5)
    assert box.max_distance() == 0.5

    with qtbot.waitSignal(box.changed):
        box.tune_box.setCurrentText(TUNED_PREFIX + "articleType")
    assert (box.distance_box.maximum(), box.distance_box.singleStep()) == TUNED_RANGE
    assert box.max_distance() is None  # a plain limit means nothing in the tuned space
    box.distance_box.setValue(12.5)
    assert box.max_distance() == 12.5 and "within distance 12.50" in box.describe()


def test_export_proposes_a_folder_that_exists_and_checks_the_name_before_closing(qtbot, tmp_path, monkeypatch):
    """Issue 24.15: a fresh account may have no Documents folder."""
    class Locations:
        StandardLocation = export_action.QStandardPaths.StandardLocation

        @staticmethod
        def writableLocation(location):
            return str(tmp_path / "Documents") if location == Locations.StandardLocation.DocumentsLocation \
                else str(tmp_path)

    monkeypatch.setattr(export_action, "QStandardPaths", Locations)
    assert default_folder() == str(tmp_path)

    dialog = ExportDialog(None, str(tmp_path / "Documents" / "catalog-similar.csv"))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.accept()
    assert dialog.isVisible() and "does not exist" in dialog.problem.text() and dialog.problem.isVisible()
    dialog.path_edit.setText(str(tmp_path / "similar.txt"))
    dialog.accept()
    assert dialog.isVisible() and "name the output .csv or .jsonl" in dialog.problem.text()
    dialog.path_edit.setText(str(tmp_path / "similar.csv"))
    dialog.accept()
    assert not dialog.isVisible() and dialog.result() == QDialog.DialogCode.Accepted


def test_export_offers_the_tuned_distances_of_the_results(qtbot, open_window, make_catalog, tmp_path, monkeypatch,
                                                          counting_embedder):
    """Issue 24 (rough edges): export ignored "Tune to labels" silently."""
    folder = write_labels(make_catalog(12), 12)
    window = indexed(qtbot, open_window(counting_embedder), folder)
    filters = window.search.filters
    qtbot.waitUntil(lambda: filters.tune_box.count() == 3, timeout=TIMEOUT_MS)
    filters.tune_box.setCurrentText(TUNED_PREFIX + "articleType")
    out, offered = tmp_path / "tuned.csv", []

    def accept(dialog):
        offered.append((dialog.tuned_check.isChecked(), dialog.tuned_check.text()))
        dialog.path_edit.setText(str(out))
        dialog.k_box.setValue(2)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(ExportDialog, "exec", accept)
    with qtbot.waitSignal(window.tools.export.finished, timeout=TIMEOUT_MS):
        window.tools.export_action.trigger()
    assert offered == [(True, "Distances tuned to articleType (as the results above)")]

    with CatalogSession(folder, counting_embedder) as session:
        projected = tuning.tuned_projection(session.store, session.labels, "articleType").projected(
            session.searcher)
        expected = projected.search(projected.vector_of("img004.jpg"), 2, exclude="img004.jpg")
    rows = [r for r in csv.DictReader(out.read_text(encoding="utf-8").splitlines()) if r["item"] == "img004.jpg"]
    assert [(r["neighbour"], float(r["distance"])) for r in rows] == \
        [(r.relpath, round(r.distance, 6)) for r in expected]


def test_opening_an_item_without_a_desktop_launcher_says_so_and_offers_copy_path(qtbot, tmp_path, monkeypatch):
    """Issue 24.16: QDesktopServices.openUrl fails with only a Qt line on stderr where nothing opens files."""
    class NoLauncher:
        @staticmethod
        def openUrl(url):
            return False

    monkeypatch.setattr(item_actions, "QDesktopServices", NoLauncher)
    parent = QWidget()
    qtbot.addWidget(parent)
    photo = tmp_path / "item.jpg"
    assert not open_file(parent, str(photo))
    box = parent.findChild(QMessageBox, "openFailed")
    assert box.isVisible() and str(photo) in box.text() and "no program" in box.text()
    next(b for b in box.findChildren(QPushButton) if b.text() == "Copy path").click()
    assert QGuiApplication.clipboard().text() == str(photo)


def test_opening_another_catalog_searches_it_with_the_shown_photo(qtbot, open_window, make_catalog,
                                                                  counting_embedder):
    """Issue 24 (rough edges): the old query photo stayed with no results."""
    first, second = make_catalog(6, name="first"), make_catalog(8, name="second", start_seed=20)
    window = indexed(qtbot, open_window(counting_embedder), first)
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        window.query_item("img002.jpg")
    with qtbot.waitSignal(window.index_finished, timeout=TIMEOUT_MS):
        window.open_catalog(second)
    qtbot.waitUntil(lambda: window.grid.count() == 5 and all(
        r.path.startswith(str(second.resolve())) for r in window.shown_results()), timeout=TIMEOUT_MS)
    assert window.query_panel.caption.text() == "img002.jpg"
    assert window.results_title.text() == "The 5 most similar to img002.jpg"


def test_find_similar_from_the_duplicates_window_ignores_the_main_label_filter(qtbot, open_window, make_catalog,
                                                                             counting_embedder):
    folder = write_labels(make_catalog(12), 12)
    window = indexed(qtbot, open_window(counting_embedder), folder)
    filters = window.search.filters
    qtbot.waitUntil(lambda: filters.value_box.findText("Jeans (4)") > 0, timeout=TIMEOUT_MS)
    filters.value_box.setCurrentText("Jeans (4)")
    view = window.tools.show_duplicates()
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        view._find_similar("img000.jpg")  # "Find similar to this" in its item menu (a Shirts item)
    assert filters.where() is None and window.grid.count() == 5
    assert "articleType" not in window.results_title.text()


def test_tiles_and_the_filter_row_follow_the_window_size(qtbot, open_window, tmp_path, counting_embedder):
    """Issue 24 (rough edges): at 1600×1000 thumbnails stayed ~130 px (the grid kept the item size cached at the
    first icon size); at 820×560 the tuning box read "Plain simila"."""
    folder = tmp_path / "big-photos"
    for i in range(12):  # larger than the biggest tile: thumbnails are reduced, never enlarged
        make_image(folder / f"img{i:03d}.jpg", seed=i, size=(600, 800))
    write_labels(folder, 12)
    window = indexed(qtbot, open_window(counting_embedder), folder)
    window.resize(1100, 720)
    filters = window.search.filters
    qtbot.waitUntil(lambda: filters.tune_box.isVisible(), timeout=TIMEOUT_MS)
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        window.query_item("img000.jpg")
    assert filters.tune_box.y() == filters.field_box.y()  # one row at 1100 px
    small = window.grid.visualItemRect(window.grid.item(0))

    window.resize(1600, 1000)
    grid = window.grid
    qtbot.waitUntil(lambda: grid.item(0).icon().availableSizes()[0].width() >= grid.iconSize().width() - 1,
                    timeout=TIMEOUT_MS)  # decoded again at the new size once the resizing stopped
    large = window.grid.visualItemRect(window.grid.item(0))
    assert window.grid.iconSize().width() > 200 and large.width() > 1.5 * small.width()
    assert large.height() > window.grid.iconSize().height()  # the tile holds its text, not only the photo

    window.resize(820, 560)
    qtbot.waitUntil(lambda: filters.tune_box.y() > filters.field_box.y(), timeout=TIMEOUT_MS)  # on a row of its own
    assert filters.tune_box.width() >= filters.tune_box.minimumSizeHint().width()


def test_cancel_while_the_export_writes_its_file_leaves_no_file(qtbot, open_window, make_catalog, tmp_path,
                                                                monkeypatch, counting_embedder):
    """Issue 24.2, the window's side: Cancel during the write phase wrote the whole file ('Wrote 300,000 rows')."""
    from desktop_app.core import export

    writing, go_on = threading.Event(), threading.Event()
    real_rows = export.neighbour_rows

    def rows_that_pause(*args, **kwargs):  # the write phase holds after its first row until the test clicks
        for number, row in enumerate(real_rows(*args, **kwargs)):
            if number == 1:
                writing.set()
                go_on.wait(30)
            yield row

    monkeypatch.setattr(export, "neighbour_rows", rows_that_pause)
    monkeypatch.setattr(export, "ITEMS_PER_STEP", 1)  # asks should_cancel after every item
    window = indexed(qtbot, open_window(counting_embedder), make_catalog(6))
    out, row = tmp_path / "out" / "similar.csv", window.tools.row
    out.parent.mkdir()
    with qtbot.waitSignal(window.tools.export.finished, timeout=TIMEOUT_MS) as finished:
        window.tools.export.export(str(out), 3)
        qtbot.waitUntil(lambda: writing.is_set() and row.label.text().startswith("Writing the file"),
                        timeout=TIMEOUT_MS)
        row.cancel_button.click()
        go_on.set()
    assert finished.args[0].cancelled and not out.exists() and list(out.parent.iterdir()) == []
    assert window.statusBar().currentMessage() == "Export cancelled: similar.csv was not written."
