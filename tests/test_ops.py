"""Ops: the noise sampler, leaky ReLU and quadrant (values, dtypes, seeds, fixtures, Keras use)."""
import keras
import numpy as np
import tensorflow as tf

from gan_lab import checks, ops


def test_leaky_relu_matches_fixture_in_float64():
    fx = checks.load_fixtures()
    out = ops.leaky_relu(fx["lrelu_x"])
    assert out.dtype == tf.float64 and out.shape == fx["lrelu_x"].shape
    assert checks.rel_error(out.numpy(), fx["lrelu_out_true"]) < 1e-14


def test_sample_noise_shape_range_dtype_and_seed():
    z = ops.sample_noise(128, 16)
    assert isinstance(z, tf.Tensor) and z.dtype == tf.float32 and z.shape == (128, 16)
    zn = z.numpy()
    assert zn.min() >= -1.0 and zn.max() <= 1.0 and zn.min() < -0.9 and zn.max() > 0.9
    a, b, c = ops.sample_noise(8, 4, seed=3), ops.sample_noise(8, 4, seed=3), ops.sample_noise(8, 4, seed=4)
    assert np.array_equal(a.numpy(), b.numpy()) and not np.array_equal(a.numpy(), c.numpy())
    assert not np.array_equal(ops.sample_noise(8, 4).numpy(), ops.sample_noise(8, 4).numpy())


def test_leaky_relu_values_alpha_and_keras_functional():
    x = np.array([-2.0, -0.5, 0.0, 3.0])
    assert np.array_equal(ops.leaky_relu(x).numpy(), [-0.02, -0.005, 0.0, 3.0])
    assert np.allclose(ops.leaky_relu(x.astype(np.float32), alpha=0.2).numpy(), [-0.4, -0.1, 0.0, 3.0])
    assert ops.leaky_relu(x.astype(np.float32)).dtype == tf.float32
    inp = keras.Input((4,))
    model = keras.Model(inp, ops.leaky_relu(inp, alpha=0.2))
    assert np.allclose(model(x[None].astype(np.float32)).numpy(), [[-0.4, -0.1, 0.0, 3.0]])


def test_quadrant_picks_each_images_own_quarter_and_passes_gradients():
    x = tf.reshape(tf.range(2 * 4 * 6 * 1, dtype=tf.float32), (2, 4, 6, 1))
    which = tf.constant([[2], [1]])
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = ops.quadrant(x, which)
        total = tf.reduce_sum(out)
    np.testing.assert_array_equal(out.numpy()[0], x.numpy()[0, 2:, :3])  # bottom left
    np.testing.assert_array_equal(out.numpy()[1], x.numpy()[1, :2, 3:])  # top right
    grad = tape.gradient(total, x).numpy()
    assert grad.sum() == 2 * 2 * 3 and grad[0, 2:, :3].all() and grad[1, :2, 3:].all()
