"""The window's many-photos tools (issue 25): File ▸ Match a folder… (progress, a sortable list, double-click shows a
photo's results), several photos at once and More/Less like this, Catalog ▸ Map…."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from desktop_app.core import catalog_map
from desktop_app.ui.task_row import TaskRow
from support import reencoded_copies, write_labels

pytestmark = pytest.mark.gui

TIMEOUT_MS = 60_000


def indexed_window(qtbot, open_window, folder):
    window = open_window(model="colour-texture")
    with qtbot.waitSignal(window.index_finished, timeout=TIMEOUT_MS):
        window.open_catalog(folder)
    return window


def test_match_a_folder_lists_each_photos_best_match_and_shows_its_results(qtbot, open_window, make_catalog,
                                                                            tmp_path):
    catalog = write_labels(make_catalog(9), 9)
    queries = reencoded_copies(catalog, tmp_path / "supplier", [2, 4, 7])
    (queries / "broken.jpg").write_bytes(b"nope")
    window = indexed_window(qtbot, open_window, catalog)
    view = window.tools.batch.show_match(str(queries))
    qtbot.waitUntil(lambda: view.matches is not None, timeout=TIMEOUT_MS)
    assert view.table.rowCount() == 3
    rows = {view.table.item(r, 0).text(): (view.table.item(r, 1).text(), view.table.item(r, 3).text())
            for r in range(3)}
    assert rows["copy004.jpg"] == ("img004.jpg", "Jeans")  # with the item's label
    assert "1 skipped (broken.jpg" in view.summary.text()
    distances = [float(view.table.item(r, 2).text()) for r in range(3)]
    assert distances == sorted(distances, reverse=True)  # farthest first
    row = next(r for r in range(3) if view.table.item(r, 0).text() == "copy007.jpg")
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        view.table.cellDoubleClicked.emit(row, 0)
    assert window.shown_results()[0].relpath == "img007.jpg"
    view.table.sortItems(2, Qt.SortOrder.AscendingOrder)
    assert [float(view.table.item(r, 2).text()) for r in range(3)] == sorted(distances)


def test_several_photos_are_one_search_and_each_can_be_taken_out(qtbot, open_window, make_catalog):
    catalog = make_catalog(12)
    window = indexed_window(qtbot, open_window, catalog)
    photos = [str(catalog / "img001.jpg"), str(catalog / "img002.jpg")]
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        window.search.query_images(photos)
    shown = [r.relpath for r in window.shown_results()]
    assert "img001.jpg" not in shown and "img002.jpg" not in shown  # both photos are the query
    assert window.results_title.text().startswith("The 5 most similar to 2 photos")
    strip = window.query_panel.strip
    assert strip.isVisible() and strip.paths == photos
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        strip.removed.emit(photos[1])
    assert "img002.jpg" in [r.relpath for r in window.shown_results()] and not strip.isVisible()


def test_more_and_less_like_this_move_the_results_and_reset_goes_back(qtbot, open_window, make_catalog):
    catalog = make_catalog(12)
    window = indexed_window(qtbot, open_window, catalog)
    window.k_box.setValue(11)
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        window.query_image(str(catalog / "img001.jpg"))
    before = [r.relpath for r in window.shown_results()]
    last, first = before[-1], before[0]
    grid = window.search.grid
    tile = next(grid.item(i) for i in range(grid.count()) if grid.item(i).data(Qt.ItemDataRole.UserRole + 1) == last)
    grid.feedback.show_over(tile)  # the hover buttons of the last result
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        grid.feedback.more_button.click()
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        grid.less_like.emit(first)
    after = [r.relpath for r in window.shown_results()]
    assert after.index(last) < before.index(last) and after.index(first) > 0
    texts = {grid.item(i).data(Qt.ItemDataRole.UserRole + 1): grid.item(i).text() for i in range(grid.count())}
    assert "▲ more like this" in texts[last] and "▼ less like this" in texts[first]
    assert "more like 1, less like 1" in window.results_title.text()
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        grid.reset_feedback.emit()
    assert [r.relpath for r in window.shown_results()] == before
    assert not any("like this" in grid.item(i).text() for i in range(grid.count()))


def test_the_map_lays_out_colours_shows_the_query_and_picks_items(qtbot, open_window, make_catalog, tmp_path,
                                                                   monkeypatch):
    catalog = write_labels(make_catalog(30), 30)
    window = indexed_window(qtbot, open_window, catalog)
    shown = []  # what the progress row showed: (label, busy bar) per phase, (done, total) per count
    real_phase, real_progress = TaskRow.phase, TaskRow.progress
    monkeypatch.setattr(TaskRow, "phase", lambda row, text: (real_phase(row, text),
                                                             shown.append((text, row.bar.maximum() == 0))))
    monkeypatch.setattr(TaskRow, "progress", lambda row, done, total: (real_progress(row, done, total),
                                                                       shown.append((done, total))))
    view = window.tools.batch.show_map()
    qtbot.waitUntil(lambda: view.map is not None, timeout=TIMEOUT_MS)
    phases = [event for event in shown if isinstance(event[0], str) and event[0] != catalog_map.LOADING_LIBRARY]
    assert phases == [(catalog_map.FINDING_NEIGHBOURS, True), (catalog_map.LAYING_OUT, True)]
    assert shown.index(phases[1]) < shown.index((0, sum(catalog_map.ITERATIONS)))  # counted only while laying out
    canvas = view.canvas
    assert len(canvas.relpaths) == 30 and "laid out in" in view.summary.text()
    assert [text.split(" (")[0] for text, _ in canvas.legend] == ["Jeans", "Shirts", "Tshirts"]
    assert len(set(canvas.codes.tolist())) == 3
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        window.query_item("img004.jpg")
    qtbot.waitUntil(lambda: len(canvas.highlighted) == 5)
    assert canvas.query_point is not None and list(canvas.query_point) == list(canvas.points[4])
    centre = canvas.points[4]
    near = set(np.flatnonzero(np.linalg.norm(canvas.points - centre, axis=1) < 1e9))
    canvas.lasso_done.emit(np.array(sorted(near))[:7])
    assert len(view.selection) == 7 and view.selected_list.count() == 7
    view.save_selection(str(tmp_path / "picked.txt"))
    qtbot.waitUntil(lambda: (tmp_path / "picked.txt").exists(), timeout=TIMEOUT_MS)
    lines = (tmp_path / "picked.txt").read_text().splitlines()
    assert len(lines) == 7 and all(Path(line).is_file() for line in lines)
    view.save_selection(str(tmp_path / "picked.csv"))
    qtbot.waitUntil(lambda: (tmp_path / "picked.csv").exists(), timeout=TIMEOUT_MS)
    assert (tmp_path / "picked.csv").read_text().splitlines()[0] == "path,item,articleType,gender"
    assert view.export_png(str(tmp_path / "map.png")) and QImage(str(tmp_path / "map.png")).width() > 0
    view.map = None
    view.start()  # again: read from the cache
    qtbot.waitUntil(lambda: view.map is not None, timeout=TIMEOUT_MS)
    assert "read from its cache" in view.summary.text()
