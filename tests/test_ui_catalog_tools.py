"""The window's whole-catalog tools (issue #14): export similar items, near-duplicates, the catalog browser.
Generated catalogs whose answer is known by construction: byte-identical copies are at distance 0, distinct
generated photos are not."""

from __future__ import annotations

import csv
import json
import shutil
import threading

import pytest
from PySide6.QtCore import QThread
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog

from desktop_app.core.duplicates import DEFAULT_THRESHOLDS
from desktop_app.ui.export_action import ExportDialog
from desktop_app.ui.item_actions import item_menu
from desktop_app.ui.lanes import READER, WRITER
from desktop_app.ui.operations import op
from support import LABEL_TYPES, write_labels

pytestmark = pytest.mark.gui

TIMEOUT_MS = 60_000


def indexed_window(qtbot, open_window, folder, model="colour-texture", embedder=None):
    window = open_window(model=model, embedder=embedder)
    with qtbot.waitSignal(window.index_finished, timeout=TIMEOUT_MS):
        window.open_catalog(folder)
    return window


def hold_lane(window, lane: str = WRITER) -> threading.Event:
    """Keeps a lane busy until the returned event is set: what is sent to it meanwhile waits in its queue."""
    gate = threading.Event()
    op(window, lambda catalog: gate.wait(30), lane).run()
    return gate


@pytest.fixture
def catalog_with_copies(make_catalog):
    """10 distinct photos, img005 copied twice and img002 once: two groups of near-duplicates at distance 0."""
    folder = make_catalog(10)
    shutil.copy(folder / "img005.jpg", folder / "img005-a.jpg")
    (folder / "copies").mkdir()
    shutil.copy(folder / "img005.jpg", folder / "copies" / "img005-b.jpg")
    shutil.copy(folder / "img002.jpg", folder / "copies" / "img002-copy.jpg")
    return folder


# -- progress and cancel: the mechanism every long operation shares ---------------------------------------

def test_an_operation_reports_progress_on_the_ui_thread_and_can_be_cancelled(qtbot, open_window, make_catalog):
    window = indexed_window(qtbot, open_window, make_catalog(3))
    reports, answers = [], []

    def work(catalog, task):
        for done in range(1, 4):
            task.report(done, 3)
        return "stopped" if task.should_cancel() else "finished"

    def on_progress(done, total):
        reports.append((done, total, QThread.currentThread() is QGuiApplication.instance().thread()))

    op(window, work).with_progress(on_progress).success(answers.append).run()
    qtbot.waitUntil(lambda: window.operations.pending() == 0, timeout=TIMEOUT_MS)
    assert answers == ["finished"] and reports == [(1, 3, True), (2, 3, True), (3, 3, True)]

    gate = hold_lane(window)
    request = op(window, work).with_progress(on_progress).success(answers.append)
    request.run()
    request.task.cancel()
    gate.set()
    qtbot.waitUntil(lambda: window.operations.pending() == 0, timeout=TIMEOUT_MS)
    assert answers[-1] == "stopped" and len(reports) == 3  # progress of a cancelled operation is not shown


# -- File ▸ Export similar items… -------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_export_writes_k_rows_per_item_and_says_where(qtbot, open_window, make_catalog, tmp_path, monkeypatch,
                                                       suffix):
    window = indexed_window(qtbot, open_window, make_catalog(6))
    out = tmp_path / f"similar{suffix}"

    def fill_and_accept(dialog):
        dialog.path_edit.setText(str(out))
        dialog.k_box.setValue(3)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(ExportDialog, "exec", fill_and_accept)
    with qtbot.waitSignal(window.tools.export.finished, timeout=TIMEOUT_MS) as finished:
        window.tools.export_action.trigger()

    assert finished.args[0].rows == 18 and not window.tools.row.isVisible()
    report = finished.args[0]
    seconds = report.search_seconds + report.write_seconds
    assert window.statusBar().currentMessage() == \
        f"Wrote 18 rows (6 items × 3 similar) to …/{out.parent.name}/{out.name} in {seconds:.1f} s."
    text = out.read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines())) if suffix == ".csv" else [json.loads(r) for r in text.splitlines()]
    assert len(rows) == 18
    for item in (f"img{i:03d}.jpg" for i in range(6)):
        mine = [r for r in rows if r["item"] == item]
        assert [int(r["rank"]) for r in mine] == [1, 2, 3] and item not in {r["neighbour"] for r in mine}


def test_export_offers_the_label_filter_and_keeps_to_it(qtbot, open_window, make_catalog, tmp_path, monkeypatch):
    window = indexed_window(qtbot, open_window, write_labels(make_catalog(12), 12))
    filters = window.search.filters
    qtbot.waitUntil(lambda: filters.field_box.count() == 2, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: filters.value_box.findText("Jeans (4)") > 0, timeout=TIMEOUT_MS)  # read once indexed
    filters.value_box.setCurrentText("Jeans (4)")
    jeans = {f"img{i:03d}.jpg" for i in range(12) if LABEL_TYPES[i % 3] == "Jeans"}
    offered = []

    def accept_with(filtered: bool, out):
        def fill_and_accept(dialog):
            offered.append((not dialog.filter_check.isHidden(), dialog.filter_check.isChecked(),
                            dialog.filter_check.text()))
            dialog.path_edit.setText(str(out))
            dialog.k_box.setValue(2)
            dialog.filter_check.setChecked(filtered)
            return QDialog.DialogCode.Accepted
        monkeypatch.setattr(ExportDialog, "exec", fill_and_accept)

    for filtered, out in ((True, tmp_path / "jeans.csv"), (False, tmp_path / "all.csv")):
        accept_with(filtered, out)
        with qtbot.waitSignal(window.tools.export.finished, timeout=TIMEOUT_MS):
            window.tools.export_action.trigger()
    assert offered[0] == (True, True, "Only items with articleType = Jeans (the filter above the results)")
    rows = list(csv.DictReader((tmp_path / "jeans.csv").read_text(encoding="utf-8").splitlines()))
    assert {r["item"] for r in rows} == jeans and {r["neighbour"] for r in rows} <= jeans and len(rows) == 8
    assert len(list(csv.DictReader((tmp_path / "all.csv").read_text(encoding="utf-8").splitlines()))) == 24


def test_a_cancelled_export_writes_no_file(qtbot, open_window, make_catalog, tmp_path):
    window = indexed_window(qtbot, open_window, make_catalog(6))
    out = tmp_path / "similar.csv"
    gate = hold_lane(window)
    window.tools.export.export(str(out), 3)
    assert window.tools.row.isVisible() and window.tools.row.running
    with qtbot.waitSignal(window.tools.export.finished, timeout=TIMEOUT_MS) as finished:
        window.tools.row.cancel_button.click()
        gate.set()

    assert finished.args[0].cancelled and not out.exists() and list(tmp_path.glob("*.partial")) == []
    assert window.statusBar().currentMessage() == "Export cancelled: similar.csv was not written."


def test_an_export_to_a_wrong_name_is_one_line(qtbot, open_window, make_catalog, tmp_path):
    window = indexed_window(qtbot, open_window, make_catalog(4))
    with qtbot.waitSignal(window.message_shown, timeout=TIMEOUT_MS) as shown:
        window.tools.export.export(str(tmp_path / "similar.txt"), 3)
    assert shown.args[0] == "Cannot tell the format of similar.txt: name the output .csv or .jsonl."
    assert not window.tools.row.isVisible()


# -- Catalog ▸ Find near-duplicates… ------------------------------------------------------------------------

def group_names(view) -> list[list[str]]:
    tree = view.tree
    return [[tree.topLevelItem(g).child(i).text(0) for i in range(tree.topLevelItem(g).childCount())]
            for g in range(tree.topLevelItemCount())]


def test_near_duplicates_are_listed_largest_first_with_thumbnails_and_item_actions(qtbot, open_window,
                                                                                   catalog_with_copies):
    window = indexed_window(qtbot, open_window, catalog_with_copies)
    view = window.tools.show_duplicates()
    assert view.threshold_box.value() == pytest.approx(DEFAULT_THRESHOLDS["colour-texture"])
    qtbot.waitUntil(lambda: not view.row.running, timeout=TIMEOUT_MS)  # the search the menu started

    view.threshold_box.setValue(0.01)
    with qtbot.waitSignal(view.groups_shown, timeout=TIMEOUT_MS) as shown:
        view.find_button.click()
    assert [g.relpaths for g in shown.args[0]] == [("copies/img005-b.jpg", "img005-a.jpg", "img005.jpg"),
                                                   ("copies/img002-copy.jpg", "img002.jpg")]
    assert group_names(view) == [["img005-b.jpg", "img005-a.jpg", "img005.jpg"], ["img002-copy.jpg", "img002.jpg"]]
    assert view.summary.text().startswith("2 groups of near-duplicates (5 items) at distance ≤ 0.01")
    first = view.tree.topLevelItem(0).child(0)
    qtbot.waitUntil(lambda: not first.icon(0).isNull(), timeout=TIMEOUT_MS)

    path = str(catalog_with_copies / "copies" / "img005-b.jpg")
    assert first.toolTip(0) == path
    actions = {a.text(): a for a in item_menu(view, path, "copies/img005-b.jpg", window.query_item).actions()}
    assert list(actions)[:3] == ["Open", "Show in folder", "Copy path"]
    actions["Copy path"].trigger()
    assert QGuiApplication.clipboard().text() == path
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        actions["Find similar to this"].trigger()
    assert {r.relpath for r in window.shown_results()[:2]} == {"img005-a.jpg", "img005.jpg"}  # distance 0 first


def test_no_near_duplicates_says_so(qtbot, open_window, make_catalog):
    window = indexed_window(qtbot, open_window, make_catalog(8))
    view = window.tools.show_duplicates()
    qtbot.waitUntil(lambda: not view.row.running, timeout=TIMEOUT_MS)
    view.threshold_box.setValue(0.01)
    with qtbot.waitSignal(view.groups_shown, timeout=TIMEOUT_MS) as shown:
        view.find()
    assert shown.args[0] == [] and view.tree.topLevelItemCount() == 0
    assert view.summary.text() == "No near-duplicates at distance ≤ 0.01."


def test_finding_duplicates_can_be_cancelled(qtbot, open_window, catalog_with_copies):
    window = indexed_window(qtbot, open_window, catalog_with_copies)
    view = window.tools.show_duplicates()
    qtbot.waitUntil(lambda: not view.row.running, timeout=TIMEOUT_MS)
    gate = hold_lane(window, READER)
    with qtbot.waitSignal(view.groups_shown, timeout=TIMEOUT_MS) as shown:
        view.find()
        assert view.row.isVisible() and not view.find_button.isEnabled()
        view.row.cancel_button.click()
        gate.set()
    assert shown.args[0] is None and view.summary.text() == "Cancelled." and view.tree.topLevelItemCount() == 0
    assert view.find_button.isEnabled() and not view.row.isVisible()


def test_a_model_without_a_measured_threshold_asks_for_one(qtbot, open_window, catalog_with_copies,
                                                           counting_embedder):
    window = indexed_window(qtbot, open_window, catalog_with_copies, model=None, embedder=counting_embedder)
    view = window.tools.show_duplicates()
    assert view.summary.text().startswith("tiny has no measured default threshold yet: choose a distance, then Find")
    assert not view.row.running and view.tree.topLevelItemCount() == 0
    view.threshold_box.setValue(0.001)
    with qtbot.waitSignal(view.groups_shown, timeout=TIMEOUT_MS) as shown:
        view.find()
    assert [len(g) for g in shown.args[0]] == [3, 2]


def test_the_catalog_tools_need_an_open_catalog(qtbot, open_window):
    window = open_window()
    with qtbot.waitSignal(window.message_shown, timeout=10_000) as shown:
        window.tools.duplicates_action.trigger()
    assert shown.args[0] == "Open a catalog folder first (File ▸ Open catalog…, Ctrl+O)."
    assert window.tools.duplicates is None
