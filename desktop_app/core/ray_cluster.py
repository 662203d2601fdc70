"""Reaching a Ray cluster for the Ray engine (ray_engine.py): Ray imported only here, a cluster address checked
before Ray is given it, and Ray's start-up chatter kept off the person's terminal (`start_up_output_to_log`).

Ray given an address where no cluster listens retries for many minutes inside its C++ client, where neither
Ctrl+C nor SIGTERM reaches Python, logging the node's own IP instead of the address given (issue 24). So the
address is first probed here: a TCP connection and the HTTP/2 handshake every gRPC server (Ray's GCS, the Ray
Client server) answers, within PROBE_SECONDS; anything else is one line naming the address.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import struct
import sys
import warnings

from .errors import UserError

INSTALL_HINT = "The ray engine needs Ray Data: pip install -e '.[cluster]' (or pip install 'ray[data]')."
PROBE_SECONDS = 10.0
ADDRESS_ENV = "RAY_ADDRESS"
_HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_HTTP2_SETTINGS = 0x4

def import_ray():
    """Ray with Ray Data, quiet; UserError with how to install it when it is not there."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            import ray
            import ray.data  # noqa: F401 - the extra, not only ray core

            # fashionrec prints its own progress line; Ray Data's progress bars and logs would interleave with it.
            ray.data.DataContext.get_current().enable_progress_bars = False
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    for name in ("ray", "ray.data", "ray._private", "ray.util"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return ray


def connect(address: str | None):
    """Ray, initialised for this process: on the cluster at `address` (else $RAY_ADDRESS), else on a Ray started
    here for the run. UserError in one line when nothing that speaks gRPC answers at the address."""
    ray = import_ray()
    if ray.is_initialized():
        return ray
    address = address or os.environ.get(ADDRESS_ENV) or None
    if address and address != "auto":
        check_reachable(address)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False, include_dashboard=False,
                 configure_logging=True)
    return ray


@contextlib.contextmanager
def start_up_output_to_log():
    """While Ray starts and its first actors come up, what is written to file descriptor 2 goes to fashionrec's log
    file (os.devnull when there is none): Ray's native parts write there directly, bypassing Python (a token
    advice, 'Progress bars disabled', an `E core_worker.cc` note about actor arguments), none of it something a
    person indexing photos can act on. Failures still reach the person as exceptions, once the block ends."""
    sys.stderr.flush()
    log_file = next((h.baseFilename for h in logging.getLogger().handlers if isinstance(h, logging.FileHandler)),
                    os.devnull)
    saved = os.dup(2)
    try:
        target = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError:
        target = os.open(os.devnull, os.O_WRONLY)
    os.dup2(target, 2)
    os.close(target)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def check_reachable(address: str, timeout: float = PROBE_SECONDS) -> None:
    """UserError unless a gRPC server answers at `address` (host:port or ray://host:port) within `timeout`."""
    host, port = split_address(address)
    problem = _probe(host, port, timeout)
    if problem:
        raise UserError(f"No Ray cluster answers at {address} ({problem}). Give --address the head node's host:port "
                        "(`ray start --head` prints it; 6379 by default) or ray://host:10001 for a Ray Client "
                        "server, or leave --address out to run Ray on this machine.")


def split_address(address: str) -> tuple[str, int]:
    text = address.removeprefix("ray://").strip()
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UserError(f"'{address}' is not a Ray cluster address: write host:port, e.g. head:6379 or "
                        "ray://head:10001.")
    return host.strip("[]"), int(port)


def _probe(host: str, port: int, timeout: float) -> str:
    """"" when an HTTP/2 (gRPC) server answers at host:port; else what went wrong, in a few words."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            connection.settimeout(timeout)
            connection.sendall(_HTTP2_PREFACE + struct.pack(">I", 0)[1:] + bytes([_HTTP2_SETTINGS, 0]) + bytes(4))
            header = _read(connection, 9)
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except OSError as err:
        return err.strerror or str(err)
    if len(header) < 9 or header[3] != _HTTP2_SETTINGS:
        return "something answers there, but not a Ray cluster"
    return ""


def _read(connection: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = connection.recv(count - len(data))
        if not chunk:
            break
        data += chunk
    return data
