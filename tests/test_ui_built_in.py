"""The window is never a dead end offline: with no model named and no ResNet50 weights to be found it opens the
catalog with the built-in network and says so in one notice (not remembered: weights found later make the
default ResNet50 again); the weights dialog offers the built-in network first, as the recommended choice."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QPushButton

from desktop_app.core import weights
from desktop_app.ui.dialogs import WeightsDialog
from desktop_app.ui.model_choice import BUILT_IN_CHOICE
from support import CountingEmbedder

pytestmark = pytest.mark.gui


@pytest.fixture
def no_weights(monkeypatch, tmp_path):
    monkeypatch.setattr("desktop_app.core.weights.keras_cache_path", lambda: tmp_path / "none" / "none.h5")
    monkeypatch.setattr("desktop_app.core.weights._try_download", lambda: None)


def test_without_a_model_or_weights_the_built_in_network_opens_the_catalog(qtbot, open_window, make_catalog,
                                                                         no_weights):
    catalog = make_catalog(3)
    window = open_window()
    window.lanes.writer.given[BUILT_IN_CHOICE] = CountingEmbedder()  # stands for the network: quick, no quantizing
    window.ask_for_weights = lambda message: pytest.fail("no dialog: the built-in network needs no weights")
    notices = []
    window.message_shown.connect(notices.append)
    with qtbot.waitSignal(window.index_finished, timeout=60_000):
        window.open_catalog(catalog)
    assert window.model_box.currentText() == BUILT_IN_CHOICE and window.lanes.writer.session.store.count() == 3
    assert notices == [window.notice.text()] and window.notice.isVisible()
    assert window.notice.text().startswith("No ResNet50 weights file was found, so the built-in network is used: "
                                           "efficientnet-lite0 (EfficientNet-Lite0, ImageNet-trained).")
    window.close()
    assert open_window().model == "resnet50"  # the fallback is not remembered as a choice


def test_the_dialog_recommends_the_built_in_network_above_random_weights(qtbot):
    dialog = WeightsDialog(weights.missing_weights_message())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    rows = sorted(dialog.findChild(QDialogButtonBox).buttons(), key=lambda button: button.y())  # top to bottom
    order = [b.text() for b in rows if isinstance(b, QPushButton)]
    assert order[0] == "Use the built-in network (EfficientNet-Lite0, ImageNet-trained)"
    assert order.index("Use random weights (demo)") > order.index("Choose the weights file…")
    assert dialog.built_in_button.isDefault() and "recommended" in dialog.text.text()
    dialog.built_in_button.click()
    assert dialog.choice == BUILT_IN_CHOICE and dialog.result() == WeightsDialog.DialogCode.Accepted
