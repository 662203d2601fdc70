"""How durations are shown to a person: the CLI's progress line, the window's status, the bench's notes."""

from __future__ import annotations


def format_duration(seconds: float | None) -> str:
    """A clock reading: "m:ss", "h:mm:ss" from an hour on, "--:--" when unknown (e.g. no rate yet)."""
    if seconds is None:
        return "--:--"
    whole = int(seconds + 0.5)
    hours, minutes = divmod(whole // 60, 60)
    return f"{hours}:{minutes:02d}:{whole % 60:02d}" if hours else f"{minutes}:{whole % 60:02d}"


def rough_duration(seconds: float) -> str:
    """An estimate in words: "under a minute", "about 3 min"."""
    return "under a minute" if seconds < 60 else f"about {round(seconds / 60)} min"
