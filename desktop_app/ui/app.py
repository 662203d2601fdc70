"""Starting the desktop app: `run(argv)` (used by `fashionrec` and `python -m desktop_app`).

    fashionrec [CATALOG_FOLDER] [--model M] [--backend B] [--weights FILE | --random-weights [SEED]]

Hidden options drive the window without a person, for screenshots, timings and the packaged app's
self-test: --query PHOTO (repeatable; each runs after the previous grid is complete), --screenshot PNG
(saved once everything asked for is done, then the app quits), --timing (prints timings to stdout),
--crop X,Y,W,H (fractions of the last query photo: the region searched with after that query).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from PySide6.QtCore import QCoreApplication, QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from .. import __version__
from ..cli.commands import COMMANDS, program_name
from ..cli.options import Parser, add_model_options, backend_from, weights_from
from ..core.embedders.resnet50 import BACKEND_ENV
from ..core.errors import UserError
from ..core.images import Crop
from ..core.logs import setup_logging
from ..core.paths import resources_dir
from .main_window import MainWindow
from .stop_signals import StopSignals, say_stopping, signal_exit_code

STARTED = time.perf_counter()  # as early as this module is imported: the launch measurement's zero


def build_parser() -> argparse.ArgumentParser:
    prog = program_name()
    parser = Parser(prog=prog, description="Find look-alike fashion items.",
                    epilog=f"Without a window (no display needed): {prog} {{{','.join(COMMANDS)}}} …; "
                           f"see {prog} index --help.")
    parser.add_argument("catalog", nargs="?", help="catalog folder to open at start")
    add_model_options(parser)
    parser.add_argument("--version", action="version", version=f"fashionrec {__version__}")
    parser.add_argument("--query", action="append", default=[], help=argparse.SUPPRESS)
    parser.add_argument("--screenshot", help=argparse.SUPPRESS)
    parser.add_argument("--timing", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--crop", type=region_fractions, help=argparse.SUPPRESS)
    return parser


def region_fractions(text: str) -> Crop:
    try:
        crop = Crop.parse(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    if not crop.fractions:
        raise argparse.ArgumentTypeError(f"'{text}': the window's region is given as fractions 0-1 of the photo")
    return crop


def missing_display(argv: list[str]) -> str | None:
    """Why the window cannot open here (Linux with no display and no Qt platform chosen), else None.
    Qt itself would abort (SIGABRT) with a misleading hint about libxcb-cursor0."""
    if not sys.platform.startswith("linux") or "-platform" in argv:
        return None
    if any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        return None
    prog = program_name()
    return (f"fashionrec: no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set). "
            f"For a window you can see, run it on a virtual display: xvfb-run -a {prog}; to run it invisibly "
            f"from a script, set QT_QPA_PLATFORM=offscreen; or use the command line, which needs no display: "
            f"{prog} index FOLDER, {prog} query PHOTO --catalog FOLDER (see {prog} --help).")


def app_icon() -> QIcon:
    icon = QIcon()
    for png in sorted((resources_dir() / "icons").glob("fashionrec-*.png")):
        icon.addFile(str(png))
    return icon


def create_application(argv: list[str]) -> QApplication:
    """The QApplication with name, icon and style sheet (reused when one exists, as under pytest-qt)."""
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(argv)
    assert isinstance(app, QApplication)  # a widgets application: the window needs one
    QCoreApplication.setOrganizationName("fashionrec")
    QCoreApplication.setApplicationName("fashionrec")
    QCoreApplication.setApplicationVersion(__version__)
    app.setWindowIcon(app_icon())
    style = resources_dir() / "style.qss"
    if style.is_file():
        app.setStyleSheet(style.read_text(encoding="utf-8"))
    return app


def file_mime(*paths) -> QMimeData:
    """What a file manager puts on a drag: file URLs."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def deliver_drop(target: QWidget, mime: QMimeData) -> QDropEvent:
    """A real drag-enter then drop on `target`, as Qt delivers them: it hands each event up to the first
    widget that accepts drops. Used by the unattended script and the tests; returns the drop event."""
    pos = QPointF(target.rect().center())
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(target, QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime, buttons, modifiers))
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, buttons, modifiers)
    QApplication.sendEvent(target, drop)
    return drop


class Script:
    """Runs the hidden --query/--screenshot steps in order, each after the window finished the last one."""

    def __init__(self, window: MainWindow, args):
        self.window, self.args = window, args
        self.queries = list(args.query)
        self.crop = args.crop  # marked once the queries are done, as a person would drag it
        self.waiting_for_index = bool(args.catalog)
        window.index_finished.connect(self._after_index)
        window.grid_ready.connect(lambda _: self._next())
        window.message_shown.connect(self._after_error)

    def start(self) -> None:
        if self.args.catalog:
            self.window.open_catalog(self.args.catalog)
        else:
            self._next()

    def _after_index(self, _report) -> None:
        if self.waiting_for_index:
            self.waiting_for_index = False
            self._next()

    def _after_error(self, message: str) -> None:
        print(f"fashionrec: {message}", file=sys.stderr)
        if self.args.screenshot:  # unattended: do not wait for a person
            self._finish(1)

    def _next(self) -> None:
        if self.queries:  # dropped on the result grid, as a person would drop a photo from a file manager
            deliver_drop(self.window.grid.viewport(), file_mime(self.queries.pop(0)))
        elif self.crop is not None and self.window.grid.count():
            crop, self.crop = self.crop, None
            self.window.query_panel.image_label.set_region(crop)  # re-runs the query with the region
        elif self.args.screenshot:
            QTimer.singleShot(300, lambda: self._finish(0))  # let the last thumbnails paint

    def _finish(self, code: int) -> None:
        if self.args.screenshot:
            self.window.grab().save(self.args.screenshot)
            print(f"screenshot saved to {self.args.screenshot}", flush=True)
        QApplication.exit(code)


def run(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    build_parser().parse_known_args(argv[1:])  # --help, --version and mistakes end here, before Qt needs a display
    ours = QApplication.instance() is None
    if ours and (problem := missing_display(argv)):
        print(problem, file=sys.stderr)
        return 1
    app = create_application(argv)
    # Qt takes its own options (-platform, -qwindowgeometry …) out of the arguments of the app it creates
    parser = build_parser()
    parser.set_defaults(model=None)  # no --model: the window uses the model chosen last time
    args = parser.parse_args((app.arguments() if ours else argv)[1:])
    setup_logging()
    if backend := backend_from(args):  # the window's worker builds its embedder; the backend reaches it as default
        os.environ[BACKEND_ENV] = backend
    try:
        weights = weights_from(args)
    except UserError as err:
        QMessageBox.critical(None, "fashionrec", str(err))
        return 2
    model = args.model or ("resnet50" if weights is not None else None)  # weights are for resnet50
    window = MainWindow(model=model, weights=weights, report_timing=args.timing)
    window.show()
    if args.timing:
        QTimer.singleShot(0, lambda: print(f"timing: window visible at epoch {time.time():.3f}, "
                                           f"{time.perf_counter() - STARTED:.3f} s after importing the app module",
                                           flush=True))
    script = Script(window, args)
    QTimer.singleShot(0, script.start)
    app.aboutToQuit.connect(window.shut_down)  # quitting without closing the window still joins the worker
    stop_signals = StopSignals(lambda signum: close_on_signal(window, signum), window)
    try:
        return app.exec()
    finally:
        stop_signals.restore()


def close_on_signal(window: MainWindow, signum: int) -> None:
    """SIGTERM or Ctrl+C: close as File ▸ Quit does (cancel, finish the batch, no partial files), then exit with
    128 + the signal's number; open dialogs' own event loops end too."""
    say_stopping(signum)
    window.close()
    QApplication.exit(signal_exit_code(signum))
