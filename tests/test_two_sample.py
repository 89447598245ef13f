"""The classifier two-sample test (gan_lab.two_sample) and its place in evaluate / the CLI, on real emoji-64."""
import json

import numpy as np
import pytest
import tensorflow as tf
from conftest import DATA_DIR

from gan_lab.cli import main
from gan_lab.evaluation import MetricInputError, evaluate
from gan_lab.two_sample import two_sample_accuracy

EMOJI = f"folder:{DATA_DIR / 'emoji-64'}"


@pytest.fixture(scope="module")
def halves(emoji_small):
    """Two disjoint sets of 128 real emoji at 32×32, floats in [0, 1]."""
    x = emoji_small[:, ::2, ::2].astype(np.float32) / 255.0
    return x[0::2][:128], x[1::2][:128]


def test_real_against_real_is_chance_noise_and_blur_are_told_apart(halves):
    real, other = halves
    noise = np.random.default_rng(0).uniform(0, 1, real.shape).astype(np.float32)
    blurred = tf.image.resize(tf.image.resize(other, (8, 8), antialias=True), (32, 32)).numpy()
    same = two_sample_accuracy(real, other)
    assert abs(same - 0.5) < 0.1
    assert two_sample_accuracy(real, noise) > 0.95
    assert two_sample_accuracy(real, blurred) > same + 0.2


def test_it_is_seeded_and_leaves_global_random_state_alone(halves):
    real, other = halves
    state = np.random.get_state()[1].copy()
    a = two_sample_accuracy(real[:64], other[:64], seed=3, epochs=3)
    assert np.array_equal(np.random.get_state()[1], state)
    assert a == two_sample_accuracy(real[:64], other[:64], seed=3, epochs=3)


def test_grayscale_resizing_and_unequal_sets(halves):
    real, other = halves
    gray = real.mean(axis=-1)
    assert 0.0 <= two_sample_accuracy(gray, other.mean(axis=-1)[:40], size=16, epochs=2) <= 1.0


@pytest.mark.parametrize("real, fake, message", [
    (np.zeros((8, 32, 32, 3)), np.zeros((8, 16, 16, 3)), "two sets of pictures of one shape"),
    (np.zeros((3, 8, 8, 3)), np.zeros((9, 8, 8, 3)), "at least 4 real and 4 generated pictures, got 3 and 9"),
])
def test_bad_input_is_refused_with_what_was_expected(real, fake, message):
    with pytest.raises(ValueError, match=message):
        two_sample_accuracy(real, fake)


def test_evaluate_adds_c2st_for_pictures_and_refuses_it_for_mnist(tmp_path):
    noise = np.random.default_rng(1).integers(0, 256, (100, 64, 64, 3), dtype=np.uint8)
    result = evaluate(noise, EMOJI, n=100, two_sample=True)
    assert result["c2st"] > 0.95 and "kid_random" in result
    assert "c2st" not in evaluate(noise, EMOJI, n=100)
    with pytest.raises(MetricInputError, match="two_sample=True needs the random-feature family"):
        evaluate(np.zeros((20, 28, 28), np.uint8), "mnist", n=20, two_sample=True)
    path = tmp_path / "noise.npy"
    np.save(path, noise)
    assert main(["evaluate", str(path), "--dataset", EMOJI, "--n", "100", "--c2st",
                 "--inception", "off"]) == 0
    payload = json.loads((tmp_path / "noise.metrics.json").read_text())
    assert payload["result"]["c2st"] > 0.95 and abs(payload["floor"]["c2st"] - 0.5) < 0.15

