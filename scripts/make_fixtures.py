#!/usr/bin/env python
"""Write ``unit-testing-data/gan-checks-tf.npz``: inputs and expected outputs for :mod:`gan_lab.checks`.

The same bytes are also written to ``gan_lab/fixtures/gan-checks-tf.npz``, the copy that ships inside the
package as package data (gan_lab.checks reads it as a package resource). ``unit-testing-data/`` stays the
source the tests read; ``tests/test_checks.py`` checks that the two files are byte-identical, so rerun this
script (rather than editing either file) whenever the fixtures change.

This is an *independent reference*: it uses plain numpy formulas only and must not import ``gan_lab`` or
``tensorflow`` (``tests/test_checks.py`` checks that, and that re-running it reproduces the committed file).

Contents (all float64, except the parameter counts, which are int64 scalars):

=========================  ====================================================================
``logits_real``            (64,) discriminator logits on real images, N(0, 3²)
``logits_fake``            (64,) discriminator logits on fake images, N(0, 3²)
``d_loss_true``            mean(BCE(logits_real, 1)) + mean(BCE(logits_fake, 0))  (Goodfellow 2014)
``g_loss_true``            mean(BCE(logits_fake, 1))             (non-saturating generator loss)
``minimax_g_loss_true``    -mean(BCE(logits_fake, 0)) = mean(log(1 - D(G(z))))
``scores_real``            (64,) LSGAN discriminator scores on real images
``scores_fake``            (64,) LSGAN discriminator scores on fake images
``d_loss_lsgan_true``      0.5 mean((scores_real - 1)²) + 0.5 mean(scores_fake²)  (Mao 2017)
``g_loss_lsgan_true``      0.5 mean((scores_fake - 1)²)
``lrelu_x``                (4, 16) leaky-ReLU inputs
``lrelu_out_true``         where(x > 0, x, 0.01 x)
``dense_d_params``         parameter count of the dense discriminator         (267009)
``dense_g_params_noise4``  parameter count of the dense generator, noise_dim 4 (1858320)
``dc_d_params``            parameter count of the DCGAN discriminator          (1102721)
``dc_g_params_noise4``     parameter count of the DCGAN generator, noise_dim 4 (6595521)
``weights_rule``           (2,) the constants (a, b) of the fixed weights below
``model_x``                (6, 784) images in [-1, 1], the discriminators' input
``model_z``                (6, 4) noise in [-1, 1], the generators' input (noise_dim 4)
``dense_d_out_true``       (6, 1) dense discriminator logits on ``model_x`` with the fixed weights
``dense_g_out_true``       (6, 784) dense generator images from ``model_z`` with the fixed weights
``dc_d_out_true``          (6, 1) DCGAN discriminator logits on ``model_x`` with the fixed weights
``dc_g_out_true``          (6, 784) DCGAN generator images from ``model_z``, inference mode (BatchNorm
                           uses its moving statistics, which are fixed weights too)
=========================  ====================================================================

Fixed weights: the model's weight tensors in Keras order (``model.weights``: per layer kernel, bias; BatchNorm
gamma, beta, moving mean, moving variance), tensor number ``i`` of shape ``s`` filled with
``u_j = 2 * frac(j * a + i * b) - 1`` (j = 0, 1, ... in row-major order, a quasi-random sequence in [-1, 1))
and scaled: kernels by ``sqrt(3 / fan_in)`` (fan_in = all dimensions but the last; for a Conv2DTranspose
kernel (k, k, out, in) the last is ``in``: fan_in = k * k * out), biases and betas by 0.1, gammas as
``1 + 0.2 u``, moving means as ``0.1 u`` and moving variances as ``1 + 0.5 (u + 1)``. (Storing the weights
themselves would take tens of megabytes; the rule is two numbers.) ``gan_lab.checks.fixed_weights`` applies
the same rule to a learner's model.

BCE(l, t) = softplus(l) - t·l is computed as ``np.logaddexp(0, l) - t * l`` (stable for large |l|), and
every mean with ``math.fsum`` (correctly rounded, so the result does not depend on numpy's summation order).

Usage::

    python scripts/make_fixtures.py                 # rewrites unit-testing-data/ and gan_lab/fixtures/gan-checks-tf.npz
    python scripts/make_fixtures.py --out /tmp/x.npz  # that file only
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

SEED = 231
N = 64
LRELU_ALPHA = 0.01
REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "unit-testing-data" / "gan-checks-tf.npz"
PACKAGED_COPY = REPO / "gan_lab" / "fixtures" / "gan-checks-tf.npz"  # shipped in the wheel


# --------------------------------------------------------------------------------------------- losses
def mean(a):
    """Correctly rounded mean of a float64 array."""
    a = np.asarray(a, dtype=np.float64).ravel()
    return np.float64(math.fsum(a.tolist()) / a.size)


def bce(logits, target):
    """Elementwise binary cross-entropy of sigmoid(logits) vs target: softplus(l) - t*l."""
    return np.logaddexp(0.0, logits) - target * logits


# --------------------------------------------------------------------------------- parameter counting
def dense_params(n_in, n_out, bias=True):
    """Fully connected layer: an n_in x n_out weight matrix plus n_out biases."""
    return np.int64(n_in) * n_out + (n_out if bias else 0)


def conv_params(k, c_in, c_out, bias=True):
    """Conv2D / Conv2DTranspose with a k x k kernel: k*k*c_in*c_out weights plus c_out biases."""
    return np.int64(k) * k * c_in * c_out + (c_out if bias else 0)


def batchnorm_params(n):
    """BatchNormalization over n features: gamma, beta (trained) + moving mean, moving variance."""
    return np.int64(4) * n


def valid_conv_size(size, k):
    """Spatial size after a stride-1 'valid' convolution with a k x k kernel."""
    return size - k + 1


def dense_discriminator_params():
    """Dense D: 784 -> 256 -> 256 -> 1, every layer with biases (LeakyReLU has no parameters)."""
    sizes = [28 * 28, 256, 256, 1]
    return sum(dense_params(a, b) for a, b in zip(sizes[:-1], sizes[1:]))


def dense_generator_params(noise_dim=4):
    """Dense G: noise_dim -> 1024 -> 1024 -> 784, every layer with biases (ReLU, ReLU, tanh)."""
    sizes = [noise_dim, 1024, 1024, 28 * 28]
    return sum(dense_params(a, b) for a, b in zip(sizes[:-1], sizes[1:]))


def dc_discriminator_params():
    """DCGAN-style D on a 28x28x1 image.

    Conv 32 5x5 valid (28 -> 24), max-pool 2 (-> 12); Conv 64 5x5 valid (12 -> 8), max-pool 2 (-> 4);
    flatten 4*4*64 = 1024 -> FC 1024 -> FC 1. Pooling, flatten and LeakyReLU have no parameters.
    """
    total = np.int64(0)
    size, channels = 28, 1
    for filters in (32, 64):
        total += conv_params(5, channels, filters)
        size = valid_conv_size(size, 5) // 2
        channels = filters
    assert (size, channels) == (4, 64)
    total += dense_params(size * size * channels, 1024)
    total += dense_params(1024, 1)
    return total


def dc_generator_params(noise_dim=4):
    """DCGAN-style G (InfoGAN's MNIST generator, as in CS231n).

    FC noise_dim -> 1024 + BN(1024); FC 1024 -> 7*7*128 + BN(7*7*128); reshape to 7x7x128;
    Conv2DTranspose 128 -> 64, 4x4, stride 2 'same' (7 -> 14) + BN(64);
    Conv2DTranspose 64 -> 1, 4x4, stride 2 'same' (14 -> 28), tanh. Every FC / conv layer has biases.
    """
    total = dense_params(noise_dim, 1024) + batchnorm_params(1024)
    total += dense_params(1024, 7 * 7 * 128) + batchnorm_params(7 * 7 * 128)
    size = 7
    total += conv_params(4, 128, 64) + batchnorm_params(64)
    size *= 2
    total += conv_params(4, 64, 1)
    size *= 2
    assert size == 28
    return total


# ------------------------------------------------------------------------------ model outputs, fixed weights
WEIGHTS_RULE = (0.6180339887498949, 0.41421356237309503)  # golden-ratio and sqrt(2) fractional parts
BN_EPSILON = 1e-3  # Keras BatchNormalization's default


def rule_values(index, shape):
    """Tensor ``index`` of a model, before scaling: 2 * frac(j * a + index * b) - 1, row-major."""
    a, b = WEIGHTS_RULE
    j = np.arange(int(np.prod(shape)), dtype=np.float64)
    return (2.0 * np.mod(j * a + index * b, 1.0) - 1.0).reshape(shape)


class Weights:
    """Hands out a model's fixed weight tensors in Keras order."""

    def __init__(self):
        self.index = 0

    def _next(self, shape):
        values = rule_values(self.index, shape)
        self.index += 1
        return values

    def kernel(self, shape, fan_in):
        return self._next(shape) * np.sqrt(3.0 / fan_in)

    def bias(self, n):
        return 0.1 * self._next((n,))

    def dense(self, x, n_out):
        w = self.kernel((x.shape[1], n_out), x.shape[1])
        return x @ w + self.bias(n_out)

    def batchnorm(self, x):
        n = x.shape[-1]
        gamma, beta = 1.0 + 0.2 * self._next((n,)), 0.1 * self._next((n,))
        mean_, var = 0.1 * self._next((n,)), 1.0 + 0.5 * (self._next((n,)) + 1.0)
        return gamma * (x - mean_) / np.sqrt(var + BN_EPSILON) + beta

    def conv_valid(self, x, filters, k):
        """Stride-1 'valid' cross-correlation, NHWC, kernel (k, k, c_in, filters)."""
        c_in = x.shape[-1]
        w = self.kernel((k, k, c_in, filters), k * k * c_in)
        h, wd = x.shape[1] - k + 1, x.shape[2] - k + 1
        out = np.zeros((x.shape[0], h, wd, filters))
        for a in range(k):
            for b in range(k):
                out += np.einsum("nhwc,cf->nhwf", x[:, a:a + h, b:b + wd, :], w[a, b])
        return out + self.bias(filters)

    def conv_transpose_same(self, x, filters, k, stride):
        """Transposed convolution, 'same' padding (output = stride * input), kernel (k, k, filters, c_in):
        input pixel (i, j) adds x[i, j] . w[a, b] at (stride * i + a, stride * j + b) of the full output, which
        is then cropped by (k - stride) // 2 at the top/left."""
        n, h, wd, c_in = x.shape
        w = self.kernel((k, k, filters, c_in), k * k * filters)
        full = np.zeros((n, (h - 1) * stride + k, (wd - 1) * stride + k, filters))
        for a in range(k):
            for b in range(k):
                full[:, a:a + stride * h:stride, b:b + stride * wd:stride, :] += np.einsum("nhwc,fc->nhwf", x, w[a, b])
        top = (k - stride) // 2
        return full[:, top:top + stride * h, top:top + stride * wd, :] + self.bias(filters)


def lrelu(x):
    return np.where(x > 0, x, LRELU_ALPHA * x)


def relu(x):
    return np.maximum(x, 0.0)


def maxpool2(x):
    n, h, w, c = x.shape
    return x[:, :h // 2 * 2, :w // 2 * 2, :].reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def dense_discriminator_out(x):
    w = Weights()
    return w.dense(lrelu(w.dense(lrelu(w.dense(x, 256)), 256)), 1)


def dense_generator_out(z):
    w = Weights()
    return np.tanh(w.dense(relu(w.dense(relu(w.dense(z, 1024)), 1024)), 28 * 28))


def dc_discriminator_out(x):
    w = Weights()
    h = x.reshape(-1, 28, 28, 1)
    h = maxpool2(lrelu(w.conv_valid(h, 32, 5)))
    h = maxpool2(lrelu(w.conv_valid(h, 64, 5)))
    h = lrelu(w.dense(h.reshape(h.shape[0], -1), 1024))  # flatten in (height, width, channel) order
    return w.dense(h, 1)


def dc_generator_out(z):
    """Inference mode: Dense 1024 ReLU BN, Dense 7*7*128 ReLU BN, ConvT 64 ReLU BN, ConvT 1 tanh."""
    w = Weights()
    h = w.batchnorm(relu(w.dense(z, 1024)))
    h = w.batchnorm(relu(w.dense(h, 7 * 7 * 128))).reshape(-1, 7, 7, 128)
    h = w.batchnorm(relu(w.conv_transpose_same(h, 64, 4, 2)))
    return np.tanh(w.conv_transpose_same(h, 1, 4, 2)).reshape(-1, 28 * 28)


# ----------------------------------------------------------------------------------------------- main
def make_fixtures():
    """Return the fixture dict (same content on every run)."""
    rng = np.random.default_rng(SEED)
    logits_real = 3.0 * rng.standard_normal(N)
    logits_fake = 3.0 * rng.standard_normal(N)
    scores_real = 0.8 + 0.5 * rng.standard_normal(N)
    scores_fake = 0.2 + 0.5 * rng.standard_normal(N)
    lrelu_x = 2.0 * rng.standard_normal((4, 16))
    model_x = rng.uniform(-1.0, 1.0, (6, 28 * 28))
    model_z = rng.uniform(-1.0, 1.0, (6, 4))

    return {
        "logits_real": logits_real,
        "logits_fake": logits_fake,
        "d_loss_true": mean(bce(logits_real, 1.0)) + mean(bce(logits_fake, 0.0)),
        "g_loss_true": mean(bce(logits_fake, 1.0)),
        "minimax_g_loss_true": -mean(bce(logits_fake, 0.0)),
        "scores_real": scores_real,
        "scores_fake": scores_fake,
        "d_loss_lsgan_true": 0.5 * mean((scores_real - 1.0) ** 2) + 0.5 * mean(scores_fake ** 2),
        "g_loss_lsgan_true": 0.5 * mean((scores_fake - 1.0) ** 2),
        "lrelu_x": lrelu_x,
        "lrelu_out_true": np.where(lrelu_x > 0, lrelu_x, LRELU_ALPHA * lrelu_x),
        "dense_d_params": np.int64(dense_discriminator_params()),
        "dense_g_params_noise4": np.int64(dense_generator_params(4)),
        "dc_d_params": np.int64(dc_discriminator_params()),
        "dc_g_params_noise4": np.int64(dc_generator_params(4)),
        "weights_rule": np.array(WEIGHTS_RULE),
        "model_x": model_x,
        "model_z": model_z,
        "dense_d_out_true": dense_discriminator_out(model_x),
        "dense_g_out_true": dense_generator_out(model_z),
        "dc_d_out_true": dc_discriminator_out(model_x),
        "dc_g_out_true": dc_generator_out(model_z),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None,
                        help=f"output .npz (default: {DEFAULT_OUT} and its packaged copy {PACKAGED_COPY})")
    args = parser.parse_args(argv)
    fixtures = {k: np.asarray(v) for k, v in make_fixtures().items()}
    out = args.out or DEFAULT_OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, **fixtures)
    print(f"wrote {out}")
    if args.out is None:  # the packaged copy gets the very same bytes (np.savez stamps the time into the zip)
        PACKAGED_COPY.parent.mkdir(parents=True, exist_ok=True)
        PACKAGED_COPY.write_bytes(out.read_bytes())
        print(f"wrote {PACKAGED_COPY} (a byte copy)")
    for key, value in fixtures.items():
        shown = value if value.ndim == 0 else f"shape {value.shape}"
        print(f"  {key:22s} {value.dtype}  {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
