"""The machine the bench runs on, and the process's memory (resident set size, and its peak)."""

from __future__ import annotations

import contextlib
import os
import platform
import sys
from pathlib import Path


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        total_kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        memory = f", {total_kib / 2**20:.0f} GiB RAM"
    load = ""
    if hasattr(os, "getloadavg"):
        load = "; load average %.2f %.2f %.2f" % os.getloadavg()
    return f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} CPUs{memory}{load}"


def _proc_status_bytes(field: str) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return None


def current_rss() -> int | None:
    return _proc_status_bytes("VmRSS")


def reset_peak_rss() -> bool:
    """Start a new peak-RSS window (Linux: clear_refs 5 resets VmHWM); False when not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss() -> int | None:
    peak = _proc_status_bytes("VmHWM")
    if peak is None:
        with contextlib.suppress(ImportError):
            import resource

            scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is bytes on macOS, KiB elsewhere
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    return peak


def mib(n: int | None) -> str:
    return "n/a" if n is None else f"{n / 2**20:.0f} MiB"
