"""The generated int8 calibration set is the same on every machine: its pixels come from integer and exactly
rounded arithmetic only, so its digest (part of every int8 EfficientNet-Lite0 store's fingerprint) is pinned."""

import numpy as np
import pytest

from desktop_app.core.embedders import calibration_set

pytestmark = pytest.mark.unit


def test_the_set_is_fixed_and_its_digest_pinned():
    calibration = calibration_set.generated_calibration()
    assert calibration.images.shape == (32, 224, 224, 3) and calibration.source == calibration_set.SOURCE
    # A change here re-indexes every int8 efficientnet-lite0 catalog: change the generator only on purpose.
    assert calibration.digest == "c4490d7f4799e084"
    np.testing.assert_array_equal(calibration_set.generated_image(5), calibration.images[5])


def test_images_differ_and_look_like_product_photos():
    images = calibration_set.generated_calibration().images
    assert len({image.tobytes() for image in images}) == len(images)
    corners = images[:, :8, :8].reshape(len(images), -1).mean(axis=1)
    assert (corners > 200).sum() >= len(images) // 2  # mostly light backdrops, as shop photos
    assert all(image.std() > 10 for image in images)  # each has structure
