"""One-shot requests to the catalog worker, after Anki's QueryOp (aqt/operations):

    op(window, lambda catalog: catalog.session.query(path, k)).success(show).failure(explain).run()

The work runs on the worker thread with the open catalog (worker.OpenCatalog); `success(value)` or
`failure(message)` then runs on the UI thread. Each request gets a token and each reply names it, so a
reply always reaches the callbacks of the request it answers. `newest_only(group)` drops the replies of
a request once a newer one of the same group was made (a query superseded by the next query). A new
window action is one function plus one `op(...)` call: no signals to declare, connect or match up.

A long operation adds `.with_progress(on_progress)`: its work is then called as work(catalog, task), and
passes `task.report` (progress(done, total), delivered to on_progress on the UI thread) and
`task.should_cancel` to the core; `task.cancel()` (from the UI thread) asks it to stop.
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from .worker import CatalogWorker


class Operations(QObject):
    """Lives on the UI thread: hands operations to the worker and routes each reply to its callbacks."""

    _requested = Signal(int, object)  # token, work: queued to the worker's thread

    def __init__(self, worker: CatalogWorker, parent: QObject | None = None):
        super().__init__(parent)
        self._tokens = itertools.count(1)
        self._pending: dict[int, Op] = {}
        self._newest: dict[str, int] = {}  # group → token of its newest request
        self._requested.connect(worker.run_op)
        worker.op_succeeded.connect(self._on_succeeded)
        worker.op_failed.connect(self._on_failed)

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
        self._requested.emit(token, op.work)
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

    _reported = Signal(int, int)

    def __init__(self, on_progress: Callable[[int, int], Any], parent: QObject | None = None):
        super().__init__(parent)
        self._on_progress = on_progress
        self._cancelled = threading.Event()
        self._reported.connect(self._deliver)  # emitted on the worker thread: queued to this object's thread

    def report(self, done: int, total: int) -> None:
        self._reported.emit(done, total)

    def should_cancel(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        self._cancelled.set()

    @Slot(int, int)
    def _deliver(self, done: int, total: int) -> None:
        if not self._cancelled.is_set():
            self._on_progress(done, total)


class Op:
    """A request being put together; `run()` sends it. Without `failure(...)` the window shows the message."""

    def __init__(self, operations: Operations, work: Callable[[Any], Any], default_failure: Callable[[str], Any]):
        self._operations = operations
        self.work = work
        self.on_success: Callable[[Any], Any] | None = None
        self.on_failure = default_failure
        self.group: str | None = None
        self.task: OpTask | None = None

    def success(self, callback: Callable[[Any], Any]) -> Op:
        self.on_success = callback
        return self

    def failure(self, callback: Callable[[str], Any]) -> Op:
        self.on_failure = callback
        return self

    def newest_only(self, group: str) -> Op:
        self.group = group
        return self

    def with_progress(self, on_progress: Callable[[int, int], Any]) -> Op:
        """work(catalog, task) reports progress to on_progress (UI thread) and stops when task is cancelled."""
        self.task = task = OpTask(on_progress, self._operations)
        work = self.work
        self.work = lambda catalog: work(catalog, task)
        return self

    def run(self) -> int:
        """Send the request to the worker; returns its token."""
        return self._operations._submit(self)


def op(window, work: Callable[[Any], Any]) -> Op:
    """An operation of `window` (anything with `operations` and `show_message`, as MainWindow)."""
    return Op(window.operations, work, window.show_message)


def replies_to(token_attribute: str):
    """Decorates a window slot for a tokened worker reply (token, *args): the slot is called without the token,
    and only when the token is the one stored in `token_attribute` (the newest such request); replies to
    requests the window has moved on from are dropped."""

    def decorate(slot):
        @functools.wraps(slot)
        def checked(self, token: int, *args) -> None:
            if token == getattr(self, token_attribute):
                slot(self, *args)

        return checked

    return decorate
