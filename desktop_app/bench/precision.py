"""`fashionrec-cli bench --precision int8`: the int8 pipeline's figures (the standard sections) against fp32's
pipeline on the same photos in the same run, and the speed goals of int8 (docs/models.md, "int8")."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from ..core.embedders import create_embedder
from ..core.session import CatalogSession
from .measure import Rate
from .report import Bench
from .sections import QUERIES, BenchContext

GOAL_VERSUS_FP32 = 2.0


def query_median(session: CatalogSession, photos: list[Path]) -> float:
    """Median seconds of QUERIES warm queries (top 5) with the photos after the first (a warm-up)."""
    session.query(photos[0], k=5)  # warm-up
    latencies = []
    for path in photos[1 : QUERIES + 1]:
        started = time.perf_counter()
        session.query(path, k=5)
        latencies.append(time.perf_counter() - started)
    return statistics.median(latencies)


def pipeline(ctx: BenchContext, embedder, name: str) -> tuple[Rate, float]:
    """The whole index pipeline of `embedder` on the bench's photos (a store of its own, `name`), then the
    median latency of a query."""
    with CatalogSession(ctx.folder, embedder, ctx.data_dir / name) as session:
        cpu = time.process_time()
        report = session.index(batch_size=ctx.batch_size)
        rate = Rate(report.embedded, report.elapsed, time.process_time() - cpu)
        return rate, query_median(session, ctx.photos)


def versus_fp32(bench: Bench, ctx: BenchContext) -> None:
    """fp32's whole index pipeline and its queries, then int8's again (back to back, so both see the same
    machine load); the ratios against the seed loop come in `ratios`."""
    int8 = ctx.embedder
    fp32 = create_embedder("resnet50", int8.weights, precision="fp32")
    bench.section(f"int8 against fp32 ({len(ctx.photos)} photos, same run)")
    bench.say("fp32 index pipeline and queries …")
    fp32.load()
    fp32_rate, fp32_query = pipeline(ctx, fp32, "fp32")
    bench.say("int8 index pipeline and queries, again …")
    int8_rate, int8_query = pipeline(ctx, int8, "int8")
    bench.add("fp32 index pipeline (TFLite)", str(fp32_rate))
    bench.add("int8 index pipeline (ONNX Runtime)", str(int8_rate))
    ratio = int8_rate.per_second / fp32_rate.per_second
    bench.add("ratio int8 / fp32 index pipeline", f"{ratio:.1f}×", f"≥ {GOAL_VERSUS_FP32:.0f}×",
              ratio >= GOAL_VERSUS_FP32)
    bench.add("ratio int8 / fp32, per CPU-second", f"{int8_rate.per_cpu_second / fp32_rate.per_cpu_second:.1f}×")
    bench.add("query latency median, fp32 → int8", f"{1000 * fp32_query:.0f} → {1000 * int8_query:.0f} ms",
              "int8 ≤ fp32", int8_query <= fp32_query)
    ctx.rates["fp32"] = fp32_rate


def int8_embedder(weights, images: Path | None, n: int):
    """The int8 embedder the bench measures, calibrated on an even sample of the photos the bench will index
    (the first n of `images`, or the generated ones), as `index` calibrates on its catalog."""
    import tempfile

    from ..core.catalog import scan
    from ..core.embedders.int8 import Calibration, Int8ResNet50Embedder, sample_evenly
    from .inputs import DEFAULT_IMAGES, generate_images

    source = images or (DEFAULT_IMAGES if DEFAULT_IMAGES.is_dir() else None)
    with tempfile.TemporaryDirectory(prefix="fashionrec-bench-calibration-") as tmp:
        if source is None:
            source = Path(tmp)
            generate_images(source, n)
        root = Path(source).resolve()
        photos = [root / f.relpath for f in scan(root)[:n]]
        calibration = Calibration.from_files(sample_evenly(photos), f"{len(photos)} bench photos")
    return Int8ResNet50Embedder(weights, calibration)
