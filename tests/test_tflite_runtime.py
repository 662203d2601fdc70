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

TENSORFLOW_WRITES = """
import os
from desktop_app.core.embedders.tflite_runtime import is_tensorflow_info, without_notice
with without_notice(is_tensorflow_info):
    os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n")
    os.write(2, b"I0000 00:00:1795474443.972770    4808 port.cc:153] oneDNN custom operations are on.\\n")
    os.write(2, b"E0000 00:00:1795474443.972770    4808 cuda.cc:12] a real error\\n")
"""


def test_only_the_notice_is_dropped_from_stderr():
    run = subprocess.run([sys.executable, "-c", NATIVE_WRITES], capture_output=True, text=True, check=True)
    assert run.stderr.splitlines() == ["ERROR: a real problem", f"{XNNPACK_NOTICE} and more", "after"]


def test_tensorflow_info_lines_are_dropped_and_its_errors_kept():
    run = subprocess.run([sys.executable, "-c", TENSORFLOW_WRITES], capture_output=True, text=True, check=True)
    assert run.stderr.splitlines() == ["E0000 00:00:1795474443.972770    4808 cuda.cc:12] a real error"]
