"""Structural promises: the core never imports Qt, and TensorFlow only loads when needed."""

import subprocess
import sys


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_core_imports_no_qt_and_no_tensorflow():
    modules = _modules_after(
        "import desktop_app.core.session, desktop_app.core.indexer, desktop_app.core.embedders, "
        "desktop_app.core.embedders.resnet50, desktop_app.cli")
    assert not any(m.startswith(("PySide6", "shiboken6")) for m in modules)
    assert "tensorflow" not in modules and "keras" not in modules
