"""The interpreter's one-line XNNPACK notice is kept off stderr; anything else native code prints there stays."""

import subprocess
import sys

from desktop_app.core.embedders.tflite_runtime import XNNPACK_NOTICE

NATIVE_WRITES = f"""
import os
from desktop_app.core.embedders.tflite_runtime import without_notice
with without_notice():
    os.write(2, b"{XNNPACK_NOTICE}\\n")
    os.write(2, b"ERROR: a real problem\\n")
    os.write(2, b"{XNNPACK_NOTICE} and more\\n")
os.write(2, b"after\\n")
"""


def test_only_the_notice_is_dropped_from_stderr():
    run = subprocess.run([sys.executable, "-c", NATIVE_WRITES], capture_output=True, text=True, check=True)
    assert run.stderr.splitlines() == ["ERROR: a real problem", f"{XNNPACK_NOTICE} and more", "after"]
