"""Makes resources/ the package `desktop_app.resources` (see pyproject.toml), so that pip installs ship it."""
