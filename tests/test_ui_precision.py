"""The precision setting of the window (issue #15): "resnet50 (int8)" in the model box, remembered like a model."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.ui.model_choice import MODEL_CHOICES, parse_choice
from desktop_app.ui.operations import catalog as catalog_ops
from support import CountingEmbedder

pytestmark = pytest.mark.gui


def test_choices_name_the_precision_only_where_there_is_one():
    assert parse_choice("resnet50 (int8)") == ("resnet50", "int8")
    assert parse_choice("resnet50") == ("resnet50", None) and parse_choice("colour-texture") == ("colour-texture", None)
    assert parse_choice("efficientnet-lite0 (fp32)") == ("efficientnet-lite0", "fp32")
    assert [c for c in MODEL_CHOICES if c.endswith(")")] == ["resnet50 (int8)", "efficientnet-lite0 (int8)",
                                                             "efficientnet-lite0 (fp32)"]
    assert MODEL_CHOICES.index("resnet50 (int8)") == MODEL_CHOICES.index("resnet50") + 1  # the default first
    assert MODEL_CHOICES.index("efficientnet-lite0 (fp32)") == MODEL_CHOICES.index("efficientnet-lite0 (int8)") + 1


def test_the_int8_choice_builds_the_catalogs_int8_embedder_and_is_remembered(qtbot, open_window, make_catalog,
                                                                             monkeypatch):
    asked = []

    def fake_create_embedder(model, weights=None, precision=None, catalog=None):
        asked.append((model, precision, catalog))
        embedder = CountingEmbedder(tag=precision or "fp32")  # a real, small embedder: the window indexes with it
        embedder.precision = precision or "fp32"
        return embedder

    monkeypatch.setattr(catalog_ops, "create_embedder", fake_create_embedder)
    catalog = make_catalog(3)
    window = open_window()
    assert [window.model_box.itemText(i) for i in range(window.model_box.count())] == MODEL_CHOICES
    with qtbot.waitSignal(window.index_finished, timeout=30_000):
        window.open_catalog(catalog)
    with qtbot.waitSignal(window.index_finished, timeout=30_000):  # the catalog reopens with the new choice
        window.model_box.setCurrentText("resnet50 (int8)")
    assert asked == [("resnet50", None, None), ("resnet50", "int8", Path(catalog))]
    assert window.lanes.writer.session.embedder.fingerprint == "tiny-thumbnail-int8"
    assert window.status.model_label.text() == "tiny (int8)"  # the status bar names the precision too
    window.close()
    assert open_window().model_box.currentText() == "resnet50 (int8)"
