"""SIGTERM and SIGINT (Ctrl+C in the terminal that started the window, `kill`, a service manager, a session ending)
close the window as File ▸ Quit does: what runs is cancelled, the writer lane finishes its batch (every finished
batch is kept, the next run resumes), an export in progress removes its hidden `.partial` file, and the app exits
with 128 + the signal's number (143, 130), as the command line does.

Qt's event loop runs in C++, where Python cannot run a signal handler: the signal would wait for the next Python
slot (or, for SIGTERM, kill the process at once: Python's default). So the handlers are Python no-ops and the
signal's number is written to a socket (signal.set_wakeup_fd), which a QSocketNotifier watches: Qt wakes up at
once and the slot does the closing.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import sys
from collections.abc import Callable

from PySide6.QtCore import QObject, QSocketNotifier

log = logging.getLogger(__name__)

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name))


def signal_exit_code(signum: int) -> int:
    """What a shell reports for a process ended by this signal: 128 + its number."""
    return 128 + signum


class StopSignals(QObject):
    """While installed (main thread only), a stop signal calls `on_stop(signum)` from Qt's event loop."""

    def __init__(self, on_stop: Callable[[int], None], parent: QObject | None = None):
        super().__init__(parent)
        self._on_stop = on_stop
        self._receiver, self._sender = socket.socketpair()
        for end in (self._receiver, self._sender):
            end.setblocking(False)
        self._previous_handlers = {signum: signal.signal(signum, _wake_only) for signum in STOP_SIGNALS}
        self._previous_fd = signal.set_wakeup_fd(self._sender.fileno(), warn_on_full_buffer=False)
        self._notifier = QSocketNotifier(self._receiver.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._woken)

    def _woken(self) -> None:
        try:
            received = self._receiver.recv(64)  # one byte per signal: its number
        except BlockingIOError:
            return
        for signum in dict.fromkeys(received):
            if signum in STOP_SIGNALS:
                log.info("%s received: closing the window", signal.Signals(signum).name)
                self._on_stop(signum)

    def restore(self) -> None:
        """Put back the handlers and wake-up fd there were before (the window has closed)."""
        self._notifier.setEnabled(False)
        signal.set_wakeup_fd(self._previous_fd)
        for signum, handler in self._previous_handlers.items():
            with contextlib.suppress(TypeError):  # a handler installed from C (None): leave ours, a no-op
                signal.signal(signum, handler)
        self._receiver.close()
        self._sender.close()


def _wake_only(signum, frame) -> None:
    """The Python side of the handler: nothing to do, the wake-up fd has told Qt (see the module's docstring)."""


def say_stopping(signum: int) -> None:
    what = "interrupted" if signum == getattr(signal, "SIGINT", None) else "terminated"
    print(f"fashionrec: {what}; closing the window: every finished batch is kept and the next run resumes, an "
          "unfinished export writes no file.", file=sys.stderr, flush=True)
