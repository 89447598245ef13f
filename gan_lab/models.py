"""Generator and discriminator builders.

Every builder returns a ``keras.Model`` with an ``Input`` layer. Conventions:

- generators take noise of shape ``(N, noise_dim)``; discriminators return one logit (or score) per image;
- the CS231n pair (:func:`dense_*`, :func:`dc_*`) works on flat images ``(N, 784)`` as CS231n's notebook does;
  the other recipes work on ``(N, 28, 28, 1)``. :class:`gan_lab.train.GAN` reshapes between the two, so any
  generator can be paired with any discriminator.

Image shape: the 28×28 recipes above keep their exact layer lists; the DCGAN family (:func:`dcgan_generator`,
:func:`dcgan_discriminator`) and the keras.io face recipe take ``image_shape`` (H, W, C) — 32×32, 64×64, any
channel count — and :func:`build_pair` passes the preset's shape to the builders that take one.
:func:`gan_lab.flops.forward_flops` counts a model's floating-point operations per image.

Parameter counts (``count_params()``, BatchNorm moving statistics included) are listed in the README and
checked by :mod:`gan_lab.checks`.
"""
from __future__ import annotations

import inspect
from typing import NamedTuple

import keras
import numpy as np
from keras import layers

from gan_lab.ops import leaky_relu, quadrant, sample_noise  # noqa: F401  (re-exported for learners)

IMAGE_SHAPE = (28, 28, 1)
IMAGE_PIXELS = 28 * 28


def _lrelu(alpha):
    return layers.LeakyReLU(negative_slope=alpha)


# --- CS231n (Stanford CS231n GAN notebook) -------------------------------------------------------------

def dense_discriminator(name: str = "dense_discriminator") -> keras.Model:
    """784 → 256 LeakyReLU(0.01) → 256 LeakyReLU(0.01) → 1 logit. 267,009 parameters."""
    x_in = keras.Input((IMAGE_PIXELS,), name="image")
    x = layers.Dense(256)(x_in)
    x = _lrelu(0.01)(x)
    x = layers.Dense(256)(x)
    x = _lrelu(0.01)(x)
    logit = layers.Dense(1, name="logit")(x)
    return keras.Model(x_in, logit, name=name)


def dense_generator(noise_dim: int = 96, name: str = "dense_generator") -> keras.Model:
    """noise → 1024 ReLU → 1024 ReLU → 784 tanh. 1,858,320 parameters at noise_dim 4."""
    z = keras.Input((noise_dim,), name="noise")
    x = layers.Dense(1024, activation="relu")(z)
    x = layers.Dense(1024, activation="relu")(x)
    img = layers.Dense(IMAGE_PIXELS, activation="tanh", name="image")(x)
    return keras.Model(z, img, name=name)


def dc_discriminator(name: str = "dc_discriminator") -> keras.Model:
    """(N, 784) → 28×28×1; Conv 32 5×5 valid, LeakyReLU, MaxPool 2; Conv 64 5×5 valid, LeakyReLU,
    MaxPool 2; FC 1024 LeakyReLU; FC 1. 1,102,721 parameters."""
    x_in = keras.Input((IMAGE_PIXELS,), name="image")
    x = layers.Reshape(IMAGE_SHAPE)(x_in)
    x = layers.Conv2D(32, 5, padding="valid")(x)
    x = _lrelu(0.01)(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(64, 5, padding="valid")(x)
    x = _lrelu(0.01)(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(1024)(x)
    x = _lrelu(0.01)(x)
    logit = layers.Dense(1, name="logit")(x)
    return keras.Model(x_in, logit, name=name)


def dc_generator(noise_dim: int = 96, name: str = "dc_generator") -> keras.Model:
    """FC 1024 ReLU BN; FC 7·7·128 ReLU BN; ConvT 64 4×4 s2 same ReLU BN; ConvT 1 4×4 s2 tanh → (N, 784).
    6,595,521 parameters at noise_dim 4 (BatchNorm moving statistics included)."""
    z = keras.Input((noise_dim,), name="noise")
    x = layers.Dense(1024, activation="relu")(z)
    x = layers.BatchNormalization()(x)
    x = layers.Dense(7 * 7 * 128, activation="relu")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Reshape((7, 7, 128))(x)
    x = layers.Conv2DTranspose(64, 4, strides=2, padding="same", activation="relu")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh")(x)
    img = layers.Reshape((IMAGE_PIXELS,), name="image")(x)
    return keras.Model(z, img, name=name)


# --- TensorFlow DCGAN tutorial --------------------------------------------------------------------------

def tf_tutorial_generator(noise_dim: int = 100, name: str = "tf_tutorial_generator") -> keras.Model:
    """Dense 7·7·256 (no bias) → BN → LeakyReLU → ConvT 128 5×5 s1 → BN → LeakyReLU → ConvT 64 5×5 s2 →
    BN → LeakyReLU → ConvT 1 5×5 s2 tanh → (N, 28, 28, 1)."""
    z = keras.Input((noise_dim,), name="noise")
    x = layers.Dense(7 * 7 * 256, use_bias=False)(z)
    x = layers.BatchNormalization()(x)
    x = _lrelu(0.3)(x)
    x = layers.Reshape((7, 7, 256))(x)
    for filters, stride in ((128, 1), (64, 2)):
        x = layers.Conv2DTranspose(filters, 5, strides=stride, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = _lrelu(0.3)(x)
    img = layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False, activation="tanh",
                                 name="image")(x)
    return keras.Model(z, img, name=name)


def tf_tutorial_discriminator(name: str = "tf_tutorial_discriminator") -> keras.Model:
    """Conv 64 5×5 s2 → LeakyReLU → Dropout 0.3 → Conv 128 5×5 s2 → LeakyReLU → Dropout 0.3 → Dense 1."""
    x_in = keras.Input(IMAGE_SHAPE, name="image")
    x = x_in
    for filters in (64, 128):
        x = layers.Conv2D(filters, 5, strides=2, padding="same")(x)
        x = _lrelu(0.3)(x)
        x = layers.Dropout(0.3)(x)
    x = layers.Flatten()(x)
    logit = layers.Dense(1, name="logit")(x)
    return keras.Model(x_in, logit, name=name)


# --- Fashion-MNIST recipes ------------------------------------------------------------------------------

def fashion_mlp_generator(noise_dim: int = 100, name: str = "fashion_mlp_generator") -> keras.Model:
    """noise → 256 → 512 → 1024 (LeakyReLU 0.2, BN) → 784 tanh, reshaped to 28×28×1."""
    z = keras.Input((noise_dim,), name="noise")
    x = z
    for units in (256, 512, 1024):
        x = layers.Dense(units)(x)
        x = _lrelu(0.2)(x)
        x = layers.BatchNormalization(momentum=0.8)(x)
    x = layers.Dense(IMAGE_PIXELS, activation="tanh")(x)
    img = layers.Reshape(IMAGE_SHAPE, name="image")(x)
    return keras.Model(z, img, name=name)


def fashion_mlp_discriminator(name: str = "fashion_mlp_discriminator") -> keras.Model:
    """28×28×1 → flatten → 512 → 256 (LeakyReLU 0.2) → 1 logit."""
    x_in = keras.Input(IMAGE_SHAPE, name="image")
    x = layers.Flatten()(x_in)
    for units in (512, 256):
        x = layers.Dense(units)(x)
        x = _lrelu(0.2)(x)
    logit = layers.Dense(1, name="logit")(x)
    return keras.Model(x_in, logit, name=name)


def fashion_dcgan_generator(noise_dim: int = 128, name: str = "fashion_dcgan_generator") -> keras.Model:
    """noise 128 → Dense 7·7·256 → LeakyReLU → [UpSample 2 → Conv 3×3 → BN → LeakyReLU] × (128, 128 filters)
    → Conv 64 3×3 → BN → LeakyReLU → Conv 1 3×3 sigmoid → (N, 28, 28, 1) in [0, 1]. 2,136,449 parameters."""
    z = keras.Input((noise_dim,), name="noise")
    x = layers.Dense(7 * 7 * 256)(z)
    x = _lrelu(0.2)(x)
    x = layers.Reshape((7, 7, 256))(x)
    for filters, upsample in ((128, True), (128, True), (64, False)):
        if upsample:
            x = layers.UpSampling2D(2)(x)
        x = layers.Conv2D(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = _lrelu(0.2)(x)
    img = layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="image")(x)
    return keras.Model(z, img, name=name)


def fashion_dcgan_discriminator(name: str = "fashion_dcgan_discriminator") -> keras.Model:
    """[Conv 5×5 → LeakyReLU 0.2 → Dropout 0.3] × (64 s2, 128 s2, 256 s1) → Flatten → Dense 1. 1,038,593 parameters."""
    x_in = keras.Input(IMAGE_SHAPE, name="image")
    x = x_in
    for filters, stride in ((64, 2), (128, 2), (256, 1)):
        x = layers.Conv2D(filters, 5, strides=stride, padding="same")(x)
        x = _lrelu(0.2)(x)
        x = layers.Dropout(0.3)(x)
    x = layers.Flatten()(x)
    logit = layers.Dense(1, name="logit")(x)
    return keras.Model(x_in, logit, name=name)


# --- small: a small, CPU-friendly DCGAN (the `fast` presets; see benchmarks/README.md) ----------------------

def _small_generator_body(x, width: int):
    """Dense 7·7·2w (no bias) → BN → ReLU → ConvT w 4×4 s2 → BN → ReLU → ConvT 1 4×4 s2 tanh."""
    x = layers.Dense(7 * 7 * 2 * width, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Reshape((7, 7, 2 * width))(x)
    x = layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    return layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh", name="image")(x)


def _small_discriminator_features(x, width: int):
    """Conv w 4×4 s2 → LeakyReLU 0.2 → Conv 2w 4×4 s2 → LeakyReLU 0.2 → Flatten (no normalization)."""
    x = layers.Conv2D(width, 4, strides=2, padding="same")(x)
    x = _lrelu(0.2)(x)
    x = layers.Conv2D(2 * width, 4, strides=2, padding="same")(x)
    x = _lrelu(0.2)(x)
    return layers.Flatten()(x)


def small_generator(noise_dim: int = 64, width: int = 64, name: str = "small_generator") -> keras.Model:
    """Dense 7·7·2w (no bias) → BN → ReLU → ConvT w 4×4 s2 → BN → ReLU → ConvT 1 4×4 s2 tanh → (N, 28, 28, 1).

    4×4 kernels with stride 2 tile the output evenly (no checkerboard), and the whole model is about
    7 M multiply-adds per image at width 64 — small enough for hundreds of updates a minute on two CPU cores."""
    z = keras.Input((noise_dim,), name="noise")
    return keras.Model(z, _small_generator_body(z, width), name=name)


def small_discriminator(width: int = 64, name: str = "small_discriminator") -> keras.Model:
    """Conv w 4×4 s2 → LeakyReLU 0.2 → Conv 2w 4×4 s2 → LeakyReLU 0.2 → Flatten → Dense 1 (no normalization)."""
    x_in = keras.Input(IMAGE_SHAPE, name="image")
    logit = layers.Dense(1, name="logit")(_small_discriminator_features(x_in, width))
    return keras.Model(x_in, logit, name=name)


# --- conditional GANs (Mirza & Osindero 2014; projection discriminator: Miyato & Koyama 2018) ---------------

NUM_CLASSES = 10


def small_conditional_generator(noise_dim: int = 64, width: int = 64, num_classes: int = NUM_CLASSES,
                                name: str = "small_conditional_generator") -> keras.Model:
    """Inputs ``[noise (N, noise_dim), label (N, 1) int]``: the label's 32-d embedding is concatenated to the
    noise, then the :func:`small_generator` body → (N, 28, 28, 1) tanh."""
    z = keras.Input((noise_dim,), name="noise")
    y = keras.Input((1,), dtype="int32", name="label")
    e = layers.Flatten()(layers.Embedding(num_classes, 32)(y))
    img = _small_generator_body(layers.Concatenate()([z, e]), width)
    return keras.Model([z, y], img, name=name)


def small_conditional_discriminator(width: int = 64, num_classes: int = NUM_CLASSES, projection: bool = False,
                                    name: str = "small_conditional_discriminator") -> keras.Model:
    """Inputs ``[image (N, 28, 28, 1), label (N, 1) int]`` → one logit.

    ``projection=False``: the label's learned 28×28 map is concatenated to the image as a second channel.
    ``projection=True``: logit = ψ(h) + ⟨embed(y), h⟩ on the conv features h (projection discriminator)."""
    x_in = keras.Input(IMAGE_SHAPE, name="image")
    y = keras.Input((1,), dtype="int32", name="label")
    x = x_in
    if not projection:
        label_map = layers.Reshape(IMAGE_SHAPE)(layers.Embedding(num_classes, IMAGE_PIXELS)(y))
        x = layers.Concatenate()([x_in, label_map])
    h = _small_discriminator_features(x, width)
    logit = layers.Dense(1)(h)
    if projection:
        e = layers.Flatten()(layers.Embedding(num_classes, 7 * 7 * 2 * width)(y))
        logit = layers.Add()([logit, layers.Dot(axes=1)([e, h])])
    return keras.Model([x_in, y], logit, name=name)


def small_projection_discriminator(width: int = 64, num_classes: int = NUM_CLASSES,
                                   name: str = "small_projection_discriminator") -> keras.Model:
    """:func:`small_conditional_discriminator` with the projection head (Miyato & Koyama 2018)."""
    return small_conditional_discriminator(width=width, num_classes=num_classes, projection=True, name=name)



# --- InfoGAN's categorical code (Chen et al. 2016), usable with any unconditional architecture ------------------

@keras.saving.register_keras_serializable(package="gan_lab")
class CodeFromNoise(layers.Layer):
    """Reads a categorical code out of the noise: the first ``codes`` noise values are replaced by the one-hot
    vector of their argmax; the rest pass unchanged (same width in and out).

    With noise uniform in [-1, 1] every code is equally likely, so the generator is still a function of the
    noise alone: sampling, saving, ``gan-lab sample`` and the metrics need nothing new. :func:`code_of_noise`
    gives the code a batch of noise selects."""

    def __init__(self, codes: int, **kwargs):
        super().__init__(**kwargs)
        self.codes = int(codes)

    def call(self, noise):
        one_hot = keras.ops.one_hot(code_of_noise(noise, self.codes), self.codes, dtype=noise.dtype)
        return keras.ops.concatenate([one_hot, noise[:, self.codes:]], axis=-1)

    def get_config(self):
        return {**super().get_config(), "codes": self.codes}


def code_of_noise(noise, codes: int):
    """The categorical code that :class:`CodeFromNoise` reads from ``noise``: argmax of its first ``codes`` values."""
    return keras.ops.argmax(noise[:, :codes], axis=-1)


def with_info_code(generator: keras.Model, codes: int) -> keras.Model:
    """``generator`` behind a :class:`CodeFromNoise` layer: same input (the noise) and output, the first ``codes``
    noise values now select one of ``codes`` categories. The layer computes in float32 under any precision, so
    the code it reads is the code :func:`code_of_noise` reads from the same float32 noise."""
    z = keras.Input(generator.inputs[0].shape[1:], name="noise")
    return keras.Model(z, generator(CodeFromNoise(codes, name="info_code", dtype="float32")(z)), name=generator.name)


def with_code_head(discriminator: keras.Model, codes: int) -> keras.Model:
    """InfoGAN's Q head: a model ``image -> [logit, code logits]`` that shares every layer of ``discriminator``
    and adds one Dense layer of ``codes`` outputs on the features its last layer reads (flattened). The
    discriminator must give one logit per image (a multi-scale one gives two and is refused)."""
    if discriminator.outputs[0].shape[-1] != 1:
        raise ValueError(f"with_code_head: the discriminator gives {discriminator.outputs[0].shape[-1]} logits per "
                         "image (a multi-scale one?); expected one: build it with multiscale=False for info_codes")
    features = discriminator.layers[-1].input
    if len(features.shape) > 2:
        features = layers.Flatten()(features)
    code_logits = layers.Dense(codes, name="code_logits")(features)
    return keras.Model(discriminator.inputs, [discriminator.outputs[0], code_logits],
                       name=f"{discriminator.name}_with_code_head")


# --- self-conditioning on k-means clusters (Liu et al. 2020; the clusters: gan_lab.clusters) ------------------

@keras.saving.register_keras_serializable(package="gan_lab")
class ClusterFromNoise(layers.Layer):
    """Picks a cluster for each noise vector with the clusters' frequencies: ``noise -> (N, 1)`` int32, or
    ``[noise, class] -> (N, 1)`` for clusters within classes.

    ``frequencies``: a list of k shares (clusters of the whole data), or one list of m shares per class
    (clusters within each class; cluster j of class c is label ``c·m + j``). The first noise value z₀,
    uniform on [-1, 1], read as u = (z₀ + 1) / 2, selects cluster j by the inverse CDF of its row (j = how many
    cumulative shares, last excluded, are <= u), so P(j) = the row's share j: the generator is still a function
    of its noise (and class) alone and draws each cluster as often as the data holds it.
    :func:`cluster_of_noise` gives the same labels."""

    def __init__(self, frequencies, **kwargs):
        super().__init__(**kwargs)
        self.frequencies = np.asarray(frequencies, dtype=np.float64).tolist()

    def call(self, inputs):
        noise, classes = inputs if isinstance(inputs, (list, tuple)) else (inputs, None)
        return cluster_of_noise(noise, self.frequencies, classes)

    def get_config(self):
        return {**super().get_config(), "frequencies": self.frequencies}


def cluster_of_noise(noise, frequencies, classes=None):
    """The label (N, 1) int32 that :class:`ClusterFromNoise` reads from ``noise`` (and ``classes`` (N, 1) int,
    when ``frequencies`` has one row per class; see there)."""
    table = np.asarray(frequencies, dtype=np.float64)
    u = (keras.ops.cast(noise[:, :1], "float32") + 1.0) * 0.5
    if table.ndim == 1:
        bounds = np.cumsum(table)[:-1].astype(np.float32)
        return keras.ops.sum(keras.ops.cast(u >= bounds, "int32"), axis=-1, keepdims=True)
    bounds = np.cumsum(table, axis=1)[:, :-1].astype(np.float32)  # (classes, m - 1)
    classes = keras.ops.reshape(keras.ops.cast(classes, "int32"), (-1,))
    row = keras.ops.take(keras.ops.convert_to_tensor(bounds), classes, axis=0)
    within = keras.ops.sum(keras.ops.cast(u >= row, "int32"), axis=-1)
    return keras.ops.reshape(classes * table.shape[1] + within, (-1, 1))


def with_cluster_prior(generator: keras.Model, frequencies) -> keras.Model:
    """A generator of cluster labels (``[noise, label] -> image``) that picks its label from the noise: with a
    list of k ``frequencies`` it becomes ``noise -> image``; with one row per class it stays
    ``[noise, class] -> image`` and picks a cluster of that class (:class:`ClusterFromNoise`)."""
    z = keras.Input(generator.inputs[0].shape[1:], name="noise")
    pick = ClusterFromNoise(frequencies, name="cluster", dtype="float32")
    if np.ndim(frequencies) == 1:
        return keras.Model(z, generator([z, pick(z)]), name=generator.name)
    y = keras.Input((1,), dtype="int32", name="label")
    return keras.Model([z, y], generator([z, pick([z, y])]), name=generator.name)


# --- DCGAN at any image shape (Radford et al. 2016; the PyTorch DCGAN tutorial's layer list) ----------------

def dcgan_layout(image_size: int) -> tuple[int, int]:
    """``(start, doublings)``: the DCGAN generator starts at ``start``×``start`` and doubles ``doublings``
    times to reach ``image_size`` (the discriminator halves as many times): 64 → (4, 4), 32 → (4, 3),
    28 → (7, 2), 48 → (6, 3). Sizes are halved while they stay even and the half is at least 4."""
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) or image_size < 8 \
            or image_size % 2:
        raise ValueError(f"image_size = {image_size!r} is invalid for a DCGAN: expected an even number of "
                         "pixels >= 8 (32, 64, 128, 48, ...)")
    start, doublings = int(image_size), 0
    while start % 2 == 0 and start // 2 >= 4:
        start, doublings = start // 2, doublings + 1
    return start, doublings


def _dcgan_init():
    """DCGAN's initialization: every weight from N(0, 0.02) (Radford et al. 2016, section 4)."""
    return keras.initializers.RandomNormal(0.0, 0.02)


def _square_shape(image_shape, who: str) -> tuple[int, int, int]:
    h, w, c = (int(v) for v in image_shape)
    if h != w or c < 1:
        raise ValueError(f"{who}: image_shape = {tuple(image_shape)} is invalid: expected square images (S, S, C) "
                         "with C >= 1 channels, e.g. (64, 64, 3)")
    return h, w, c


def _dcgan_generator_body(x, image_shape, width: int, output: str, skip: bool = False, sle: bool = False):
    """The DCGAN generator's layers after its input ``x`` (see :func:`dcgan_generator`)."""
    size, _, channels = image_shape
    start, doublings = dcgan_layout(size)
    init = _dcgan_init()
    gamma = keras.initializers.RandomNormal(1.0, 0.02)
    top = width * 2 ** (doublings - 1)
    x = layers.Dense(start * start * top, use_bias=False, kernel_initializer=init)(x)
    x = layers.Reshape((start, start, top))(x)
    x = layers.ReLU()(layers.BatchNormalization(gamma_initializer=gamma)(x))
    rgb = None  # with skip: the picture so far, summed from every resolution's RGB output
    maps = {start: x}  # with sle: the feature maps by size
    for i in range(doublings - 1):
        x = layers.Conv2DTranspose(top // 2 ** (i + 1), 4, strides=2, padding="same", use_bias=False,
                                   kernel_initializer=init)(x)
        x = layers.ReLU()(layers.BatchNormalization(gamma_initializer=gamma)(x))
        if sle and x.shape[1] // 4 in maps:
            x = _excite(maps[x.shape[1] // 4], x)
        maps[x.shape[1]] = x
        if skip and x.shape[1] >= 8:
            here = layers.Conv2D(channels, 1, kernel_initializer=init, name=f"rgb_{x.shape[1]}")(x)
            rgb = here if rgb is None else layers.Add()([_upsample_rgb(rgb), here])
    if not skip:
        img = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", kernel_initializer=init)(x)
    else:
        img = layers.Conv2D(channels, 3, padding="same", kernel_initializer=init,
                            name=f"rgb_{2 * x.shape[1]}")(layers.UpSampling2D(2)(x))
        if rgb is not None:
            img = layers.Add()([_upsample_rgb(rgb), img])
    return layers.Activation(output, name="image", dtype="float32")(img)


def _excite(small, big):
    """FastGAN's skip-layer excitation (Liu et al. 2021, §3.1): ``big`` times a per-channel gate in (0, 1) read
    from the smaller map ``small``: average-pooled to 4×4 → conv 4×4 "valid" (no bias) → swish → conv 1×1 (no
    bias) → sigmoid (the convolutions named ``sle_<size of big>_squeeze`` and ``_excite``, the product
    ``sle_<size of big>``)."""
    size, channels = big.shape[1], big.shape[-1]
    if small.shape[1] > 4:
        small = layers.AveragePooling2D(small.shape[1] // 4)(small)
    gate = layers.Conv2D(channels, 4, use_bias=False, kernel_initializer=_dcgan_init(),
                         name=f"sle_{size}_squeeze")(small)
    gate = layers.Conv2D(channels, 1, use_bias=False, kernel_initializer=_dcgan_init(),
                         name=f"sle_{size}_excite")(layers.Activation("swish")(gate))
    return layers.Multiply(name=f"sle_{size}")([big, layers.Activation("sigmoid")(gate)])


def _upsample_rgb(rgb):
    return layers.UpSampling2D(2, interpolation="bilinear")(rgb)


def dcgan_generator(noise_dim: int = 100, image_shape=(64, 64, 3), width: int = 64, output: str = "tanh",
                    skip: bool = False, sle: bool = False, name: str = "dcgan_generator") -> keras.Model:
    """The DCGAN generator (Radford et al. 2016) for square images of any size and channel count.

    noise → Dense start·start·(w·2^(d−1)) (no bias; a 4×4 "valid" transposed convolution of a 1×1 input in the
    paper) → BN → ReLU → [ConvT 4×4 stride 2 (no bias) → BN → ReLU] with w·2^(d−2), ..., w channels → ConvT C
    4×4 stride 2 → tanh (``output="sigmoid"`` for [0, 1] data), with ``(start, d) = dcgan_layout(S)``. At
    64×64×3 and ``width`` 64 this is the PyTorch DCGAN tutorial's generator (ngf = 64: 512, 256, 128, 64
    channels). Weights from N(0, 0.02), BatchNorm scales from N(1, 0.02).

    ``skip``: the skip generator of StyleGAN2 (Karras et al. 2020, Fig. 7b; MSG-GAN, Karnewar & Wang 2020, is
    its multi-scale cousin) on these layers: every resolution from 8×8 up draws its own RGB picture (a 1×1
    conv ``rgb_<size>``), and the picture so far is upsampled (bilinear) and added to the next one's, so
    the coarse layers shape the picture directly and get short gradient paths; the last layer is nearest
    upsampling then a 3×3 conv (``rgb_<S>``) instead of the transposed conv, which draws no checkerboard
    (Odena et al. 2016). The same layer widths and almost the same weights: at 64×64, width 32, the RGB layers
    hold 9 parameters more than the transposed conv they replace.

    ``sle``: FastGAN's skip-layer excitation (Liu et al. 2021, §3.1; :func:`_excite`): every feature map from
    16×16 up is multiplied channel by channel by a gate read from the map a quarter its size (at 64×64: the
    16×16 map by the 4×4 one, the 32×32 map by the 8×8 one), a short path from the coarse layers that costs
    almost nothing (0.7 MFLOP per picture at 64×64, width 32, against 59 for the rest of G)."""
    shape = _square_shape(image_shape, "dcgan_generator")
    z = keras.Input((noise_dim,), name="noise")
    return keras.Model(z, _dcgan_generator_body(z, shape, width, output, skip, sle), name=name)


def dcgan_conditional_generator(noise_dim: int = 100, image_shape=(64, 64, 3), width: int = 64,
                                output: str = "tanh", num_classes: int = NUM_CLASSES,
                                name: str = "dcgan_conditional_generator") -> keras.Model:
    """Inputs ``[noise (N, noise_dim), label (N, 1) int]``: the label's learned 32-d embedding is concatenated
    to the noise (Mirza & Osindero 2014), then the :func:`dcgan_generator` layers."""
    shape = _square_shape(image_shape, "dcgan_conditional_generator")
    z = keras.Input((noise_dim,), name="noise")
    y = keras.Input((1,), dtype="int32", name="label")
    e = layers.Flatten()(layers.Embedding(num_classes, 32)(y))
    return keras.Model([z, y], _dcgan_generator_body(layers.Concatenate()([z, e]), shape, width, output), name=name)


@keras.saving.register_keras_serializable(package="gan_lab")
class MinibatchStd(layers.Layer):
    """The minibatch standard deviation feature (Karras et al. 2018, "Progressive Growing of GANs", §3): the
    standard deviation of every feature over the batch, averaged into one number s, appended to every position
    as one more channel. A batch of near-identical fakes has a small s where real batches have a large one, so
    the discriminator can see a lack of variety that no single picture shows. (The paper takes s over groups
    of 4 pictures; here over the whole batch the layer is called on.) Computed in float32."""

    def call(self, x):
        xf = keras.ops.cast(x, "float32")
        s = keras.ops.mean(keras.ops.sqrt(keras.ops.var(xf, axis=0) + 1e-8))
        return keras.ops.concatenate([x, keras.ops.cast(keras.ops.ones_like(xf[..., :1]) * s, x.dtype)], axis=-1)


def _dcgan_discriminator_features(x, doublings: int, width: int, minibatch_std: bool = False, prefix: str = ""):
    """[Conv 4×4 stride 2 → (BN, but not on the first layer) → LeakyReLU 0.2] × ``doublings`` → (the
    :class:`MinibatchStd` channel when ``minibatch_std``, named ``prefix + "minibatch_std"``) → Flatten. The
    LeakyReLU giving the S×S features is named ``prefix + "features_S"`` (the decoders of
    :func:`with_recon_decoders` read them)."""
    init = _dcgan_init()
    gamma = keras.initializers.RandomNormal(1.0, 0.02)
    for i in range(doublings):
        x = layers.Conv2D(width * 2 ** i, 4, strides=2, padding="same", use_bias=i == 0, kernel_initializer=init)(x)
        if i:
            x = layers.BatchNormalization(gamma_initializer=gamma)(x)
        x = layers.LeakyReLU(negative_slope=0.2, name=f"{prefix}features_{x.shape[1]}")(x)
    if minibatch_std:
        x = MinibatchStd(name=prefix + "minibatch_std")(x)
    return layers.Flatten()(x)


@keras.saving.register_keras_serializable(package="gan_lab")
class Quadrant(layers.Layer):
    """``[x, which] -> quadrant(x, which)``: one quarter of each feature map (:func:`gan_lab.ops.quadrant`)."""

    def call(self, inputs):
        x, which = inputs
        return quadrant(x, which)


def _recon_decoder(x, channels: int, prefix: str):
    """A slim version of FastGAN's simple decoder (Liu et al. 2021) from 8×8 features to a 32×32 picture:
    [upsample ×2 → conv 3×3 → LeakyReLU 0.2] with c and c/2 channels (c an eighth of the features' channels, at
    least 8), then conv 3×3 to the picture's channels and tanh. (FastGAN's blocks also have BatchNorm and GLU, and
    more channels: slim, because on a CPU the decoders' time is paid at every discriminator step.)"""
    init = _dcgan_init()
    width = max(x.shape[-1] // 8, 8)
    for i, filters in enumerate((width, width // 2)):
        x = layers.UpSampling2D(2, name=f"{prefix}_up{i}")(x)
        x = layers.Conv2D(filters, 3, padding="same", kernel_initializer=init, name=f"{prefix}_conv{i}")(x)
        x = _lrelu(0.2)(x)
    return layers.Conv2D(channels, 3, padding="same", activation="tanh", kernel_initializer=init, dtype="float32",
                         name=f"{prefix}_picture")(x)


def recon_size(image_size: int) -> bool:
    """True when a ``dcgan_any`` discriminator of ``image_size`` pictures has the 8×8 and 16×16 features that
    :func:`with_recon_decoders` reads: sizes 4·2^k of at least 32 (32, 64, 128, ...)."""
    return image_size >= 32 and dcgan_layout(image_size)[0] == 4


def with_recon_decoders(discriminator: keras.Model) -> keras.Model:
    """FastGAN's self-supervised discriminator (Liu et al. 2021, §3.2): a model ``[image, quarter] -> [logits,
    whole, part]`` that shares every layer of a ``dcgan_any`` discriminator (any options) and adds two small
    decoders (:func:`_recon_decoder`): ``whole`` redraws the picture at 32×32 from D's 8×8 features, ``part``
    redraws quarter ``quarter`` ((N, 1) integers 0–3, :func:`gan_lab.ops.quadrant`) of the picture from the same
    quarter of D's 16×16 features. :func:`gan_lab.losses.reconstruction_loss` compares them with the real
    images; only real images go through the decoders."""
    try:
        coarse, fine = (discriminator.get_layer(f"features_{size}").output for size in (8, 16))
    except ValueError:
        raise ValueError(f"with_recon_decoders: discriminator {discriminator.name!r} has no layers named "
                         "features_8 and features_16 (a dcgan_any discriminator of pictures of 32, 64, 128, ... "
                         "pixels has them)") from None
    image = discriminator.inputs[0]
    quarter = keras.Input((1,), dtype="int32", name="quarter")
    channels = image.shape[-1]
    whole = _recon_decoder(coarse, channels, "whole")
    part = _recon_decoder(Quadrant(name="part_features")([fine, quarter]), channels, "part")
    return keras.Model([image, quarter], [discriminator.outputs[0], whole, part],
                       name=f"{discriminator.name}_with_decoders")


def dcgan_discriminator(image_shape=(64, 64, 3), width: int = 64, minibatch_std: bool = False,
                        multiscale: bool = False, name: str = "dcgan_discriminator") -> keras.Model:
    """The DCGAN discriminator (Radford et al. 2016) for square images of any size and channel count.

    [Conv 4×4 stride 2 → (BN, but not on the first layer) → LeakyReLU 0.2] with w, 2w, ..., w·2^(d−1)
    channels, then one logit from the start×start map (the paper's last 4×4 "valid" convolution, written as
    Flatten → Dense 1). At 64×64×3 and ``width`` 64 it is the PyTorch DCGAN tutorial's discriminator
    (ndf = 64), without its sigmoid: the losses take logits. ``minibatch_std`` adds the
    :class:`MinibatchStd` channel to the start×start map before the logit (ProGAN's place for it).

    ``multiscale``: a second discriminator of the same recipe with one doubling fewer judges the picture
    average-pooled to half size, and the model returns both logits, (N, 2): the multi-scale discriminator of
    Wang et al. 2018 (pix2pixHD, §3.2) with two scales. The losses average over the logits, so each scale gets
    half the weight; the half-size one sees the overall shape and colours without the full-size detail. Costs
    about a fifth more discriminator FLOPs (``fast64``: 63 M against 53 M per image, 12 % more per trained image)."""
    size, _, channels = _square_shape(image_shape, "dcgan_discriminator")
    doublings = dcgan_layout(size)[1]
    if multiscale and doublings < 2:
        raise ValueError(f"dcgan_discriminator: multiscale needs a size that halves twice, a multiple of 4 of at "
                         f"least 16 (16, 20, 32, 48, 64, ...), not {size}×{size}")
    x_in = keras.Input((size, size, channels), name="image")
    h = _dcgan_discriminator_features(x_in, doublings, width, minibatch_std)
    logit = layers.Dense(1, kernel_initializer=_dcgan_init(), name="logit")(h)
    if multiscale:
        half = layers.AveragePooling2D(2, name="half_size")(x_in)
        h_half = _dcgan_discriminator_features(half, doublings - 1, width, minibatch_std, prefix="half_")
        logit = layers.Concatenate(name="logits")(
            [logit, layers.Dense(1, kernel_initializer=_dcgan_init(), name="half_logit")(h_half)])
    return keras.Model(x_in, logit, name=name)


def dcgan_conditional_discriminator(image_shape=(64, 64, 3), width: int = 64, num_classes: int = NUM_CLASSES,
                                    minibatch_std: bool = False,
                                    name: str = "dcgan_conditional_discriminator") -> keras.Model:
    """Inputs ``[image (N, S, S, C), label (N, 1) int]`` → one logit: the :func:`dcgan_discriminator` features h
    with a projection head, logit = ψ(h) + ⟨embed(y), h⟩ (Miyato & Koyama 2018). The projection costs one dot
    product per image, where a label channel would widen the first 64×64 convolution. ``minibatch_std``: as in
    :func:`dcgan_discriminator`."""
    size, _, channels = _square_shape(image_shape, "dcgan_conditional_discriminator")
    x_in = keras.Input((size, size, channels), name="image")
    y = keras.Input((1,), dtype="int32", name="label")
    h = _dcgan_discriminator_features(x_in, dcgan_layout(size)[1], width, minibatch_std)
    e = layers.Flatten()(layers.Embedding(num_classes, h.shape[-1])(y))
    logit = layers.Dense(1, kernel_initializer=_dcgan_init(), name="logit")(h)
    return keras.Model([x_in, y], layers.Add()([logit, layers.Dot(axes=1)([e, h])]), name=name)


# --- keras.io "DCGAN to generate face images" (CelebA 64×64) ---------------------------------------------------

def keras_faces_generator(noise_dim: int = 128, image_shape=(64, 64, 3),
                          name: str = "keras_faces_generator") -> keras.Model:
    """keras.io's face generator: noise 128 → Dense (S/8)²·128 → Reshape → [ConvT 4×4 stride 2 → LeakyReLU 0.2]
    with 128, 256, 512 channels → Conv C 5×5 → sigmoid: images in [0, 1] (S divisible by 8)."""
    size, _, channels = _square_shape(image_shape, "keras_faces_generator")
    if size % 8:
        raise ValueError(f"keras_faces_generator: image size {size} is invalid: expected a multiple of 8 (64)")
    z = keras.Input((noise_dim,), name="noise")
    x = layers.Reshape((size // 8, size // 8, 128))(layers.Dense(size // 8 * size // 8 * 128)(z))
    for filters in (128, 256, 512):
        x = _lrelu(0.2)(layers.Conv2DTranspose(filters, 4, strides=2, padding="same")(x))
    img = layers.Conv2D(channels, 5, padding="same", activation="sigmoid", name="image", dtype="float32")(x)
    return keras.Model(z, img, name=name)


def keras_faces_discriminator(image_shape=(64, 64, 3), name: str = "keras_faces_discriminator") -> keras.Model:
    """keras.io's face discriminator: [Conv 4×4 stride 2 → LeakyReLU 0.2] with 64, 128, 128 channels →
    Flatten → Dropout 0.2 → Dense 1 (a logit here; keras.io applies the sigmoid in the model)."""
    size, _, channels = _square_shape(image_shape, "keras_faces_discriminator")
    x_in = keras.Input((size, size, channels), name="image")
    x = x_in
    for filters in (64, 128, 128):
        x = _lrelu(0.2)(layers.Conv2D(filters, 4, strides=2, padding="same")(x))
    x = layers.Dropout(0.2)(layers.Flatten()(x))
    logit = layers.Dense(1, name="logit")(x)
    return keras.Model(x_in, logit, name=name)


def with_spectral_norm(model: keras.Model, power_iterations: int = 1) -> keras.Model:
    """A copy of ``model`` whose Dense and Conv2D layers are wrapped in ``keras.layers.SpectralNormalization``
    (Miyato et al. 2018): each weight matrix is divided by its largest singular value, estimated by power
    iteration, which bounds the layer's Lipschitz constant by 1. Works on any functional discriminator."""
    def clone(layer):
        fresh = layer.__class__.from_config(layer.get_config())
        if isinstance(layer, (layers.Dense, layers.Conv2D)):
            return layers.SpectralNormalization(fresh, power_iterations=power_iterations,
                                                name=layer.name + "_sn")
        return fresh
    return keras.models.clone_model(model, clone_function=clone)


# --- registry -------------------------------------------------------------------------------------------

ARCHITECTURES = {
    "dense": (dense_generator, dense_discriminator),
    "dcgan": (dc_generator, dc_discriminator),
    "tf_tutorial": (tf_tutorial_generator, tf_tutorial_discriminator),
    "fashion_mlp": (fashion_mlp_generator, fashion_mlp_discriminator),
    "fashion_dcgan": (fashion_dcgan_generator, fashion_dcgan_discriminator),
    "small": (small_generator, small_discriminator),
    "small_conditional": (small_conditional_generator, small_conditional_discriminator),
    "small_projection": (small_conditional_generator, small_projection_discriminator),
    "dcgan_any": (dcgan_generator, dcgan_discriminator),
    "dcgan_conditional": (dcgan_conditional_generator, dcgan_conditional_discriminator),
    "keras_faces": (keras_faces_generator, keras_faces_discriminator),
}
CONDITIONAL = {"small_conditional", "small_projection", "dcgan_conditional"}


def register_architecture(name: str, generator_fn, discriminator_fn, conditional: bool = False) -> None:
    """Add a (generator builder, discriminator builder) pair usable as ``Preset(architecture=name)``."""
    ARCHITECTURES[name] = (generator_fn, discriminator_fn)
    if conditional:
        CONDITIONAL.add(name)


def takes_image_shape(architecture: str) -> bool:
    """True when both builders of ``architecture`` take an ``image_shape`` (the others draw 28×28×1)."""
    g_fn, d_fn = ARCHITECTURES[architecture]
    return all("image_shape" in inspect.signature(fn).parameters for fn in (g_fn, d_fn))


class Option(NamedTuple):
    """An option of the generator's or the discriminator's builder."""
    model: int  # 0: the generator's, 1: the discriminator's
    what: str  # what it is called in errors
    field: str  # the preset field that sets it


#: the builders' options (keyword arguments of :func:`build_pair`)
OPTIONS = {"minibatch_std": Option(1, "minibatch standard deviation feature", "minibatch_std"),
           "multiscale": Option(1, "multi-scale version", "multiscale_d"),
           "skip": Option(0, "skip version (RGB from every resolution)", "skip_g"),
           "sle": Option(0, "skip-layer excitation", "sle_g")}


def takes_option(architecture: str, option: str) -> bool:
    """True when the builder of ``architecture`` that :data:`OPTIONS` names for ``option`` takes it."""
    return option in inspect.signature(ARCHITECTURES[architecture][OPTIONS[option].model]).parameters


def architectures_with(option: str) -> str:
    """The architectures whose builder takes ``option``, comma-separated (for error messages)."""
    return ", ".join(a for a in ARCHITECTURES if takes_option(a, option))


def option_error(architecture: str, option: str) -> str:
    """Why ``architecture`` cannot have ``option``, and the architectures that can."""
    which, what, _ = OPTIONS[option]
    return (f"architecture {architecture!r}: its {('generator', 'discriminator')[which]} has no {what} "
            f"({option}): use one that has it ({architectures_with(option)})")


def build_pair(architecture: str, noise_dim: int, spectral_norm: bool = False, width: int | None = None,
               image_shape=None, output: str | None = None, num_classes: int | None = None, **options: bool):
    """Build ``(generator, discriminator)`` for a registered architecture name.

    ``width``, ``image_shape`` (H, W, C), ``output`` (the generator's last activation), ``num_classes`` (of a
    conditional architecture) and the ``options`` (keywords of :data:`OPTIONS`: ``minibatch_std=True``, ...) are
    passed to the builders that take them; an architecture that only draws 28×28×1 refuses another
    ``image_shape``, one without an option refuses it."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise TypeError(f"build_pair got unknown option(s) {', '.join(unknown)}: expected keywords of "
                        f"models.OPTIONS ({', '.join(OPTIONS)})")
    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r}: expected one of {', '.join(ARCHITECTURES)}")
    g_fn, d_fn = ARCHITECTURES[architecture]
    if image_shape is not None and tuple(image_shape) != IMAGE_SHAPE and not takes_image_shape(architecture):
        raise ValueError(f"architecture {architecture!r} draws 28×28 grayscale images, not "
                         f"{'×'.join(map(str, image_shape))}: use one that takes the image shape "
                         f"({', '.join(a for a in ARCHITECTURES if takes_image_shape(a))}), e.g. --preset dcgan64")
    for option, wanted in options.items():
        if wanted and not takes_option(architecture, option):
            raise ValueError(option_error(architecture, option))

    def kw(fn):
        params = inspect.signature(fn).parameters
        given = {"width": width, "image_shape": None if image_shape is None else tuple(image_shape),
                 "output": output, "num_classes": num_classes, **{k: v or None for k, v in options.items()}}
        return {k: v for k, v in given.items() if v is not None and k in params}

    discriminator = d_fn(**kw(d_fn))
    if spectral_norm:
        discriminator = with_spectral_norm(discriminator)
    return g_fn(noise_dim=noise_dim, **kw(g_fn)), discriminator


def preset_pair(preset, cluster_frequencies=None):
    """A preset's ``(generator, discriminator)`` as :class:`gan_lab.gan.GAN` trains them: its architecture at its
    width and image shape (spectral norm if set); with ``info_codes`` the generator reads its InfoGAN code from
    the noise (:func:`with_info_code`); with ``clusters`` the conditional generator picks its cluster from the
    noise with ``cluster_frequencies`` (:func:`with_cluster_prior`; default: all clusters equally often); with
    ``class_clusters`` = m the models' labels are the m clusters of each class and the generator, asked for a
    class, picks one of that class's clusters (``cluster_frequencies``: one row of m shares per class). A
    conditional preset has ``preset.num_classes`` classes (10 while it is 0: not yet counted from the data)."""
    classes = preset.num_classes or NUM_CLASSES
    clusters = preset.clusters or classes * preset.class_clusters  # labels of the models when they are clusters
    generator, discriminator = build_pair(preset.architecture, preset.noise_dim, preset.spectral_norm, preset.width,
                                          preset.image_shape, preset.output,
                                          num_classes=(clusters or classes) if preset.label_architecture else None,
                                          **{o: getattr(preset, spec.field) for o, spec in OPTIONS.items()})
    if preset.info_codes:
        generator = with_info_code(generator, preset.info_codes)
    if clusters:
        if cluster_frequencies is None:  # equal shares (a list, or one row per class)
            shape = (preset.clusters,) if preset.clusters else (classes, preset.class_clusters)
            cluster_frequencies = np.full(shape, 1.0 / shape[-1])
        generator = with_cluster_prior(generator, cluster_frequencies)
    return generator, discriminator
