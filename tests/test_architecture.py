"""Structural promises: the core never imports Qt, TensorFlow only loads when needed, and the runtime
without TensorFlow (the packaged app's) does not even import the modules that use it."""

import subprocess
import sys

# The modules that build or convert the network with TensorFlow (which they import only when called).
TENSORFLOW_SIDE = ("desktop_app.core.embedders.resnet50", "desktop_app.core.embedders.keras_forward",
                   "desktop_app.core.embedders.tflite_convert", "desktop_app.core.embedders.litert_build")


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_core_imports_no_qt_and_no_tensorflow():
    modules = _modules_after(
        "import desktop_app.core.session, desktop_app.core.indexer, desktop_app.core.embedders, "
        "desktop_app.core.embedders.resnet50, desktop_app.cli.program")
    assert not any(m.startswith(("PySide6", "shiboken6")) for m in modules)
    assert "tensorflow" not in modules and "keras" not in modules


def test_the_runtime_without_tensorflow_imports_none_of_its_modules():
    modules = _modules_after(
        "import desktop_app.core.embedders.litert, desktop_app.core.embedders.tflite_runtime, "
        "desktop_app.core.embedders.tflite_patch, desktop_app.core.embedders.recipe")
    assert "desktop_app.core.embedders.litert" in modules  # the check itself works
    assert sorted(modules.intersection(TENSORFLOW_SIDE)) == []
    assert "tensorflow" not in modules and "keras" not in modules


def test_a_weight_free_model_imports_no_resnet50_module():
    modules = _modules_after(
        "from desktop_app.core.embedders import create_embedder; create_embedder('colour-texture')")
    assert "desktop_app.core.embedders.colour_texture" in modules
    resnet50_runtimes = ("desktop_app.core.embedders.litert", "desktop_app.core.embedders.tflite_runtime")
    assert sorted(modules.intersection(TENSORFLOW_SIDE + resnet50_runtimes)) == []


def test_embedders_never_touch_the_store():
    """Embedders turn pixels into vectors; where vectors are kept (store, catalog data, sessions) is not their
    business, so a Ray worker builds one (spec.py) without any of it."""
    modules = _modules_after(
        "import numpy as np; import desktop_app.core.embedders.int8, desktop_app.core.embedders.spec, "
        "desktop_app.core.embedders.efficientnet, desktop_app.core.embedders.shape_colour\n"
        "from desktop_app.core.embedders import create_embedder\n"
        "create_embedder('colour-texture').embed(np.zeros((1, 80, 64, 3), np.uint8))")
    assert "desktop_app.core.embedders.int8" in modules  # the check itself works
    storage = {"desktop_app.core.store", "desktop_app.core.catalog_data", "desktop_app.core.session",
               "desktop_app.core.indexer", "desktop_app.core.caches"}
    assert sorted(modules & storage) == []
