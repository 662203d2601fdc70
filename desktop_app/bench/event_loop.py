"""What the GUI benches measure the window's responsiveness with: a 1 ms timer whose gaps are the event loop's
latency (the longest gap is the longest the window could not react), and waiting while the loop runs."""

from __future__ import annotations

import sys
import time
from typing import cast

from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication


class LoopWatch:
    def __init__(self):
        self.gaps: list[float] = []  # milliseconds between heartbeats while started
        self._clock = QElapsedTimer()
        self._clock.start()
        self._last = self._clock.nsecsElapsed()
        self._heartbeat = QTimer()
        self._heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
        self._heartbeat.setInterval(1)
        self._heartbeat.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = self._clock.nsecsElapsed()
        self.gaps.append((now - self._last) / 1e6)
        self._last = now

    def start(self) -> None:
        """Measure from now on, the gaps so far forgotten."""
        self.gaps.clear()
        self._last = self._clock.nsecsElapsed()
        self._heartbeat.start()

    def stop(self) -> None:
        self._heartbeat.stop()


def gui_application() -> QApplication:
    """The QApplication a GUI bench measures in (the running one, else a new one)."""
    return cast(QApplication, QApplication.instance() or QApplication(sys.argv[:1]))


def run_for(ms: int) -> None:
    """Let the event loop run for `ms` milliseconds."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_until(app, condition, timeout: float = 3600.0, poll: float = 0.005) -> None:
    """Process the app's events until `condition()` holds (SystemExit after `timeout` seconds)."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise SystemExit("timed out waiting for the window")
        app.processEvents()
        time.sleep(poll)
