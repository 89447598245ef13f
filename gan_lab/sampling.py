"""Drawing images from a generator: the one place that turns noise (and class labels) into pictures.

Everything that draws — the training grids, the final images of a run, ``gan-lab sample``, the metrics, the
latent walks — calls :func:`generate` (noise you give) or :func:`sample` (noise drawn from a seed).

Conventions: noise is uniform in [-1, 1] (as in CS231n's notebook); a generator with two inputs is
conditional and is called on ``[noise, labels]`` with integer labels of shape (N, 1); images come back as
float32 (N, H, W) for one channel and (N, H, W, C) for colour, whatever the generator computes in (a
mixed-precision generator returns bfloat16) and whether it outputs flat (N, H·W) rows or (N, H, W, 1).
"""
from __future__ import annotations

import math

import keras
import numpy as np

from gan_lab.data import to_unit_range

NUM_CLASSES = 10
BATCH_SIZE = 500  # the most pictures one generator call draws
MEMORY_BUDGET = 512 * 2 ** 20  # bytes: the largest activation of one batch, its input beside it, fit in this


def noise_dim_of(generator) -> int:
    """The noise size of a Keras generator (its first input's last dimension)."""
    return int(generator.inputs[0].shape[-1])


def is_conditional(generator) -> bool:
    """True for a generator with a class-label input besides the noise (inputs ``[noise, label]``)."""
    return len(getattr(generator, "inputs", None) or []) > 1


def num_classes_of(generator) -> int:
    """The classes a conditional generator draws (0 for an unconditional one): the rows of its cluster prior
    when it picks clusters within classes (:func:`gan_lab.models.with_cluster_prior`), else the size of its
    label embedding; :data:`NUM_CLASSES` for a conditional generator with neither (e.g. a learner's own)."""
    if not is_conditional(generator):
        return 0
    found = list(_layers_within(generator))
    for layer in found:
        if np.ndim(getattr(layer, "frequencies", None)) == 2:
            return len(layer.frequencies)
    for layer in found:
        if isinstance(layer, keras.layers.Embedding):
            return int(layer.input_dim)
    return NUM_CLASSES


def _layers_within(model):
    for layer in getattr(model, "layers", []):
        yield layer
        yield from _layers_within(layer)


def uniform_noise(n: int, noise_dim: int, seed=None) -> np.ndarray:
    """float32 (n, noise_dim) uniform in [-1, 1]; the same ``seed`` gives the same noise."""
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=(int(n), int(noise_dim))).astype(np.float32)


def code_noise(codes, num_codes: int, noise_dim: int, seed=None) -> np.ndarray:
    """Noise that selects InfoGAN code ``codes[i]`` in row i (:func:`gan_lab.models.code_of_noise`): uniform
    noise whose first ``num_codes`` values are -1 except a 1 at the code."""
    codes = np.asarray(codes, dtype=np.int64).reshape(-1)
    if codes.size and not 0 <= codes.min() <= codes.max() < num_codes:
        raise ValueError(f"codes must be in 0..{num_codes - 1}, got {codes.min()}..{codes.max()}")
    z = uniform_noise(len(codes), noise_dim, seed)
    z[:, :num_codes] = -1.0
    z[np.arange(len(codes)), codes] = 1.0
    return z


def cluster_noise(clusters, frequencies, noise_dim: int, seed=None) -> np.ndarray:
    """Noise that selects cluster ``clusters[i]`` in row i for a self-conditioned generator
    (:func:`gan_lab.models.cluster_of_noise`): uniform noise whose first value sits in the middle of that
    cluster's share of [-1, 1]. ``frequencies`` is one list of shares (``clusters``); for clusters within
    classes (``class_clusters``) pass the row of the class you will ask for and the cluster's index in it."""
    clusters = np.asarray(clusters, dtype=np.int64).reshape(-1)
    frequencies = np.asarray(frequencies, dtype=np.float64)
    if clusters.size and not 0 <= clusters.min() <= clusters.max() < len(frequencies):
        raise ValueError(f"clusters must be in 0..{len(frequencies) - 1}, got {clusters.min()}..{clusters.max()}")
    middle = np.cumsum(frequencies) - frequencies / 2  # of each cluster's interval of u = (z0 + 1) / 2
    z = uniform_noise(len(clusters), noise_dim, seed)
    z[:, 0] = 2.0 * middle[clusters] - 1.0
    return z


def cycling_labels(n: int, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """``0, 1, ..., num_classes - 1, 0, 1, ...``: balanced labels for ``n`` conditional samples."""
    return np.arange(int(n)) % num_classes


def as_image_batch(outputs) -> np.ndarray:
    """Generator outputs as float32 images: (N, H, W) for one channel, (N, H, W, C) for colour.

    Flat rows (N, H·W) of square grayscale images (the CS231n generators' (N, 784)) become (N, H, W)."""
    x = np.asarray(outputs).astype(np.float32, copy=False)
    if x.ndim == 2:
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1]:
            raise ValueError(f"the generator returned flat rows of {x.shape[1]} values: expected square "
                             "grayscale images (e.g. 784 = 28×28) or (N, H, W, C)")
        return x.reshape(-1, side, side)
    if x.ndim == 4 and x.shape[-1] == 1:
        return x[..., 0]
    if x.ndim in (3, 4):
        return x
    raise ValueError(f"the generator returned shape {x.shape}: expected images (N, H, W, C), (N, H, W) or (N, H·W)")


def _label_input(generator, n: int, labels=None):
    """The label input (int32 (n, 1)) of a conditional generator for ``n`` pictures: ``labels`` (an int, or n of
    them), by default :func:`cycling_labels` over its classes; ``None`` for an unconditional one, which refuses
    labels."""
    if not is_conditional(generator):
        if labels is not None:
            raise ValueError("labels were given but the generator is unconditional (it takes noise only)")
        return None
    labels = (cycling_labels(n, num_classes_of(generator)) if labels is None
              else np.broadcast_to(np.asarray(labels), (n,)))
    return labels.astype(np.int32).reshape(-1, 1)


def batch_size_for(generator, budget: int = MEMORY_BUDGET) -> int:
    """How many pictures one call of ``generator`` may draw: :data:`BATCH_SIZE`, or fewer when its largest
    layer output (float32, with as large an input beside it) would take more than ``budget`` bytes per batch.
    The keras.io face generator's 64×64×512 map is 8 MB per picture: 32 per batch (in batches of 500, drawing
    1,000 pictures took 10.6 GB; benchmarks/memory.py --draw).
    A callable that is not a Keras model gets :data:`BATCH_SIZE`."""
    sizes = [math.prod(shape[1:]) for layer in _layers_within(generator)
             for shape in _output_shapes(layer) if None not in shape[1:]]
    per_picture = 2 * 4 * max(sizes, default=1)
    return int(min(BATCH_SIZE, max(1, budget // per_picture)))


def _output_shapes(layer) -> list:
    try:
        outputs = layer.output
    except (AttributeError, ValueError):  # a layer never called on a symbolic input (subclassed models)
        return []
    return [tuple(t.shape) for t in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]


def generate(generator, noise, labels=None, batch_size: int | None = None) -> np.ndarray:
    """Images (float32, in the generator's output range) for ``noise`` (N, noise_dim), in batches of
    ``batch_size`` (default :func:`batch_size_for` the generator, at most 500).

    A conditional generator draws class ``labels[i]`` for ``noise[i]`` (an int, or N of them; default
    :func:`cycling_labels` over its :func:`num_classes_of` classes); an unconditional one refuses labels."""
    noise = np.asarray(noise, dtype=np.float32)
    n = len(noise)
    batch_size = batch_size or batch_size_for(generator)
    labels = _label_input(generator, n, labels)
    out = []
    for start in range(0, n, batch_size):
        z = noise[start:start + batch_size]
        inputs = z if labels is None else [z, labels[start:start + batch_size]]
        # a Keras model runs in inference mode; any other callable noise -> images is called as it is
        outputs = generator(inputs, training=False) if isinstance(generator, keras.Model) else generator(inputs)
        out.append(as_image_batch(outputs))
    return np.concatenate(out) if out else np.zeros((0,), np.float32)


def recompute_batchnorm_statistics(generator, n: int, seed=0) -> int:
    """Set every BatchNormalization layer's moving mean and variance in ``generator`` (nested models too) to the
    statistics of its inputs when the generator draws ``n`` pictures from uniform noise drawn with ``seed``
    (conditional: :func:`cycling_labels`), in one training-mode pass of ``n`` with momentum 0. Returns how many
    layers it set.

    Why: an exponential moving average of G's weights (Yazıcı et al. 2019) also averages the raw generator's
    BatchNorm statistics, which belong to other weights than the averaged ones; SWA (Izmailov et al. 2018,
    ``bn_update``) recomputes them for the averaged weights in the same way. The noise must be the noise the
    generator trained on (uniform in [-1, 1] here: statistics from normal noise made the EMA generator far worse).
    The pass holds all ``n`` pictures' activations at once (at 64×64 and width 32, n = 1024: about 1 GB)."""
    norms = [layer for layer in _layers_within(generator) if isinstance(layer, keras.layers.BatchNormalization)]
    if not norms:
        return 0
    noise, labels = uniform_noise(n, noise_dim_of(generator), seed), _label_input(generator, n)
    inputs = noise if labels is None else [noise, labels]
    saved = [(layer.trainable, layer.momentum) for layer in norms]
    try:
        for layer in norms:  # a BatchNormalization layer uses and updates batch statistics only when trainable
            layer.trainable, layer.momentum = True, 0.0
        generator(inputs, training=True)
    finally:
        for layer, (trainable, momentum) in zip(norms, saved):
            layer.trainable, layer.momentum = trainable, momentum
    return len(norms)


def sample(generator, n: int, seed=None, labels=None, output: str = "tanh",
           batch_size: int | None = None) -> np.ndarray:
    """``n`` images in [0, 1] from uniform noise drawn with ``seed`` (see :func:`generate` for ``labels``)."""
    noise = uniform_noise(n, noise_dim_of(generator), seed)
    return to_unit_range(generate(generator, noise, labels, batch_size), output)
