"""A normal (non-editable) install ships the resources: build the wheel, install it into a scratch venv and
let the installed package load its icons and style sheet through its own functions."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile

import pytest

from support import REPO

pytestmark = [pytest.mark.heavy, pytest.mark.packaging]

CHECK = """
import sys
from desktop_app.core.paths import resources_dir
from desktop_app.ui.app import create_application
app = create_application([])
print(resources_dir())
print(len(app.windowIcon().availableSizes()), len(app.styleSheet()))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel built from a clean copy of what packaging reads (no earlier build output to pick files from)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / name, source / name)
    for folder in ("desktop_app", "resources"):
        shutil.copytree(REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__", "*.h5"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--disable-pip-version-check",
                    "-w", str(out), str(source)], check=True, capture_output=True, timeout=600)
    (path,) = out.glob("fashionrec-*.whl")
    return path


def test_wheel_contains_the_icons_and_the_style_sheet(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    icons = sorted((REPO / "resources" / "icons").iterdir())
    assert {f"desktop_app/resources/icons/{icon.name}" for icon in icons} <= names
    assert "desktop_app/resources/style.qss" in names
    assert not any("screenshots" in name for name in names)


def test_installed_wheel_loads_its_resources(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check",
                    str(wheel)], check=True, capture_output=True, timeout=300)
    # The dependencies come from the test venv's site-packages (PYTHONPATH: no .pth files, so not the
    # editable install of the repository); the package itself only from the scratch venv.
    env = dict(os.environ, PYTHONPATH=sysconfig.get_paths()["purelib"], QT_QPA_PLATFORM="offscreen")
    run = subprocess.run([python, "-c", CHECK], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    folder, counts = run.stdout.split("\n")[:2]
    assert folder.startswith(str(venv)) and folder.endswith("desktop_app/resources")
    icon_sizes, style_length = map(int, counts.split())
    assert icon_sizes == len(list((REPO / "resources" / "icons").glob("fashionrec-*.png")))
    assert style_length == len((REPO / "resources" / "style.qss").read_text(encoding="utf-8"))
