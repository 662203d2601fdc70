"""Issue 23.1–2 in the window: two lanes (a search answers while the catalog indexes), the watched folder, and
the model box that always switches (issue 24 defect 1)."""

from __future__ import annotations

import shutil

import pytest

from desktop_app.core.errors import UserError
from desktop_app.core.weights import random_weights
from desktop_app.ui.operations import catalog as catalog_ops
from support import Hold, held_sessions, index_in_window, make_image, write_labels

pytestmark = pytest.mark.gui
TIMEOUT_MS = 60_000


@pytest.fixture
def held_network(monkeypatch):
    """held_network(open_batches) → the real EfficientNet-Lite0 (fp32, ONNX Runtime) and its support.Hold: index
    batches after the first `open_batches` are held inside its session's run — inside the forward pass, where a
    lock would make a query wait — until the test releases them (or fails: then at teardown, before the window
    closes)."""
    from desktop_app.core.embedders import efficientnet

    holds = []

    def make(open_batches: int):
        hold = Hold(open_batches)
        held_sessions(monkeypatch, hold)
        holds.append(hold)
        return efficientnet.create("fp32"), hold

    yield make
    for hold in holds:
        hold.release.set()


def test_a_search_during_the_first_indexing_answers_from_what_is_indexed_and_indexing_goes_on(
        qtbot, open_window, make_catalog, held_network):
    catalog = make_catalog(40)
    embedder, hold = held_network(open_batches=3)
    window = open_window(embedder, batch_size=4)
    window.open_catalog(catalog)
    qtbot.waitUntil(lambda: hold.inside.is_set() and window.indexing_bar.bar.value() == 12, timeout=TIMEOUT_MS)

    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):  # the writer is inside a forward pass
        window.query_image(catalog / "img030.jpg")  # the reader embeds the photo with the same network, at once
    assert window.indexing and hold.events == ["index batch inside the runtime"]
    assert window.results_title.text() == ("The 5 most similar to img030.jpg — searched 12 of 40 items; "
                                           "indexing goes on")
    assert {int(r.relpath[3:6]) for r in window.shown_results()} <= set(range(12))
    assert window.status.count_label.text() == "12 items"  # a first indexing: the count grows with it

    hold.release.set()  # indexing goes on; when it ends the shown query runs again on the whole catalog
    with qtbot.waitSignal(window.index_finished, timeout=TIMEOUT_MS) as finished:
        pass
    assert finished.args[0].indexed == 40
    qtbot.waitUntil(lambda: window.results_title.text() == "The 5 most similar to img030.jpg", timeout=TIMEOUT_MS)
    assert "img030.jpg" not in {r.relpath for r in window.shown_results()}  # itself, now indexed, is left out


def test_before_the_first_batch_a_search_waits_for_it_then_answers(qtbot, open_window, make_catalog, held_network):
    catalog = make_catalog(12)
    embedder, hold = held_network(open_batches=0)
    window = open_window(embedder, batch_size=4)
    window.open_catalog(catalog)
    qtbot.waitUntil(hold.inside.is_set, timeout=TIMEOUT_MS)
    window.query_image(catalog / "img001.jpg")
    qtbot.waitUntil(lambda: window.results_title.text().startswith("Nothing is indexed yet"), timeout=TIMEOUT_MS)
    assert not window.notice.isVisible()  # not an error: the query runs as batches land
    hold.release.set()
    qtbot.waitUntil(lambda: window.grid.count() == 5 and not window.indexing, timeout=TIMEOUT_MS)


def test_the_label_filter_follows_the_items_indexed_during_a_first_indexing(
        qtbot, open_window, make_catalog, monkeypatch, held_network):
    from desktop_app.ui import search_pane

    monkeypatch.setattr(search_pane, "LABELS_SECONDS", 0.2)
    catalog = write_labels(make_catalog(40), 40)  # articleType Shirts, Jeans, Tshirts in turn
    embedder, hold = held_network(open_batches=3)
    window = open_window(embedder, batch_size=4)
    values = window.search.filters.value_box
    window.open_catalog(catalog)
    qtbot.waitUntil(lambda: hold.inside.is_set(), timeout=TIMEOUT_MS)
    shown = lambda: [values.itemText(i) for i in range(values.count())]  # noqa: E731
    qtbot.waitUntil(lambda: shown() == ["any", "Jeans (4)", "Shirts (4)", "Tshirts (4)"], timeout=10_000)
    values.setCurrentIndex(2)  # the person's choice stays when the values grow
    assert window.indexing and hold.events == ["index batch inside the runtime"]

    hold.release.set()
    with qtbot.waitSignal(window.index_finished, timeout=TIMEOUT_MS):
        pass
    qtbot.waitUntil(lambda: values.itemText(2) == "Shirts (14)", timeout=TIMEOUT_MS)
    assert values.currentText() == "Shirts (14)"


def test_a_photo_copied_into_the_open_catalog_is_found_without_pressing_anything(
        qtbot, open_window, make_catalog, counting_embedder, tmp_path):
    catalog = make_catalog(6)
    arrival = make_image(tmp_path / "new-arrival.jpg", seed=99)
    window = open_window(counting_embedder)
    index_in_window(qtbot, window, catalog)
    assert window.watch.watching == str(catalog.resolve()) and window.watch.action.isChecked()
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        window.query_image(arrival)
    assert "new-arrival.jpg" not in {r.relpath for r in window.shown_results()}

    shutil.copy(arrival, catalog / "new-arrival.jpg")
    qtbot.waitUntil(lambda: window.shown_results() and window.shown_results()[0].relpath == "new-arrival.jpg",
                    timeout=TIMEOUT_MS)
    assert window.shown_results()[0].distance == 0.0 and window.status.count_label.text() == "7 items"

    (catalog / "new-arrival.jpg").unlink()  # deleted photos go too
    qtbot.waitUntil(lambda: window.status.count_label.text() == "6 items", timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: "new-arrival.jpg" not in {r.relpath for r in window.shown_results()}, timeout=TIMEOUT_MS)


def test_a_burst_of_1000_copied_photos_is_one_index_run(qtbot, open_window, make_catalog, counting_embedder, tmp_path):
    catalog = make_catalog(3)
    burst = [make_image(tmp_path / "burst" / f"new{i:04d}.jpg", seed=1000 + i) for i in range(1000)]
    window = open_window(counting_embedder, batch_size=64)
    index_in_window(qtbot, window, catalog)
    runs = []
    window.index_finished.connect(runs.append)

    for photo in burst:
        shutil.copy(photo, catalog / photo.name)
    qtbot.waitUntil(lambda: window.status.count_label.text() == "1,003 items", timeout=TIMEOUT_MS)
    qtbot.wait(3000)  # three quiet periods: no second run follows
    assert [report.embedded for report in runs] == [1000] and window.watch.runs == 1


def test_watching_can_be_turned_off_and_is_remembered(qtbot, open_window, make_catalog, counting_embedder):
    catalog = make_catalog(3)
    window = open_window(counting_embedder)
    index_in_window(qtbot, window, catalog)
    window.watch.action.trigger()  # Catalog ▸ Watch the folder for new photos: off
    assert window.watch.watching is None
    make_image(catalog / "unseen.jpg", seed=50)
    qtbot.wait(2500)
    assert window.watch.runs == 0 and window.status.count_label.text() == "3 items"
    window.close()
    assert not open_window(counting_embedder).watch.action.isChecked()


def test_random_weights_chosen_for_resnet50_leave_the_other_models_working(qtbot, open_window, make_catalog):
    """Issue 24.1: after "Use random weights (demo)" the window keeps those weights for resnet50 only."""
    catalog = make_catalog(4)
    window = open_window(model="colour-texture")
    window.weights = random_weights(0)  # what the weights dialog's demo button leaves behind
    assert index_in_window(qtbot, window, catalog).indexed == 4 and window.catalog.model_name == "colour-texture"
    with qtbot.waitSignal(window.index_finished, timeout=TIMEOUT_MS):
        window.model_box.setCurrentText("shape-colour")
    assert window.catalog.model_name == "shape-colour" and window.status.model_label.text() == "shape-colour"
    assert not window.error_box


def test_a_model_that_cannot_open_is_said_and_the_box_goes_back_to_the_open_one(qtbot, open_window, make_catalog,
                                                                               monkeypatch):
    catalog = make_catalog(4)
    window = open_window(model="colour-texture")
    index_in_window(qtbot, window, catalog)
    real = catalog_ops.create_embedder

    def create(model, weights=None, precision=None, catalog=None):
        if model == "shape-colour":
            raise UserError("int8 of the random init needs TensorFlow.")
        return real(model, weights, precision=precision, catalog=catalog)

    monkeypatch.setattr(catalog_ops, "create_embedder", create)
    with qtbot.waitSignal(window.message_shown, timeout=TIMEOUT_MS) as shown:
        window.model_box.setCurrentText("shape-colour")
    assert shown.args[0] == "int8 of the random init needs TensorFlow." and window.error_box.isVisible()
    assert window.model_box.currentText() == window.model == "colour-texture"
    assert window.status.model_label.text() == "colour-texture"
    with qtbot.waitSignal(window.index_finished, timeout=TIMEOUT_MS):  # F5 indexes the model the box shows
        window.reindex()
    assert window.lanes.writer.session.embedder.name == "colour-texture"


def test_cancelling_the_weights_dialog_keeps_box_status_and_f5_on_the_open_model(qtbot, open_window, make_catalog,
                                                                                monkeypatch):
    monkeypatch.setattr("desktop_app.core.weights.keras_cache_path", lambda: make_catalog(0, name="empty") / "x.h5")
    monkeypatch.setattr("desktop_app.core.weights._try_download", lambda: None)  # no ResNet50 weights, offline
    catalog = make_catalog(4)
    window = open_window(model="colour-texture")
    index_in_window(qtbot, window, catalog)
    window.ask_for_weights = lambda message: None  # the person cancels the dialog
    with qtbot.waitSignal(window.message_shown, timeout=TIMEOUT_MS):
        window.model_box.setCurrentText("resnet50")
    assert window.model_box.currentText() == window.model == "colour-texture"
    assert window.status.model_label.text() == "colour-texture"
    assert "resnet50 cannot index" in window.notice.text() and "stays open with colour-texture" in window.notice.text()
    with qtbot.waitSignal(window.index_finished, timeout=TIMEOUT_MS):
        window.reindex()
    assert window.lanes.writer.session.embedder.name == "colour-texture"
