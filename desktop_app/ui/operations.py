"""One-shot requests to the catalog worker, after Anki's QueryOp (aqt/operations):

    op(window, lambda catalog: catalog.session.query(path, k)).success(show).failure(explain).run()

The work runs on the worker thread with the open catalog (worker.OpenCatalog); `success(value)` or
`failure(message)` then runs on the UI thread. Each request gets a token and each reply names it, so a
reply always reaches the callbacks of the request it answers. `newest_only(group)` drops the replies of
a request once a newer one of the same group was made (a query superseded by the next query). A new
window action is one function plus one `op(...)` call: no signals to declare, connect or match up.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

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

    def _submit(self, op: Op) -> int:
        token = self.next_token()
        self._pending[token] = op
        if op.group is not None:
            self._newest[op.group] = token
        self._requested.emit(token, op.work)
        return token

    def _take(self, token: int) -> Op | None:
        op = self._pending.pop(token, None)
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


class Op:
    """A request being put together; `run()` sends it. Without `failure(...)` the window shows the message."""

    def __init__(self, operations: Operations, work: Callable[[Any], Any], default_failure: Callable[[str], Any]):
        self._operations = operations
        self.work = work
        self.on_success: Callable[[Any], Any] | None = None
        self.on_failure = default_failure
        self.group: str | None = None

    def success(self, callback: Callable[[Any], Any]) -> Op:
        self.on_success = callback
        return self

    def failure(self, callback: Callable[[str], Any]) -> Op:
        self.on_failure = callback
        return self

    def newest_only(self, group: str) -> Op:
        self.group = group
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
