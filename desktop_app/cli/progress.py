"""What a command shows while it works: a self-overwriting progress line on stderr, and the index report."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from ..core.formatting import format_duration
from ..core.indexer import IndexReport, Progress


class ProgressLine:
    """A single self-overwriting progress line on stderr (plain lines when stderr is not a terminal;
    nothing when there is no stderr, as in a windowed app on Windows)."""

    def __init__(self, stream=None, what: str = "indexing"):
        self.what = what
        self.stream = stream or sys.stderr
        self.tty = self.stream is not None and self.stream.isatty()
        self._last = 0.0

    def __call__(self, p: Progress) -> None:
        if not p.total:  # nothing new to embed: the report says so
            return
        percent = 100.0 * p.done / p.total
        self.show(lambda: f"{self.what} {p.done}/{p.total} ({percent:.0f}%)  {p.rate:.1f} img/s  "
                          f"ETA {format_duration(p.eta)}  skipped {p.skipped_count}", p.done == p.total)

    def show(self, line: Callable[[], str], final: bool) -> None:
        """Write the line (made only when shown), at most 5 times a second on a terminal, every 5 s otherwise."""
        now = time.monotonic()
        if self.stream is None or (not final and now - self._last < (0.2 if self.tty else 5.0)):
            return
        self._last = now
        text = line()
        self.stream.write(("\r" + text + "\x1b[K") if self.tty else text + "\n")
        if final and self.tty:
            self.stream.write("\n")
        self.stream.flush()


class StepProgress(ProgressLine):
    """`what done/total (percent)` of a long search (neighbours, duplicates) on the same progress line."""

    def __init__(self, what: str, stream=None):
        super().__init__(stream, what)

    def __call__(self, done: int, total: int) -> None:  # type: ignore[override]  # (done, total), not a Progress
        self.show(lambda: f"{self.what} {done}/{total} ({100.0 * done / total:.0f}%)", done == total)


def print_report(report: IndexReport, out=None) -> None:
    out = out or sys.stdout
    state = "cancelled" if report.cancelled else "done"
    print(f"{state} in {report.elapsed:.1f} s: {report.files} image files, {report.embedded} embedded, "
          f"{report.unchanged} unchanged, {report.moved} moved, {len(report.all_skipped)} skipped, "
          f"{report.removed} removed; {report.indexed} searchable", file=out)
    for relpath, reason in report.all_skipped:
        print(f"  skipped {relpath}: {reason}", file=out)
