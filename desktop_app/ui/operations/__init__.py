"""Requests to the window's background lanes (lanes.py), after Anki's CollectionOp/QueryOp (aqt/operations):

    op(host, find_items, READER).success(show).failure(explain).run()

The work runs on its lane's thread (WRITER by default, READER for what only reads) with the lane's open
catalog (lanes.OpenCatalog); `success(value)` or `failure(message)` then runs on the UI thread. `host` is
anything with `operations` and `show_message` (the MainWindow). Named operations live in one module per
domain beside this one (catalog.py, search.py, …): a function that returns an Op, so a widget says what it
wants (`search.find_similar(host, query, settings)`) and never holds the work itself.

Each request gets a token and each reply names it, so a reply always reaches the callbacks of the request it
answers. `newest_only(group)` drops the replies of a request once a newer one of the same group was made (a
query superseded by the next query). A new window action is one named operation plus one call of it: no
signals to declare, connect or match up.

A long operation adds `.with_progress(on_progress)`: its work is then called as work(catalog, task), and
passes `task.report` (progress(done, total), delivered to on_progress on the UI thread) and
`task.should_cancel` to the core; `task.cancel()` (from the UI thread) asks it to stop.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from ..lanes import READER, WRITER, Lanes


class Operations(QObject):
    """Lives on the UI thread: hands operations to their lane and routes each reply to its callbacks."""

    _to_writer = Signal(int, object, bool)  # token, work, with_catalog: queued to the writer's thread
    _to_reader = Signal(int, object, bool)

    def __init__(self, lanes: Lanes, parent: QObject | None = None):
        super().__init__(parent)
        self._tokens = itertools.count(1)
        self._pending: dict[int, Op] = {}
        self._newest: dict[str, int] = {}  # group → token of its newest request
        self._send = {WRITER: self._to_writer.emit, READER: self._to_reader.emit}
        self._to_writer.connect(lanes.writer.run)
        self._to_reader.connect(lanes.reader.run)
        for lane in lanes:
            lane.succeeded.connect(self._on_succeeded)
            lane.failed.connect(self._on_failed)

    def next_token(self) -> int:
        """A token no other request of this window has (operations and indexing share the sequence)."""
        return next(self._tokens)

    def is_newest(self, group: str, token: int) -> bool:
        return self._newest.get(group) == token

    def pending(self) -> int:
        """Operations asked for whose reply has not arrived yet (superseded ones included)."""
        return len(self._pending)

    def cancel_all(self) -> None:
        """Ask every long operation still running or queued to stop (the window is closing)."""
        for pending in self._pending.values():
            if pending.task is not None:
                pending.task.cancel()

    def _submit(self, op: Op) -> int:
        token = self.next_token()
        self._pending[token] = op
        if op.group is not None:
            self._newest[op.group] = token
        self._send[op.lane](token, op.work, op.with_catalog)
        return token

    def _take(self, token: int) -> Op | None:
        op = self._pending.pop(token, None)
        if op is not None and op.task is not None:
            op.task.deleteLater()  # its progress still queued is of no use now
        if op is None or (op.group is not None and not self.is_newest(op.group, token)):
            return None  # superseded: a newer request of its group answers for it
        return op

    def _on_succeeded(self, token: int, value) -> None:
        op = self._take(token)
        if op is not None and op.on_success is not None:
            op.on_success(value)

    def _on_failed(self, token: int, message: str) -> None:
        op = self._take(token)
        if op is not None:
            op.on_failure(message)


class OpTask(QObject):
    """A long operation's progress and cancel flag: `report` and `should_cancel` are called on the worker
    thread; `progressed(done, total)` and `cancel()` belong to the UI thread (this object lives there)."""

    _reported = Signal(object)  # the arguments of report(...)

    def __init__(self, on_progress: Callable[..., Any], parent: QObject | None = None):
        super().__init__(parent)
        self._on_progress = on_progress
        self._cancelled = threading.Event()
        self._reported.connect(self._deliver)  # emitted on the worker thread: queued to this object's thread

    def report(self, *progress) -> None:
        """(done, total) from the core's long loops, or one object (the indexer's Progress)."""
        self._reported.emit(progress)

    def should_cancel(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        self._cancelled.set()

    @Slot(object)
    def _deliver(self, progress: tuple) -> None:
        if not self._cancelled.is_set():
            self._on_progress(*progress)


class Op:
    """A request being put together; `run()` sends it. Without `failure(...)` the window shows the message."""

    def __init__(self, operations: Operations, work: Callable[..., Any], default_failure: Callable[[str], Any],
                 lane: str = WRITER, with_catalog: bool = True):
        self._operations = operations
        self.work = work
        self.lane = lane
        self.with_catalog = with_catalog  # False: work(lanes.Lane), for opening and closing catalogs
        self.on_success: Callable[..., Any] | None = None
        self.on_failure = default_failure
        self.group: str | None = None
        self.task: OpTask | None = None

    def success(self, callback: Callable[..., Any]) -> Op:
        self.on_success = callback
        return self

    def failure(self, callback: Callable[[str], Any]) -> Op:
        self.on_failure = callback
        return self

    def newest_only(self, group: str) -> Op:
        self.group = group
        return self

    def with_progress(self, on_progress: Callable[..., Any]) -> Op:
        """work(catalog, task) reports progress to on_progress (UI thread) and stops when task is cancelled."""
        self.task = task = OpTask(on_progress, self._operations)
        work = self.work
        self.work = lambda catalog: work(catalog, task)
        return self

    def run(self) -> int:
        """Send the request to its lane; returns its token."""
        return self._operations._submit(self)


def op(host, work: Callable[..., Any], lane: str = WRITER, with_catalog: bool = True) -> Op:
    """An operation of `host` (anything with `operations` and `show_message`, as MainWindow) on `lane`."""
    return Op(host.operations, work, host.show_message, lane, with_catalog)
