"""The log file is rotated: it never grows past its limit, and only a few old files are kept."""

import logging

from desktop_app.core import logs


def test_log_file_rotates_and_keeps_a_bounded_number_of_files(monkeypatch, data_dir):
    monkeypatch.setattr(logs, "LOG_MAX_BYTES", 2000)
    path = logs.setup_logging()
    assert path is not None
    root = logging.getLogger()
    handler = next(h for h in root.handlers if getattr(h, "baseFilename", None) == str(path))
    try:
        for i in range(500):
            logging.getLogger("fashionrec.test").info("line %04d %s", i, "x" * 60)
    finally:
        root.removeHandler(handler)
        handler.close()
    files = sorted(path.parent.glob("fashionrec.log*"))
    assert [f.name for f in files] == ["fashionrec.log"] + [f"fashionrec.log.{n}" for n in
                                                            range(1, logs.LOG_BACKUPS + 1)]
    assert all(f.stat().st_size <= 2000 for f in files)
    assert "line 0499" in path.read_text(encoding="utf-8")
