"""`fashionrec-cli bench --model efficientnet-lite0`: the built-in network's index pipeline in fp32 and in int8
next to ResNet50's in fp32, back to back on the same photos in the same run (so each sees the same machine
load). ResNet50 runs on seeded random weights: its speed does not depend on their values, and its ImageNet file
is not on the development machines; the rows say so. Goal (issue 21): Lite0 fp32 ≥ 3× ResNet50 fp32."""

from __future__ import annotations

from ..core.embedders import create_embedder
from ..core.weights import random_weights
from .precision import pipeline
from .report import Bench
from .sections import BenchContext

GOAL_VERSUS_RESNET50 = 3.0


def section(bench: Bench, ctx: BenchContext) -> None:
    contenders = {
        "resnet50 fp32 (random weights, seed 0)": create_embedder("resnet50", random_weights(0), precision="fp32"),
        "efficientnet-lite0 fp32": create_embedder("efficientnet-lite0", precision="fp32"),
        "efficientnet-lite0 int8": create_embedder("efficientnet-lite0", precision="int8"),
    }
    bench.section(f"Networks side by side: index pipeline and queries ({len(ctx.photos)} photos, same run)")
    measured = {}
    for i, (label, embedder) in enumerate(contenders.items()):
        bench.say(f"{label}: loading, then its index pipeline and queries …")
        embedder.load()
        measured[label] = pipeline(ctx, embedder, f"network-{i}")
    for label, (rate, query) in measured.items():
        bench.add(f"{label} index pipeline · query median", f"{rate} · {1000 * query:.0f} ms")
    resnet50 = measured["resnet50 fp32 (random weights, seed 0)"][0]
    for precision in ("fp32", "int8"):
        rate = measured[f"efficientnet-lite0 {precision}"][0]
        ratio = rate.per_second / resnet50.per_second
        goal = precision == "fp32"
        bench.add(f"ratio efficientnet-lite0 {precision} / resnet50 fp32 index pipeline", f"{ratio:.1f}×",
                  f"≥ {GOAL_VERSUS_RESNET50:.0f}×" if goal else "", ratio >= GOAL_VERSUS_RESNET50 if goal else None)
        bench.add(f"ratio efficientnet-lite0 {precision} / resnet50 fp32, per CPU-second",
                  f"{rate.per_cpu_second / resnet50.per_cpu_second:.1f}×")
