"""The PySide6 desktop window: a thin layer over desktop_app.core."""
