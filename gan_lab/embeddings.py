"""Feature networks for scoring pictures of any kind: a fixed random convolutional net (offline) and InceptionV3.

gan_lab's classifiers (:mod:`gan_lab.classifier`) only know MNIST and Fashion-MNIST. For colour pictures and
any folder the metrics of :mod:`gan_lab.metrics` are computed on the features of one of these networks:

- :func:`random_features` — a **seeded, randomly initialised convolutional network**, never trained: four
  4×4 stride-2 convolutions (32, 64, 128, 256 channels, LeakyReLU 0.2) on the picture resized to 64×64 RGB in
  [−1, 1]; the features are the spatial mean and standard deviation of each stage's activations (960
  numbers: means alone let uniform noise reach precision 0.93 on emoji-64, mean and std 0.25). The weights are
  drawn from N(0, 2/fan_in) by NumPy's PCG64 generator with seed :data:`RANDOM_NET_SEED`, so they are the same
  on every machine and need no download. Naeem et al. 2020 ("Reliable Fidelity and Diversity Metrics for
  Generative Models", https://arxiv.org/abs/2002.09797, section 5) found that the embeddings of a randomly
  initialised network rank generative models usefully; gan_lab checks its own (``tests/test_colour_metrics.py``:
  real vs real is the floor, noise and shuffled pixels are far worse, a half-trained model lies between).
  Its values are on its own scale: they are *not* FID/KID and must not be compared with published numbers.
- :func:`inception_features` — InceptionV3 trained on ImageNet (``keras.applications``), the 2048-d pool
  features of the picture resized to 299×299, as FID (Heusel et al. 2017) and KID (Bińkowski et al. 2018) use.
  Only when its weights are on disk (:func:`inception_status`); gan_lab never replaces it silently.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import tensorflow as tf

RANDOM_NET_SEED = 20200209          # the seed of the random network's weights (never change it: scores move)
RANDOM_NET_CHANNELS = (32, 64, 128, 256)
RANDOM_NET_SIZE = 64
INCEPTION_SIZE = 299
INCEPTION_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
BATCH = 250


@functools.lru_cache(maxsize=None)
def _random_net_weights() -> tuple:
    """The random network's kernels (4, 4, C_in, C_out) and biases (zeros), drawn from N(0, 2/fan_in)."""
    rng = np.random.default_rng(RANDOM_NET_SEED)
    weights, c_in = [], 3
    for c_out in RANDOM_NET_CHANNELS:
        std = np.sqrt(2.0 / (4 * 4 * c_in))
        weights.append(rng.normal(0.0, std, (4, 4, c_in, c_out)).astype(np.float32))
        c_in = c_out
    return tuple(weights)


def _as_rgb(images, size: int) -> tf.Tensor:
    """float (N, H, W[, C]) in [0, 1] → (N, size, size, 3): gray copied to RGB, resized (bilinear, antialiased)."""
    x = tf.convert_to_tensor(np.asarray(images, np.float32))
    if x.shape.rank == 3:
        x = x[..., None]
    if x.shape[-1] == 1:
        x = tf.repeat(x, 3, axis=-1)
    if x.shape[1] != size or x.shape[2] != size:
        x = tf.image.resize(x, (size, size), method="bilinear", antialias=True)
    return x


@tf.function(reduce_retracing=True)
def _random_net(x):
    feats = []
    for kernel in _random_net_weights():
        x = tf.nn.leaky_relu(tf.nn.conv2d(x, kernel, strides=2, padding="SAME"), alpha=0.2)
        feats += [tf.reduce_mean(x, axis=[1, 2]), tf.math.reduce_std(x, axis=[1, 2])]
    return tf.concat(feats, axis=1)


def random_features(images) -> np.ndarray:
    """(N, 960) features of the fixed random network for float images in [0, 1], (N, H, W) or (N, H, W, C)
    with C = 1 or 3 (any size: resized to 64×64)."""
    out = [_random_net(_as_rgb(images[i:i + BATCH], RANDOM_NET_SIZE) * 2.0 - 1.0).numpy()
           for i in range(0, len(images), BATCH)]
    return np.concatenate(out).astype(np.float64) if out else np.zeros((0, 2 * sum(RANDOM_NET_CHANNELS)))


def inception_weights_path() -> Path:
    """Where Keras keeps the InceptionV3 ImageNet weights (``$KERAS_HOME/models`` or ``~/.keras/models``), or
    the file named by ``$GAN_LAB_INCEPTION_WEIGHTS``."""
    if os.environ.get("GAN_LAB_INCEPTION_WEIGHTS"):
        return Path(os.environ["GAN_LAB_INCEPTION_WEIGHTS"]).expanduser()
    home = os.environ.get("KERAS_HOME")
    return (Path(home) if home else Path.home() / ".keras") / "models" / INCEPTION_FILE


def inception_status(mode: str = "auto") -> tuple[bool, str]:
    """``(usable, one line)``: whether InceptionV3 FID/KID can be computed. ``mode``: ``"auto"`` (only when the
    weights file is on disk), ``"download"`` (let Keras download it, about 84 MB: on Colab), ``"off"``."""
    if mode not in ("auto", "download", "off"):
        raise ValueError(f"inception = {mode!r} is invalid: expected 'auto' (when the weights are on disk), "
                         "'download' or 'off'")
    if mode == "off":
        return False, "InceptionV3 FID/KID: off (--inception off)"
    path = inception_weights_path()
    if path.is_file() or mode == "download":
        return True, f"InceptionV3 FID/KID: ImageNet weights {path if path.is_file() else '(downloading)'}"
    return False, (f"InceptionV3 FID/KID: not computed, the ImageNet weights are not at {path} (gan_lab does not "
                   "download them unasked: pass --inception download with internet access, e.g. on Colab, or "
                   "copy the file there or name it in GAN_LAB_INCEPTION_WEIGHTS)")


@functools.lru_cache(maxsize=1)
def inception_model(download: bool = False):
    """InceptionV3 without its top, global average pooling: 2048-d features of 299×299×3 inputs in [−1, 1]."""
    import keras
    path = inception_weights_path()
    weights = str(path) if path.is_file() else ("imagenet" if download else None)
    if weights is None:
        raise FileNotFoundError(inception_status("auto")[1])
    return keras.applications.InceptionV3(include_top=False, pooling="avg", weights=weights,
                                          input_shape=(INCEPTION_SIZE, INCEPTION_SIZE, 3))


def inception_features(images, model=None) -> np.ndarray:
    """(N, 2048) InceptionV3 pool features of float images in [0, 1] (any size and 1 or 3 channels): resized
    to 299×299 (bilinear), scaled to [−1, 1] as ``keras.applications.inception_v3.preprocess_input`` does."""
    model = model if model is not None else inception_model()
    out = [np.asarray(model(_as_rgb(images[i:i + 50], INCEPTION_SIZE) * 2.0 - 1.0, training=False))
           for i in range(0, len(images), 50)]
    return np.concatenate(out).astype(np.float64)
