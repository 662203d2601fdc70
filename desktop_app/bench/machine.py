"""The machine the bench runs on, and the process's memory (resident set size, and its peak)."""

from __future__ import annotations

import contextlib
import os
import platform
import sys
import time
from pathlib import Path

SIMD_FLAGS = ("avx2", "avx512f", "avx512_vnni")


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def machine_description() -> str:
    """Names the SIMD flags too: XNNPACK picks its kernels by them, and VMs of one kind differ."""
    cpu = platform.processor() or platform.machine()
    flags = ""
    with contextlib.suppress(OSError):
        first_cpu: dict[str, str] = {}
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            first_cpu.setdefault(key.strip(), value.strip())
        cpu = first_cpu.get("model name", cpu)
        simd = [flag for flag in first_cpu.get("flags", "").split() if flag in SIMD_FLAGS]
        flags = f" ({' '.join(simd) or 'no AVX2'})"
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        total_kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        memory = f", {total_kib / 2**20:.0f} GiB RAM"
    return (f"{platform.system()} {platform.machine()}, {cpu}{flags}, {os.cpu_count()} CPUs{memory}; "
            f"load average {load_average()}")


def run_heading(title: str) -> str:
    """The first line of a bench module's output: what it measures, when, and on what machine under what load."""
    return f"{title}, {time.strftime('%Y-%m-%d %H:%M %Z')}; {machine_description()}"


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
