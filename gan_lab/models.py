"""Generator and discriminator builders.

Every builder returns a ``keras.Model`` with an ``Input`` layer. Conventions:

- generators take noise of shape ``(N, noise_dim)``; discriminators return one logit (or score) per image;
- the CS231n pair (:func:`dense_*`, :func:`dc_*`) works on flat images ``(N, 784)`` as CS231n's notebook does;
  the other recipes work on ``(N, 28, 28, 1)``. :class:`gan_lab.train.GAN` reshapes between the two, so any
  generator can be paired with any discriminator.

Parameter counts (``count_params()``, BatchNorm moving statistics included) are listed in the README and
checked by :mod:`gan_lab.checks`.
"""
from __future__ import annotations

import inspect

import keras
from keras import layers

from gan_lab.ops import leaky_relu, sample_noise  # noqa: F401  (re-exported for learners)

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


def small_projection_discriminator(width: int = 64, name: str = "small_projection_discriminator") -> keras.Model:
    """:func:`small_conditional_discriminator` with the projection head (Miyato & Koyama 2018)."""
    return small_conditional_discriminator(width=width, projection=True, name=name)


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
}
CONDITIONAL = {"small_conditional", "small_projection"}


def register_architecture(name: str, generator_fn, discriminator_fn, conditional: bool = False) -> None:
    """Add a (generator builder, discriminator builder) pair usable as ``Preset(architecture=name)``."""
    ARCHITECTURES[name] = (generator_fn, discriminator_fn)
    if conditional:
        CONDITIONAL.add(name)


def build_pair(architecture: str, noise_dim: int, spectral_norm: bool = False, width: int | None = None):
    """Build ``(generator, discriminator)`` for a registered architecture name.

    ``width`` is passed to builders that take one (``small``, ``small_conditional``) and ignored by the others."""
    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r}: expected one of {', '.join(ARCHITECTURES)}")
    g_fn, d_fn = ARCHITECTURES[architecture]

    def kw(fn):
        return {"width": width} if width is not None and "width" in inspect.signature(fn).parameters else {}

    discriminator = d_fn(**kw(d_fn))
    if spectral_norm:
        discriminator = with_spectral_norm(discriminator)
    return g_fn(noise_dim=noise_dim, **kw(g_fn)), discriminator
