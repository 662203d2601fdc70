"""Only what pyproject.toml cannot say: resources/ stays at the top of the repository (the product's layout)
and ships inside the package as desktop_app.resources, so that wheels and editable installs both carry the
icons and the style sheet (read through importlib.resources, core/paths.py)."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["desktop_app", "desktop_app.*"]), "desktop_app.resources"],
    package_dir={"desktop_app.resources": "resources"},
    # setuptools' default build/ is this repository's folder of tracked scripts: build in its ignored work dir.
    options={"build": {"build_base": "build/work/setuptools"}},
)
