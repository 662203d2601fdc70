"""A query never waits for the indexer's forward pass (issue 23: the window's reader lane embeds the query photo
with the same embedder the writer lane is indexing with). Real embedders, with an index batch held INSIDE the
runtime call — ONNX Runtime's session.run, a TFLite interpreter's invoke, the Keras function — on one thread while
a one-photo query runs on another. The order of events is asserted, not times: a lock around the forward pass
makes the query wait until the hold gives up (HOLD_LIMIT), and the order is then wrong. Both answers must also
be the ones each gives alone (an interpreter shared by two threads would mix their batches up)."""

from __future__ import annotations

import threading

import flatbuffers
import numpy as np
import pytest

from desktop_app.core.embedders import efficientnet
from desktop_app.core.embedders.litert import LiteRTResNet50Embedder, converted_model_name
from desktop_app.core.embedders.shared_runtime import SharedRuntime
from desktop_app.core.weights import random_weights
from support import HOLD_LIMIT, Hold, held_interpreters, held_sessions

pytestmark = pytest.mark.integration


def photos(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 224, 224, 3), dtype=np.uint8)


def query_while_an_index_batch_is_held(embedder, hold: Hold) -> None:
    """`hold` lets one index batch go on (this one, alone), and holds the next."""
    batch, photo = photos(4), photos(1, seed=1)
    alone = embedder.embed(batch), embedder.embed(photo)  # (loads the embedder)
    indexed = []
    indexer = threading.Thread(target=lambda: indexed.append(embedder.embed(batch)), name="indexer")
    indexer.start()
    assert hold.inside.wait(HOLD_LIMIT)
    queried = embedder.embed(photo)  # with a lock around the forward pass this waits for the hold to give up
    hold.events.append("query answered")
    hold.release.set()
    indexer.join()
    assert hold.events == ["index batch inside the runtime", "query answered", "index batch goes on"]
    np.testing.assert_allclose(queried, alone[1], atol=1e-6)
    np.testing.assert_allclose(indexed[0], alone[0], atol=1e-6)


def tiny_tflite_model() -> bytes:
    """A .tflite model of one MEAN over height and width, (n, 224, 224, 3) float32 → (n, 3): a real interpreter
    and XNNPACK in milliseconds, written with the schema LiteRT ships (no TensorFlow)."""
    from ai_edge_litert import schema_py_generated as schema

    def tensor(name: bytes, shape: list[int], kind: int, buffer: int):
        made = schema.TensorT()
        made.name, made.shape, made.type, made.buffer = name, shape, kind, buffer
        return made

    axes = schema.BufferT()
    axes.data = np.array([1, 2], np.int32).tobytes()
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.MEAN
    mean = schema.OperatorT()
    mean.opcodeIndex, mean.inputs, mean.outputs = 0, [0, 1], [2]
    mean.builtinOptionsType, mean.builtinOptions = schema.BuiltinOptions.ReducerOptions, schema.ReducerOptionsT()
    graph = schema.SubGraphT()
    graph.tensors = [tensor(b"input", [1, 224, 224, 3], schema.TensorType.FLOAT32, 0),
                     tensor(b"axes", [2], schema.TensorType.INT32, 1),
                     tensor(b"output", [1, 3], schema.TensorType.FLOAT32, 0)]
    graph.inputs, graph.outputs, graph.operators = [0], [2], [mean]
    model = schema.ModelT()
    model.version, model.operatorCodes, model.subgraphs, model.buffers = 3, [code], [graph], [schema.BufferT(), axes]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


@pytest.fixture
def litert_embedder(tmp_path):
    """The packaged app's ResNet50 embedder (LiteRT), running the tiny model in place of the converted network."""
    weights = random_weights(0)
    (tmp_path / converted_model_name(weights)).write_bytes(tiny_tflite_model())
    return LiteRTResNet50Embedder(weights, tmp_path)


def test_onnx_runtime_query_answers_while_an_index_batch_is_inside_the_session(monkeypatch):
    hold = Hold(open_batches=1)
    held_sessions(monkeypatch, hold)
    query_while_an_index_batch_is_held(efficientnet.create("fp32"), hold)


def test_tflite_query_answers_while_an_index_batch_is_inside_its_interpreter(monkeypatch, litert_embedder):
    hold = Hold(open_batches=1)
    held_interpreters(monkeypatch, hold)
    query_while_an_index_batch_is_held(litert_embedder, hold)


def test_tflite_threads_never_share_an_interpreter_and_reuse_the_idle_ones(litert_embedder):
    litert_embedder.load()
    forward = litert_embedder._runtime.get()
    made = []
    real = forward._interpreter_class
    forward._interpreter_class = lambda **options: made.append(options) or real(**options)
    batch = photos(3).astype(np.float32)
    for rows in (3, 1, 3, 2):  # one thread: one interpreter, resized
        np.testing.assert_allclose(forward(batch[:rows]), batch[:rows].mean(axis=(1, 2)), rtol=1e-5)
    assert len(made) == 1
    meeting, both_inside = threading.Event(), threading.Barrier(2)

    class Meeting(real):  # while `meeting`, each invoke waits until another thread is inside an invoke too
        def invoke(self):
            if meeting.is_set():
                both_inside.wait(HOLD_LIMIT)
            super().invoke()

    forward._interpreter_class = lambda **options: made.append(options) or Meeting(**options)
    forward._idle.clear()
    meeting.set()
    answers = {}
    threads = [threading.Thread(target=lambda n=n: answers.setdefault(n, forward(batch[:n]))) for n in (1, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 3 and not both_inside.broken  # two at a time, while both were busy
    for n in (1, 3):
        np.testing.assert_allclose(answers[n], batch[:n].mean(axis=(1, 2)), rtol=1e-5)
    meeting.clear()
    forward(batch[:1]), forward(batch[:3])
    assert len(made) == 3  # the idle ones are used again


def test_a_runtime_is_made_once_when_threads_ask_at_once_then_read_without_the_lock():
    made, lock = [], threading.RLock()
    started = threading.Barrier(4)

    def make():
        made.append(threading.current_thread().name)
        return object()

    runtime = SharedRuntime(make, lock)
    got = []
    threads = [threading.Thread(target=lambda: (started.wait(), got.append(runtime.get()))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1 and len({id(r) for r in got}) == 1
    holder = threading.Thread(target=lock.acquire)  # another thread holds the lock (and never releases it)
    holder.start()
    holder.join()
    assert runtime.get() is got[0]  # would wait forever under the lock


@pytest.mark.heavy
@pytest.mark.parametrize("backend", ["tflite", "keras"])
def test_resnet50_query_answers_while_an_index_batch_is_inside_the_network(monkeypatch, backend, random_embedder):
    """The real ResNet50 (seeded random weights, converted once per run by `random_embedder`) on the source
    backends; Keras: the index batch is held inside its tf.function."""
    from desktop_app.core.embedders.resnet50 import ResNet50Embedder

    hold = Hold(open_batches=1)
    held_interpreters(monkeypatch, hold)
    embedder = ResNet50Embedder(random_weights(0), backend)
    if backend == "keras":
        embedder.load()
        runtime = embedder._runtime.get()
        function = runtime._function
        runtime._function = lambda images: (hold(int(images.shape[0])), function(images))[1]
    query_while_an_index_batch_is_held(embedder, hold)


def test_the_bench_measures_queries_beside_index_batches_each_way(make_catalog, capsys):
    from desktop_app.bench import query_beside_batch

    folder = make_catalog(4)
    assert query_beside_batch.main(["--model", "colour-texture", "--photos", str(folder), "--batch-size", "3",
                                    "--queries", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "(60×80), batch 3, 2 queries" in lines[1]
    parts = [line.split(":")[0].strip() for line in lines[2:-1]]
    assert parts == ["loaded", "alone", "concurrent", "serialised"]
    assert all(" of 2 wholly inside one index batch" in line for line in lines[4:6])
