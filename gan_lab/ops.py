"""Small building blocks shared by the models, the losses and the checks: ``leaky_relu``, ``sample_noise`` and
``quadrant``.

They follow the CS231n GAN assignment (TensorFlow version), where a learner writes both first.
"""
from __future__ import annotations

import numbers

import keras
import tensorflow as tf

__all__ = ["leaky_relu", "sample_noise", "quadrant"]


def leaky_relu(x, alpha=0.01):
    """Leaky ReLU (Maas et al. 2013, "Rectifier Nonlinearities Improve Neural Network Acoustic Models").

    ``leaky_relu(x) = x if x > 0 else alpha * x``, elementwise (``max(x, alpha * x)`` for ``0 <= alpha <= 1``).

    Args:
        x: a tensor or array (numpy, ``tf.Tensor``), or a Keras symbolic tensor (``keras.Input`` / a layer's
            output in the functional API), so it can be used both as ``activation=`` and on functional tensors.
        alpha: slope for negative inputs (0.01 as in CS231n; DCGAN uses 0.2).

    Returns:
        A tensor of the same shape. Floating inputs keep their dtype (float64 stays float64); integer inputs
        are computed in float32.
    """
    if isinstance(x, keras.KerasTensor):
        return keras.ops.leaky_relu(x, negative_slope=alpha)
    x = tf.convert_to_tensor(x)
    if not x.dtype.is_floating:
        x = tf.cast(x, tf.float32)
    # Not tf.nn.leaky_relu: its kernel stores alpha as a float32 attribute, so float64 inputs would be
    # scaled by float32(0.01) = 0.0099999998, a relative error of ~1e-8.
    # alpha must not go through float32 either: tf.cast(0.01, tf.float64) would first make a float32 constant.
    alpha = tf.convert_to_tensor(alpha, dtype=x.dtype) if isinstance(alpha, numbers.Real) else tf.cast(alpha, x.dtype)
    return tf.where(x > 0, x, alpha * x)


def sample_noise(batch_size, dim, seed=None):
    """Generator input noise: uniform on ``[-1, 1]``, shape ``(batch_size, dim)``, float32.

    Args:
        batch_size: number of noise vectors.
        dim: size of each noise vector (the generator's ``noise_dim``).
        seed: ``None`` for fresh random noise on every call (``tf.random.uniform``, following TF's global
            seed); an int for deterministic noise (``tf.random.stateless_uniform`` with seed ``(seed, 0)``):
            the same seed always gives the same tensor, e.g. for a fixed grid of samples across epochs.

    Returns:
        A float32 ``tf.Tensor`` of shape ``(batch_size, dim)`` with values in ``[-1, 1)``.
    """
    shape = [batch_size, dim]
    if seed is None:
        return tf.random.uniform(shape, minval=-1.0, maxval=1.0, dtype=tf.float32)
    return tf.random.stateless_uniform(shape, seed=(int(seed), 0), minval=-1.0, maxval=1.0, dtype=tf.float32)


def quadrant(x, which):
    """One quarter of each picture (or feature map) of ``x`` (N, H, W, C): ``which`` (N,) or (N, 1) integers,
    0 top left, 1 top right, 2 bottom left, 3 bottom right; returns (N, H/2, W/2, C), differentiable in ``x``."""
    h, w = x.shape[1] // 2, x.shape[2] // 2
    quarters = keras.ops.stack([x[:, :h, :w], x[:, :h, w:], x[:, h:, :w], x[:, h:, w:]], axis=1)
    pick = keras.ops.one_hot(keras.ops.reshape(which, [-1]), 4, dtype=quarters.dtype)
    return keras.ops.sum(quarters * pick[:, :, None, None, None], axis=1)
