"""Huge photos are safe (issue 22.6): a 12,000×12,000 JPEG and a 50-megapixel PNG are indexed with bounded
memory, measured as the peak resident memory of a separate process that indexes them."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from support import REPO

pytestmark = [pytest.mark.integration, pytest.mark.heavy]

INDEX_AND_MEASURE = """
import json, sys
from pathlib import Path
from desktop_app.core.embedders import create_embedder
from desktop_app.core.session import CatalogSession
folder, data, model = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
with CatalogSession(folder, create_embedder(model), data) as session:
    report = session.index(batch_size=4)
peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"indexed": report.indexed, "skipped": report.all_skipped, "peak_mib": peak_kib / 1024}))
"""


def _gradient(width: int, height: int) -> Image.Image:
    """A big smooth picture made without holding more than one copy of it."""
    small = Image.fromarray(np.random.default_rng(0).integers(0, 256, (6, 6, 3), dtype=np.uint8))
    return small.resize((width, height), Image.Resampling.BILINEAR)


def _index_in_a_process(folder, tmp_path, model: str) -> dict:
    done = subprocess.run([sys.executable, "-c", INDEX_AND_MEASURE, str(folder), str(tmp_path / "data"), model],
                          capture_output=True, text=True, cwd=REPO, timeout=600, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the peak memory from /proc")
def test_a_12000_pixel_jpeg_and_a_50_megapixel_png_index_with_bounded_memory(tmp_path):
    folder = tmp_path / "catalog"
    folder.mkdir()
    _gradient(12_000, 12_000).save(folder / "huge.jpg", quality=90)  # 144 megapixels
    _gradient(8_660, 5_774).save(folder / "poster.png", compress_level=1)  # 50 megapixels
    for i in range(4):
        _gradient(1500, 2000).rotate(90 * i).save(folder / f"shop{i}.jpg", quality=90)

    colour_texture = _index_in_a_process(folder, tmp_path, "colour-texture")  # decodes reduced (decoding.POLICY)
    assert (colour_texture["indexed"], colour_texture["skipped"]) == (6, [])
    # the PNG decodes at full size (200 MB: Pillow holds RGB in 4 bytes), the JPEG at 1/8 (1500×1500, not 576 MB)
    assert colour_texture["peak_mib"] < 450, colour_texture  # measured 242 MiB; 805 MiB decoding the JPEG in full
