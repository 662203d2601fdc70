"""Rough edges a newcomer met in the window (issue #12), each driven as a person would meet it."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import QMessageBox, QPushButton

from desktop_app.core import weights
from desktop_app.core.embedders import create_embedder
from desktop_app.ui.dialogs import WeightsDialog
from support import index_in_window

TIMEOUT_MS = 60_000


@pytest.fixture
def no_weights(monkeypatch, make_catalog):
    """No ResNet50 weights anywhere, and offline, whatever the host."""
    monkeypatch.setattr("desktop_app.core.weights.keras_cache_path", lambda: make_catalog(0, name="empty") / "none.h5")
    monkeypatch.setattr("desktop_app.core.weights._try_download", lambda: None)


def test_weights_dialog_speaks_gui_offers_the_weight_free_model_and_a_link(qtbot):
    dialog = WeightsDialog(weights.missing_weights_message())
    qtbot.addWidget(dialog)
    text = dialog.text.text()
    assert "--weights" not in text and "FASHIONREC_WEIGHTS" not in text and "--random-weights" not in text
    assert f'<a href="{weights.WEIGHTS_URL}">' in text and dialog.text.openExternalLinks()
    assert dialog.text.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    assert not dialog.problem.isVisible()  # the CLI's message is not repeated

    offered = [b.text() for b in dialog.findChildren(QPushButton) if b.text().startswith("Use ")]
    assert offered == ["Use the built-in network (EfficientNet-Lite0, ImageNet-trained)", "Use shape-colour",
                       "Use colour-texture", "Use random weights (demo)"]
    assert "shape-colour and colour-texture" in text
    next(b for b in dialog.findChildren(QPushButton) if b.text() == "Use colour-texture").click()
    assert dialog.choice == "colour-texture" and dialog.result() == WeightsDialog.DialogCode.Accepted


def test_weights_dialog_grows_to_show_the_whole_explanation_of_a_wrong_file(qtbot, tmp_path):
    dialog = WeightsDialog(weights.missing_weights_message())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    before = dialog.height()
    wrong = tmp_path / "downloads" / "models from a colleague" / "some-other-network-weights-final-v2.h5"
    wrong.parent.mkdir(parents=True)
    wrong.write_text("plain text")

    assert not dialog.choose_file(str(wrong))
    qtbot.wait(50)
    problem = dialog.problem
    assert problem.isVisible() and dialog.height() > before
    assert problem.height() >= problem.heightForWidth(problem.width())  # every line of it, not ~1.5


def test_a_broken_configured_weights_file_is_named_in_the_dialog(qtbot):
    dialog = WeightsDialog("Not a Keras HDF5 weights file: /x/y.h5.")
    qtbot.addWidget(dialog)
    assert dialog.problem.text() == "Not a Keras HDF5 weights file: /x/y.h5." and not dialog.problem.isHidden()


def test_choosing_the_weight_free_model_in_the_dialog_opens_the_folder_with_it(qtbot, open_window, make_catalog,
                                                                               no_weights):
    catalog = make_catalog(3)
    window = open_window(model="resnet50")
    window.ask_for_weights = lambda message: "colour-texture"
    with qtbot.waitSignal(window.index_finished, timeout=TIMEOUT_MS) as finished:
        window.open_catalog(catalog)
    assert finished.args[0].indexed == 3
    assert window.model_box.currentText() == "colour-texture" and window.catalog.model_name == "colour-texture"
    assert not window.notice.isVisible()


def test_switching_model_after_cancelling_the_weights_dialog_clears_the_notice_and_opens_the_folder(
        qtbot, open_window, make_catalog, no_weights):
    catalog = make_catalog(3)
    window = open_window(model="resnet50")
    window.ask_for_weights = lambda message: None  # the person cancels
    with qtbot.waitSignal(window.message_shown, timeout=TIMEOUT_MS):
        window.open_catalog(catalog)
    assert weights.WEIGHTS_FILENAME in window.notice.text() and window.catalog is None

    with qtbot.waitSignal(window.index_finished, timeout=TIMEOUT_MS):
        window.model_box.setCurrentText("colour-texture")
    assert not window.notice.isVisible()
    assert window.catalog.root == str(catalog.resolve()) and window.catalog.model_name == "colour-texture"


def test_a_failed_query_keeps_title_tiles_and_notice_consistent(qtbot, open_window, make_catalog, tmp_path):
    catalog = make_catalog(8)
    window = open_window(model="colour-texture")
    index_in_window(qtbot, window, catalog)
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a photo")

    titles = []
    window.message_shown.connect(lambda _: titles.append(window.results_title.text()))
    with qtbot.waitSignal(window.message_shown, timeout=TIMEOUT_MS):
        window.query_image(bad)  # nothing shown yet
    assert window.grid.count() == 0 and titles == ["No results for notes.jpg."]  # already when the notice shows

    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        window.query_image(catalog / "img002.jpg")
    assert not window.notice.isVisible()
    with qtbot.waitSignal(window.message_shown, timeout=TIMEOUT_MS):
        window.query_image(bad)
    assert window.grid.count() == 5 and "notes.jpg" in window.notice.text()
    title = window.results_title.text()
    assert title == "Still showing the 5 most similar to img002.jpg: notes.jpg could not be searched."
    assert "message" not in title  # it stands on its own once the notice is gone


def test_resumed_indexing_clears_the_cancelled_note_and_refreshes_results_of_the_partial_index(
        qtbot, open_window, make_catalog):
    catalog = make_catalog(12)
    window = open_window(model="colour-texture", batch_size=2)
    embedder = create_embedder("colour-texture")
    cancelling = threading.Event()
    real_embed = embedder.embed

    def embed_then_cancel(batch):  # on the writer's thread, as the Cancel button would from the UI thread
        if cancelling.is_set():
            window.control.cancel()
        return real_embed(batch)

    embedder.embed = embed_then_cancel
    window.lanes.writer.given["colour-texture"] = embedder
    cancelling.set()
    report = index_in_window(qtbot, window, catalog)
    cancelling.clear()
    assert report.cancelled and report.indexed < 6
    assert window.statusBar().currentMessage().startswith("Indexing cancelled")
    with qtbot.waitSignal(window.grid_ready, timeout=TIMEOUT_MS):
        window.query_item("img000.jpg")
    assert window.grid.count() == report.indexed - 1  # all the partial index has, but itself

    with qtbot.waitSignal(window.index_finished, timeout=TIMEOUT_MS):
        window.reindex()
        assert window.statusBar().currentMessage() == ""  # while the resumed run goes on
    qtbot.waitUntil(lambda: window.grid.count() == 5, timeout=TIMEOUT_MS)  # the query ran again
    assert "img000.jpg" not in [item.relpath for item in window.shown_results()]


def test_open_photo_starts_in_pictures_then_in_the_last_used_folder(qtbot, open_window, make_catalog, monkeypatch):
    photo = make_catalog(1, name="holiday") / "img000.jpg"
    started_in = []

    def dialog(parent, caption, folder, filters):
        started_in.append(folder)
        return str(photo), filters

    monkeypatch.setattr("desktop_app.ui.main_window.QFileDialog.getOpenFileName", dialog)
    window = open_window()
    window.choose_photo()
    window.choose_photo()
    pictures = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
    assert started_in == [pictures, str(photo.parent)]


def test_the_model_choice_is_remembered_and_a_command_line_model_wins(qtbot, open_window):
    first = open_window()
    first.model_box.setCurrentText("colour-texture")
    first.close()
    assert open_window().model == "colour-texture"
    assert open_window(model="resnet50").model == "resnet50"


def test_an_empty_folder_says_it_has_no_photos_once(qtbot, open_window, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    window = open_window(model="colour-texture")
    with qtbot.waitSignal(window.message_shown, timeout=TIMEOUT_MS) as shown:
        window.open_catalog(empty)
    assert shown.args[0].startswith(f"No images found in {empty.resolve()}")
    assert not window.notice.isVisible() and window.catalog is None  # said in the dialog only


def test_a_query_on_an_empty_index_of_a_folder_without_photos_says_so(make_catalog):
    from desktop_app.core.embedders import create_embedder
    from desktop_app.core.errors import UserError
    from desktop_app.core.session import CatalogSession

    catalog = make_catalog(1)
    query = make_catalog(1, name="elsewhere") / "img000.jpg"
    with CatalogSession(catalog, create_embedder("colour-texture")) as session:  # its store exists, still empty
        (catalog / "img000.jpg").unlink()
        with pytest.raises(UserError, match="^No images found in") as raised:
            session.query(query)
    assert "index it first" not in str(raised.value)


def test_about_describes_the_active_model(qtbot, open_window, make_catalog, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: shown.append(text))
    window = open_window(model="colour-texture")
    window.about_action.trigger()
    index_in_window(qtbot, window, make_catalog(2))
    window.about_action.trigger()
    assert "Model: colour-texture" in shown[0]
    assert "colour + texture descriptor" in shown[1] and "ResNet50" not in shown[1]

