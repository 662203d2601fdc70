"""int8 against fp32 on a network with structure (issue #15's bounds), made in the test in about a minute.

The seeded random init is useless for this (its vectors are nearly all alike, so any noise reorders them).
So the test trains one: product-like photos of eight shapes in random colours (the shape is the label, the
colour is noise), the seed-0 ResNet50 with its last 1×1 convolution (conv5_block3_3) trained on 320 such
photos from cached inputs of that layer, written as a no-top weights file. On 320 other photos it must rank
by shape clearly better than the random init does; then int8, calibrated on those photos as for a catalog,
must keep ≥ 90 % of each top-10 neighbour list and precision@5 within 0.01 of fp32 (bench/fidelity.py).
"""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from desktop_app.bench import fidelity
from desktop_app.core.embedders import create_embedder, int8
from desktop_app.core.weights import Weights, check_weights_file, random_weights
from support import write_legacy_h5

pytestmark = [pytest.mark.integration, pytest.mark.heavy]

SHAPES = ("disc", "square", "triangle", "wedge", "ring", "rows", "columns", "cross")
PER_SHAPE = 40
WIDTH, HEIGHT = 60, 80  # small photos keep this heavy test short (the real sample is 224×224)


def draw_item(draw: ImageDraw.ImageDraw, shape: str, box: tuple[int, int, int, int], colour: tuple) -> None:
    left, top, right, bottom = box
    middle_x, middle_y = (left + right) // 2, (top + bottom) // 2
    if shape == "disc":
        draw.ellipse(box, fill=colour)
    elif shape == "square":
        draw.rectangle(box, fill=colour)
    elif shape == "triangle":
        draw.polygon([(middle_x, top), (right, bottom), (left, bottom)], fill=colour)
    elif shape == "wedge":
        draw.polygon([(left, top), (right, top), (middle_x, bottom)], fill=colour)
    elif shape == "ring":
        draw.ellipse(box, outline=colour, width=5)
    elif shape == "rows":
        for y in range(top, bottom, 8):
            draw.rectangle((left, y, right, y + 3), fill=colour)
    elif shape == "columns":
        for x in range(left, right, 8):
            draw.rectangle((x, top, x + 3, bottom), fill=colour)
    else:
        draw.rectangle((middle_x - 4, top, middle_x + 4, bottom), fill=colour)
        draw.rectangle((left, middle_y - 4, right, middle_y + 4), fill=colour)


def shape_photos(folder, seed: int = 0) -> tuple[list, dict[str, str]]:
    """PER_SHAPE photos of each shape (lossless PNG) and {file name: shape}; sizes, places and colours vary."""
    rng = np.random.default_rng(seed)
    paths, labels = [], {}
    for i in range(PER_SHAPE * len(SHAPES)):
        shape = SHAPES[i % len(SHAPES)]
        background = tuple(int(v) for v in rng.integers(215, 256, 3))
        image = Image.new("RGB", (WIDTH, HEIGHT), background)
        size = int(rng.integers(30, 46))
        left, top = int(rng.integers(4, WIDTH - size - 3)), int(rng.integers(8, HEIGHT - size - 7))
        draw_item(ImageDraw.Draw(image), shape, (left, top, left + size, top + size),
                  tuple(int(v) for v in rng.integers(0, 190, 3)))
        noisy = np.asarray(image, np.int16) + rng.integers(-6, 7, (HEIGHT, WIDTH, 3))
        path = folder / f"item{i:03d}.png"
        Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(path)
        paths.append(path)
        labels[path.name] = shape
    return paths, labels


def train_last_convolution(base, shortcut, hidden, classes, epochs: int = 30) -> None:
    """Train conv5_block3_3_conv of `base` (in place) on the cached inputs of the last block (its shortcut,
    conv5_block2_out, and its 3×3 output, conv5_block3_2_relu), through a cosine softmax head (the pooled
    vector L2-normalised, as the recipe does, against unit class directions): what it learns is what the
    cosine between two photos' vectors sees. The head is dropped."""
    import keras

    conv = keras.layers.Conv2D(2048, 1, name="conv5_block3_3_conv")
    batch_norm = keras.layers.BatchNormalization(epsilon=1.001e-5, name="conv5_block3_3_bn")
    shortcut_in, hidden_in = keras.Input(shortcut.shape[1:]), keras.Input(hidden.shape[1:])
    block_out = keras.layers.Activation("relu")(keras.layers.Add()([shortcut_in, batch_norm(conv(hidden_in))]))
    vector = keras.layers.UnitNormalization()(keras.layers.GlobalMaxPooling2D()(block_out))
    directions = keras.layers.Dense(int(classes.max()) + 1, use_bias=False,
                                    kernel_constraint=keras.constraints.UnitNorm(axis=0))
    head = keras.Model([shortcut_in, hidden_in],
                       keras.layers.Activation("softmax")(keras.layers.Rescaling(16.0)(directions(vector))))
    for layer in (conv, batch_norm):
        layer.set_weights(base.get_layer(layer.name).get_weights())
    batch_norm.trainable = False  # inference mode: what is trained is what embeds
    head.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    head.fit([shortcut, hidden], classes, batch_size=32, epochs=epochs, verbose=0)
    base.get_layer(conv.name).set_weights(conv.get_weights())


def test_int8_keeps_neighbours_of_a_structured_network(tmp_path, monkeypatch):
    import keras

    from desktop_app.core.embedders.base import l2_normalise
    from desktop_app.core.embedders.keras_forward import build_keras_model
    from desktop_app.core.embedders.recipe import preprocess
    from desktop_app.core.images import load_rgb

    monkeypatch.setenv("FASHIONREC_CACHE_DIR", str(tmp_path / "model-cache"))
    (tmp_path / "train").mkdir(), (tmp_path / "held-out").mkdir()
    train_paths, train_labels = shape_photos(tmp_path / "train", seed=1)
    paths, labels = shape_photos(tmp_path / "held-out", seed=2)

    base = build_keras_model(random_weights(0)).layers[0]
    cut = keras.Model(base.input, [base.get_layer("conv5_block2_out").output,
                                   base.get_layer("conv5_block3_2_relu").output])
    shortcut, hidden = cut.predict(preprocess(np.stack([load_rgb(p, (224, 224)) for p in train_paths])),
                                   batch_size=32, verbose=0)
    held_out = preprocess(np.stack([load_rgb(p, (224, 224)) for p in paths]))
    names = [labels[p.name] for p in paths]
    random_init = fidelity.precision_by_label(l2_normalise(base.predict(held_out, verbose=0).max(axis=(1, 2))),
                                              names)
    keras.utils.set_random_seed(0)
    train_last_convolution(base, shortcut, hidden, np.array([SHAPES.index(train_labels[p.name])
                                                              for p in train_paths]))
    weights = Weights(path=check_weights_file(write_legacy_h5(base, tmp_path / "structured.h5")), source="test")

    calibration = int8.Calibration.from_files(int8.sample_evenly(paths), "held-out shapes")
    result = fidelity.measure_fidelity(paths, create_embedder("resnet50", weights, backend="keras"),
                                       int8.Int8ResNet50Embedder(weights, calibration), labels)
    print(f"\nprecision@5 by shape: random init {random_init:.3f}\n"
          + fidelity.format_fidelity(result, "test network: seed-0 init, last 1×1 convolution trained on shapes"))
    assert result.labelled == len(paths) == PER_SHAPE * len(SHAPES)
    assert result.precision_fp32 >= random_init + 0.15, "the test network has no more structure than the init"
    assert result.int8.top_overlap >= fidelity.GOAL_OVERLAP
    assert result.precision_int8 >= result.precision_fp32 - fidelity.GOAL_PRECISION_LOSS
    assert result.int8.mean_cosine > 0.95
