"""Scoring generators: images, generators, run folders and files, the CLI and training — on any data.

Two families of metrics, picked from the data (:func:`metric_family`):

- **classifier metrics** for 28×28 MNIST and Fashion-MNIST (below);
- **random-feature metrics** for everything else (colour, CIFAR-10, CelebA, any folder, other sizes): the
  KID form (``kid_random``), the Fréchet distance (``fd_random``) and precision / recall / density / coverage
  on the features of a fixed, seeded, randomly initialised convolutional network
  (:func:`gan_lab.embeddings.random_features`: offline, no download). The real side is CIFAR-10's test split,
  or for folders and CelebA a seeded half of the pictures (the other half gives the real-data floor). With the
  ImageNet weights of InceptionV3 on disk (``inception="auto"``) the standard ``fid`` and ``kid`` are added;
  without them one line says so (:func:`gan_lab.embeddings.inception_status`) and nothing replaces them.

Inception-based FID needs weights from the internet and was made for photographs. gan_lab measures in the
same standard forms (:mod:`gan_lab.metrics`, pure functions), but on the features of a small domain
classifier per dataset (:mod:`gan_lab.classifier`; weights ship inside the package):

=============  ==========  ==============================================================================
key            better      meaning
=============  ==========  ==============================================================================
``fcd``        lower       Fréchet classifier distance on 128-d penultimate features:
                           ‖μr−μg‖² + Tr(Σr + Σg − 2(ΣrΣg)^½)
``score``      higher      classifier score exp(E_x KL(p(y|x) ‖ p(y))), mean over 10 splits (max 10)
``modes``      higher      classes that receive at least 2% of the samples (argmax of p(y|x)), of 10
``class_kl``   lower       KL(predicted class histogram ‖ uniform), in nats (0 = perfectly balanced)
``precision``  higher      improved precision (Kynkäänniemi et al. 2019, k=3): share of samples that
                           fall inside the real data's k-NN balls
``recall``     higher      improved recall (k=3): share of real images inside the samples' k-NN balls
``density``    higher      density (Naeem et al. 2020, k=5): ~1 for samples distributed like real data
``coverage``   higher      coverage (k=5): share of real images whose k-NN ball holds a sample
=============  ==========  ==============================================================================

The real side is always the full test split (10,000 images); its features and statistics are cached per
process. :func:`real_floor` gives the values a *real* training subset of the same size reaches against the
test set — the best a generator can reasonably hope for at that ``n`` — and is reported beside every
result (FCD in particular is biased upward for small ``n``, so compare results only at equal ``n``).

Entry points: :func:`evaluate`, :func:`real_floor`, :func:`format_table`, :func:`evaluate_run`,
:func:`evaluate_file`, :func:`conditional_accuracy`, :class:`QualityCallback`, and for the CLI
(``gan-lab evaluate``, whose arguments :mod:`gan_lab.cli` defines) :func:`run_evaluate_command`. Images are drawn from generators through
:mod:`gan_lab.sampling`.

Accepted images: uint8 in [0, 255]; float in [0, 1] or [-1, 1]; shapes (N, 28, 28), (N, 28, 28, 1) or
(N, 784). For floats the range is inferred (any value < 0 means [-1, 1]) unless ``value_range`` says
``"uint8"``, ``"unit"`` ([0, 1]) or ``"tanh"`` ([-1, 1]).
"""
from __future__ import annotations

import csv
import functools
import time
import warnings
from pathlib import Path

import keras
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gan_lab import sampling
from gan_lab.classifier import NUM_CLASSES, classify, weights_info
from gan_lab.data import dataset_label, has_classifier, load_dataset, normalize_name
from gan_lab.embeddings import inception_features, inception_model, inception_status, random_features
from gan_lab.files import atomic_write_json
from gan_lab.metrics import (DC_K, PR_K, classifier_score, feature_stats, frechet_distance, kernel_distance,
                             knn_radii, manifold_metrics, mode_stats)
from gan_lab.runs import load_generator
from gan_lab.two_sample import two_sample_accuracy

METRIC_KEYS = ("fcd", "score", "modes", "class_kl", "precision", "recall", "density", "coverage")
RANDOM_KEYS = ("kid_random", "fd_random", "precision", "recall", "density", "coverage")
INCEPTION_KEYS = ("fid", "kid")
TWO_SAMPLE_KEY = "c2st"
TWO_SAMPLE_MAX = 1000  # pictures of each side the two-sample classifier uses at most (its training time)
CLASSIFIER_FAMILY = "classifier"
RANDOM_FAMILY = "random-conv"
FAMILY_NAMES = {CLASSIFIER_FAMILY: "gan_lab's classifier metrics (FCD, classifier score, modes, precision/recall, ...)",
                RANDOM_FAMILY: "offline random-feature metrics: KID and Frechet distance, precision/recall/density/"
                               "coverage on a fixed seeded random conv net (not Inception: not comparable with "
                               "published FID/KID)"}
HIGHER_IS_BETTER = {"fcd": False, "score": True, "modes": True, "class_kl": False,
                    "precision": True, "recall": True, "density": True, "coverage": True,
                    "kid_random": False, "fd_random": False, "fid": False, "kid": False, "c2st": False}
DESCRIPTIONS = {
    "fcd": "Frechet classifier distance (128-d features)",
    "score": "classifier score exp(E KL(p(y|x)||p(y))), max 10",
    "modes": "classes with >= 2% of the samples, of 10",
    "class_kl": "KL(class histogram || uniform), nats",
    "precision": "samples on the real manifold (k=3)",
    "recall": "real images covered by the samples (k=3)",
    "density": "sample density near real images (k=5), ~1 real",
    "coverage": "real images with a sample nearby (k=5)",
    "kid_random": "KID form on random conv features (unbiased MMD^2)",
    "fd_random": "Frechet distance on random conv features (960-d)",
    "fid": "FID, InceptionV3 pool features at 299x299",
    "kid": "KID, InceptionV3 pool features at 299x299",
    "c2st": "held-out accuracy of a CNN telling samples from real, 0.5 = cannot",
}
DEFAULT_N = 10000
MIN_SAMPLES = 10
VALUE_RANGES = ("uint8", "unit", "tanh")
_RANGE_ALIASES = {"uint8": "uint8", "unit": "unit", "sigmoid": "unit", "tanh": "tanh"}
_RANGE_TOL = 1e-3


class MetricInputError(ValueError):
    """Images (or a generator) that the metrics cannot use; the message says what was expected."""


# --------------------------------------------------------------------------------------------------
# input validation
# --------------------------------------------------------------------------------------------------

_EXPECTED = ("expected uint8 values in [0, 255] or float values in [0, 1] or [-1, 1], "
             "with shape (N, 28, 28), (N, 28, 28, 1) or (N, 784)")


def _normalize_range(value_range):
    if value_range is None:
        return None
    key = str(value_range).strip().lower()
    if key not in _RANGE_ALIASES:
        raise MetricInputError(f"unknown value_range {value_range!r}: expected one of 'uint8' ([0, 255]), "
                               "'unit' ([0, 1]) or 'tanh' ([-1, 1]), or None to infer it")
    return _RANGE_ALIASES[key]


def _check_n(n):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < MIN_SAMPLES:
        raise MetricInputError(f"n must be an integer >= {MIN_SAMPLES} (default {DEFAULT_N}), got {n!r}")
    return int(n)


def to_unit_images(images, value_range=None) -> np.ndarray:
    """Validate ``images`` and return float32 (N, 28, 28) in [0, 1] for the classifier.

    Args:
        images: array-like, uint8 [0, 255] or float [0, 1] / [-1, 1], shape (N, 28, 28), (N, 28, 28, 1)
            or (N, 784).
        value_range: ``None`` (infer: uint8 -> [0, 255]; float with any value < 0 -> [-1, 1], else
            [0, 1]), or ``"uint8"``, ``"unit"`` / ``"sigmoid"``, ``"tanh"`` to say it explicitly.

    Raises:
        MetricInputError (a ValueError): wrong type, dtype, shape, non-finite values or out-of-range
            values; the message says what was found, what was expected and how to fix it.
    """
    value_range = _normalize_range(value_range)
    if isinstance(images, (str, bytes, dict)) or images is None:
        raise MetricInputError(f"images must be an array, got {type(images).__name__}; {_EXPECTED}")
    try:
        x = np.asarray(images)
    except Exception as exc:
        raise MetricInputError(f"cannot turn {type(images).__name__} into an array ({exc}); {_EXPECTED}") from None
    if x.dtype == object:
        raise MetricInputError(f"images form an object array (ragged or mixed types); {_EXPECTED}")
    shape = x.shape
    if x.ndim == 2 and shape == (28, 28):
        raise MetricInputError(f"got a single image of shape {shape}; {_EXPECTED}. "
                               "Fix: add a batch axis, images[None], and pass many images (thousands)")
    if x.ndim == 4 and shape[1:] == (1, 28, 28):
        raise MetricInputError(f"got channels-first shape {shape}; {_EXPECTED}. "
                               "Fix: images.transpose(0, 2, 3, 1) or images[:, 0]")
    if x.ndim == 4 and shape[1:3] == (28, 28) and shape[3] != 1:
        raise MetricInputError(f"got {shape[3]} channels in shape {shape}; the metrics take grayscale "
                               f"images, {_EXPECTED}. Fix: keep one channel, images[..., :1]")
    if not ((x.ndim == 3 and shape[1:] == (28, 28)) or (x.ndim == 4 and shape[1:] == (28, 28, 1))
            or (x.ndim == 2 and shape[1] == 784)):
        raise MetricInputError(f"images have shape {shape}; {_EXPECTED}. Fix: reshape to "
                               "(N, 28, 28), e.g. images.reshape(-1, 28, 28) if each image has 784 pixels")
    if shape[0] < MIN_SAMPLES:
        raise MetricInputError(f"got {shape[0]} images; expected at least {MIN_SAMPLES}, and the metrics "
                               "are only meaningful with thousands. Fix: pass more samples (default n=10000)")
    kind = x.dtype.kind
    if kind == "b" or kind == "c" or kind not in "uif":
        raise MetricInputError(f"images have dtype {x.dtype}; {_EXPECTED}. "
                               "Fix: convert, e.g. images.astype(np.float32)")
    if kind in "ui" and x.dtype != np.uint8:
        lo, hi = int(x.min()), int(x.max())
        raise MetricInputError(
            f"images have integer dtype {x.dtype} (values {lo}..{hi}); {_EXPECTED}. Fix: "
            + ("images.astype(np.uint8)" if 0 <= lo and hi <= 255 else
               "scale them to [0, 255] and cast with .astype(np.uint8)"))
    return _unit_values(x.reshape(-1, 28, 28), value_range)


_PICTURES = ("expected uint8 values in [0, 255] or float values in [0, 1] or [-1, 1], with shape (N, H, W), "
             "(N, H, W, 1) or (N, H, W, 3)")


def to_unit_pictures(images, value_range=None) -> np.ndarray:
    """Validate pictures of any size for the random-feature metrics: float32 (N, H, W, C) in [0, 1], C = 1 or 3.

    Accepts (N, H, W), (N, H, W, 1), (N, H, W, 3); values as :func:`to_unit_images` (uint8, or floats in
    [0, 1] / [-1, 1], inferred unless ``value_range`` says). Raises :class:`MetricInputError` otherwise."""
    value_range = _normalize_range(value_range)
    if isinstance(images, (str, bytes, dict)) or images is None:
        raise MetricInputError(f"images must be an array, got {type(images).__name__}; {_PICTURES}")
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim == 4 and x.shape[1] in (1, 3) and x.shape[3] not in (1, 3):
        raise MetricInputError(f"got channels-first shape {x.shape}; {_PICTURES}. Fix: images.transpose(0, 2, 3, 1)")
    if x.ndim != 4 or x.shape[3] not in (1, 3) or min(x.shape[1:3]) < 8:
        raise MetricInputError(f"images have shape {np.shape(images)}; {_PICTURES} (at least 8×8 pixels)")
    if x.shape[0] < MIN_SAMPLES:
        raise MetricInputError(f"got {x.shape[0]} images; expected at least {MIN_SAMPLES}, and the metrics are only "
                               "meaningful with hundreds or thousands. Fix: pass more samples")
    if x.dtype.kind not in "uif" or (x.dtype.kind in "ui" and x.dtype != np.uint8):
        raise MetricInputError(f"images have dtype {x.dtype}; {_PICTURES}. Fix: images.astype(np.float32) or "
                               "images.astype(np.uint8)")
    return _unit_values(x, value_range)


def _unit_values(x, value_range) -> np.ndarray:
    """uint8 or float pixels (checked: finite, in range) → float32 in [0, 1], same shape."""
    if x.dtype == np.uint8:
        if value_range not in (None, "uint8"):
            raise MetricInputError(f"images are uint8 but value_range={value_range!r} was given; uint8 "
                                   "images must be in [0, 255]. Fix: drop value_range, or pass floats")
        return x.astype(np.float32) / 255.0
    if value_range == "uint8":
        raise MetricInputError(f"value_range='uint8' needs a uint8 array, got dtype {x.dtype}. "
                               "Fix: images.astype(np.uint8), or value_range='unit'/'tanh' for floats")
    x = x.astype(np.float32)
    finite = np.isfinite(x)
    if not finite.all():
        bad = int((~finite).sum())
        raise MetricInputError(f"{bad} pixel values are NaN or infinite; expected finite values in [0, 1] or "
                               "[-1, 1]. The generator probably diverged: evaluate an earlier checkpoint")
    lo, hi = float(x.min()), float(x.max())
    if value_range is None:
        value_range = "tanh" if lo < 0 else "unit"
    want_lo = -1.0 if value_range == "tanh" else 0.0
    if lo < want_lo - _RANGE_TOL or hi > 1.0 + _RANGE_TOL:
        hint = ""
        if lo >= 0 and 1.5 < hi <= 255.0 + _RANGE_TOL:
            hint = " These look like 0-255 pixel values: pass images / 255.0 or images.astype(np.uint8)."
        elif value_range == "unit" and lo < 0:
            hint = " Negative values mean [-1, 1]: pass value_range='tanh' (or None to infer it)."
        raise MetricInputError(
            f"float images span [{lo:.4g}, {hi:.4g}], outside the {value_range!r} range "
            f"[{want_lo:g}, 1]; {_EXPECTED}.{hint or ' Fix: rescale to [0, 1] or [-1, 1].'}")
    if value_range == "tanh":
        x = (x + 1.0) * 0.5
    return np.clip(x, 0.0, 1.0)


def _generator_outputs(generator, n: int, noise_dim, seed) -> np.ndarray:
    """``n`` raw outputs of a Keras generator (uniform [-1, 1] noise from ``seed``; balanced labels if conditional)."""
    if noise_dim is None:
        noise_dim = sampling.noise_dim_of(generator)
    if not isinstance(noise_dim, (int, np.integer)) or isinstance(noise_dim, bool) or noise_dim <= 0:
        raise MetricInputError(f"noise_dim must be a positive integer, got {noise_dim!r}; expected the generator's "
                               "noise size. Fix: leave noise_dim=None to read it from the generator's first input")
    return sampling.generate(generator, sampling.uniform_noise(n, noise_dim, seed))


def _gather_images(images_or_generator, n, value_range, noise_dim, output, seed,
                   to_unit=to_unit_images) -> np.ndarray:
    """Resolve an array / Keras generator / callable into float32 images in [0, 1] (``to_unit`` validates:
    (N, 28, 28) for the classifier metrics, (N, H, W, C) for the random-feature ones)."""
    want = DEFAULT_N if n is None else _check_n(n)
    if isinstance(images_or_generator, keras.Model):
        if output is not None and value_range is not None:
            raise MetricInputError("pass either output= or value_range= for a generator, not both; "
                                   "expected output='tanh' or 'sigmoid' (the generator's last activation)")
        raw = _generator_outputs(images_or_generator, want, noise_dim, seed)
        return to_unit(raw, output if output is not None else value_range)
    if callable(images_or_generator) and not hasattr(images_or_generator, "__array__"):
        try:
            raw = images_or_generator(want)
        except MetricInputError:
            raise
        except TypeError as exc:
            raise MetricInputError(
                f"calling {getattr(images_or_generator, '__name__', 'the sampler')}({want}) failed ({exc}); "
                "a callable must take the number of images and return an array of them") from None
        x = to_unit(raw, value_range if output is None else output)
        if len(x) < want:
            warnings.warn(f"the sampler returned {len(x)} images for n={want}; evaluating {len(x)} "
                          f"(compare with real_floor(dataset, n={len(x)}))", stacklevel=3)
        return x[:want]
    x = to_unit(images_or_generator, value_range if output is None else output)
    if n is None or len(x) == n:
        return x
    if len(x) < n:
        warnings.warn(f"got {len(x)} images, fewer than n={n}; evaluating all {len(x)} "
                      f"(compare with real_floor(dataset, n={len(x)}))", stacklevel=3)
        return x
    # A seeded random subset, not the first n: saved samples are sometimes ordered by class.
    idx = np.sort(np.random.default_rng(seed).choice(len(x), size=int(n), replace=False))
    return x[idx]


# --------------------------------------------------------------------------------------------------
# the real reference (test split), scoring, and the floor (cached per process)
# --------------------------------------------------------------------------------------------------

def image_features(images, dataset: str = "mnist", value_range=None) -> tuple[np.ndarray, np.ndarray]:
    """Validated images -> (128-d classifier features, class probabilities)."""
    return classify(to_unit_images(images, value_range), normalize_name(dataset))


class _Reference:
    """Features, statistics and k-NN radii of a dataset's test split."""

    def __init__(self, dataset: str):
        images, self.labels = load_dataset(dataset, "test")
        self.features, self.probs = classify(images.astype(np.float32) / 255.0, dataset)
        self.mu, self.sigma = feature_stats(self.features)
        self.radii = knn_radii(self.features, (PR_K, DC_K))
        self.accuracy = float((self.probs.argmax(axis=1) == self.labels).mean())


@functools.lru_cache(maxsize=None)
def real_reference(dataset: str = "mnist") -> _Reference:
    """The test split's features / μ / Σ / k-NN radii for ``dataset`` (computed once per process)."""
    return _Reference(normalize_name(dataset))


def metrics_from_features(features, probs, dataset: str = "mnist") -> dict:
    """All eight metrics for precomputed classifier features and probabilities vs the test split."""
    ref = real_reference(normalize_name(dataset))
    mu, sigma = feature_stats(features)
    score, _ = classifier_score(probs)
    modes, class_kl, _ = mode_stats(probs)
    result = {"fcd": frechet_distance(ref.mu, ref.sigma, mu, sigma), "score": score,
              "modes": modes, "class_kl": class_kl}
    result.update(manifold_metrics(ref.features, features, ref.radii))
    return {k: (int(result[k]) if k == "modes" else float(result[k])) for k in METRIC_KEYS}


def metric_family(dataset: str, image_shape=None) -> str:
    """``"classifier"`` for 28×28 MNIST / Fashion-MNIST samples, else ``"random-conv"`` (any data, any size)."""
    shape = None if image_shape is None else tuple(image_shape)
    return CLASSIFIER_FAMILY if has_classifier(dataset) and (shape is None or shape[:2] == (28, 28)) else RANDOM_FAMILY


def metric_keys(dataset: str, image_shape=None, two_sample: bool = False) -> tuple:
    """The keys :func:`evaluate` returns for this data (without the InceptionV3 ones)."""
    if metric_family(dataset, image_shape) == CLASSIFIER_FAMILY:
        return METRIC_KEYS
    return RANDOM_KEYS + ((TWO_SAMPLE_KEY,) if two_sample else ())


def _image_shape_of(images_or_generator):
    """(H, W, C) of an array or a Keras generator's output, or None (a callable: known once called)."""
    if isinstance(images_or_generator, keras.Model):
        shape = tuple(images_or_generator.outputs[0].shape[1:])
        return (28, 28, 1) if shape == (784,) else shape + ((1,) if len(shape) == 2 else ())
    if hasattr(images_or_generator, "shape") or isinstance(images_or_generator, (list, tuple)):
        shape = np.shape(images_or_generator)[1:]
        return (28, 28, 1) if shape == (784,) else tuple(shape) + ((1,) if len(shape) == 2 else ())
    return None


class _PictureReference:
    """The real side of the random-feature metrics at one image shape: features and k-NN radii of the
    reference pictures, and the pool the real-data floor is drawn from. CIFAR-10: the test split, floor from
    the training split; folders and CelebA (one split): a seeded half each."""

    def __init__(self, dataset: str, image_shape: tuple):
        size, channels = int(image_shape[0]), int(image_shape[-1])
        if dataset == "cifar10":
            reference, _ = load_dataset(dataset, "test", image_size=size, channels=channels)
            self.pool, _ = load_dataset(dataset, "train", image_size=size, channels=channels)
        else:
            images, _ = load_dataset(dataset, image_size=size, channels=channels, verbose=False)
            order = np.random.default_rng(0).permutation(len(images))
            half = len(images) // 2
            reference, self.pool = images[np.sort(order[:half])], images[np.sort(order[half:])]
        self.features = random_features(reference.astype(np.float32) / 255.0)
        self.mu, self.sigma = feature_stats(self.features)
        self.radii = knn_radii(self.features, (PR_K, DC_K))
        self.images = reference


@functools.lru_cache(maxsize=None)
def picture_reference(dataset: str, image_shape: tuple) -> _PictureReference:
    """The cached :class:`_PictureReference` of ``dataset`` at ``image_shape`` (H, W, C)."""
    return _PictureReference(normalize_name(dataset), tuple(int(v) for v in image_shape))


def _picture_metrics(x, dataset: str, inception: str = "off", seed: int = 0, two_sample: bool = False) -> dict:
    ref = picture_reference(dataset, x.shape[1:])
    features = random_features(x)
    result = {"kid_random": kernel_distance(ref.features, features, seed=seed)[0],
              "fd_random": frechet_distance(ref.mu, ref.sigma, *feature_stats(features), method="eigh")}
    result.update(manifold_metrics(ref.features, features, ref.radii))
    if two_sample:
        result[TWO_SAMPLE_KEY] = two_sample_accuracy(ref.images[:TWO_SAMPLE_MAX].astype(np.float32) / 255.0,
                                                     x[:TWO_SAMPLE_MAX], seed=seed)
    if inception != "off" and inception_status(inception)[0]:
        model = inception_model(download=inception == "download")
        real = _inception_reference(dataset, x.shape[1:], inception == "download")
        fake = inception_features(x, model)
        result["fid"] = frechet_distance(*feature_stats(real), *feature_stats(fake), method="eigh")
        result["kid"] = kernel_distance(real, fake, seed=seed)[0]
    return {k: float(v) for k, v in result.items()}


@functools.lru_cache(maxsize=None)
def _inception_reference(dataset: str, image_shape: tuple, download: bool) -> np.ndarray:
    ref = picture_reference(dataset, image_shape)
    return inception_features(ref.images.astype(np.float32) / 255.0, inception_model(download))


def evaluate(images_or_generator, dataset: str = "mnist", n: int | None = DEFAULT_N, *, value_range=None,
             noise_dim: int | None = None, output: str | None = None, seed: int = 0,
             inception: str = "off", family: str | None = None, two_sample: bool = False) -> dict:
    """Score generated images against ``dataset``'s test split.

    Args:
        images_or_generator: one of
            * an array of images: uint8 [0, 255] or float [0, 1] / [-1, 1], shape (N, 28, 28),
              (N, 28, 28, 1) or (N, 784). With more than ``n`` images a seeded random subset of ``n`` is
              used; with fewer, all of them (and a warning: compare with ``real_floor(dataset, N)``);
            * a Keras generator model (noise -> images, or [noise, label] -> images with balanced labels
              0, 1, ..., 9, 0, ...): ``n`` samples from uniform [-1, 1] noise of size ``noise_dim``
              (default: its first input's last dimension), drawn by :mod:`gan_lab.sampling`, outputs read as
              ``output`` (``"tanh"`` -> [-1, 1], ``"sigmoid"`` -> [0, 1]; default: inferred like arrays);
            * any callable ``n -> images``.
        dataset: what the samples imitate: ``"mnist"``, ``"fashion_mnist"`` (28×28: the classifier metrics), or
            ``"cifar10"``, ``"celeba"``, ``"folder:PATH"`` / any other shape (the random-feature metrics, at
            the samples' own size; :func:`metric_family`).
        n: number of generated images (default 10,000; ``None`` = all of an array).
        value_range: ``None`` (infer), ``"uint8"``, ``"unit"`` or ``"tanh"``: overrides the inference.
        noise_dim, output: for Keras generators, see above.
        seed: seeds the generator noise and the subset choice.
        inception: random-feature family only: ``"auto"`` adds InceptionV3 ``fid`` / ``kid`` when its weights
            are on disk, ``"download"`` lets Keras fetch them, ``"off"`` (default) skips them.
        family: ``"classifier"`` or ``"random-conv"``; default: the classifier metrics for MNIST and
            Fashion-MNIST (28×28 images required), the random-feature ones for every other dataset. Pass
            ``metric_family(dataset, image_shape)`` to score MNIST-like data drawn at another size.
        two_sample: random-feature family only: also ``"c2st"``, the classifier two-sample test
            (:func:`gan_lab.two_sample.two_sample_accuracy`: a small CNN trained to tell up to
            :data:`TWO_SAMPLE_MAX` samples from as many reference pictures, its held-out accuracy; 0.5 = it
            cannot). Stricter than the random-feature scores, and slower: it trains a network.

    Returns:
        classifier family: ``{"fcd", "score", "modes", "class_kl", "precision", "recall", "density",
        "coverage"}`` (``modes`` an int, the rest floats); random-feature family: ``{"kid_random",
        "fd_random", "precision", "recall", "density", "coverage"}`` (+ ``"fid"``, ``"kid"``, ``"c2st"``).

    Raises:
        MetricInputError (a ValueError) for unusable input, with what was wrong and how to fix it.
    """
    dataset = normalize_name(dataset)
    if family is None:
        family = CLASSIFIER_FAMILY if has_classifier(dataset) else RANDOM_FAMILY
    if family not in FAMILY_NAMES:
        raise MetricInputError(f"family = {family!r} is invalid: expected 'classifier' or 'random-conv'")
    if family == RANDOM_FAMILY:
        x = _gather_images(images_or_generator, n, value_range, noise_dim, output, seed, to_unit_pictures)
        return _picture_metrics(x, dataset, inception, seed, two_sample)
    if two_sample:
        raise MetricInputError(f"two_sample=True needs the random-feature family; {dataset_label(dataset)} at "
                               "28×28 is scored with gan_lab's classifier metrics (drop --c2st)")
    x = _gather_images(images_or_generator, n, value_range, noise_dim, output, seed)
    features, probs = classify(x, dataset)
    return metrics_from_features(features, probs, dataset)


@functools.lru_cache(maxsize=None)
def _train_images(dataset: str) -> np.ndarray:
    images, _ = load_dataset(dataset, "train")
    images.setflags(write=False)
    return images


def conditional_accuracy(generator, dataset: str = "mnist", n_per_class: int = 500, output: str = "tanh",
                         seed: int = 0) -> dict:
    """For a conditional generator ``[noise, label] -> image``: the share of samples drawn for each label that
    the dataset's classifier assigns to that label. Returns ``{"accuracy": overall, "per_class": [10 values]}``."""
    if not isinstance(generator, keras.Model) or not sampling.is_conditional(generator):
        raise MetricInputError(f"conditional_accuracy needs a conditional generator with inputs [noise, label], "
                               f"got {type(generator).__name__} with {len(getattr(generator, 'inputs', None) or [])} "
                               "input(s); expected e.g. the generator of a cgan run")
    labels = np.repeat(np.arange(NUM_CLASSES), n_per_class)
    noise = sampling.uniform_noise(len(labels), sampling.noise_dim_of(generator), seed)
    images = to_unit_images(sampling.generate(generator, noise, labels), output)
    _, probs = classify(images, normalize_name(dataset))
    hits = np.asarray(probs).argmax(axis=1) == labels
    per_class = [float(hits[labels == label].mean()) for label in range(NUM_CLASSES)]
    return {"accuracy": float(np.mean(per_class)), "per_class": per_class}


@functools.lru_cache(maxsize=None)
def _real_floor(dataset: str, n: int, seed: int, image_shape=None, two_sample: bool = False) -> tuple:
    if metric_family(dataset, image_shape) == RANDOM_FAMILY:
        pool = picture_reference(dataset, image_shape).pool
        idx = np.sort(np.random.default_rng(seed).choice(len(pool), size=min(n, len(pool)), replace=False))
        return tuple(evaluate(pool[idx], dataset, n=None, family=RANDOM_FAMILY, two_sample=two_sample).items())
    images = _train_images(dataset)
    if n > len(images):
        raise ValueError(f"real_floor: n={n} is larger than the {len(images)}-image training split; "
                         f"expected n <= {len(images)}")
    idx = np.sort(np.random.default_rng(seed).choice(len(images), size=n, replace=False))
    result = evaluate(images[idx], dataset, n=None)
    return tuple(result.items())


def real_floor(dataset: str = "mnist", n: int = DEFAULT_N, seed: int = 0, image_shape=None,
               two_sample: bool = False) -> dict:
    """The metrics of ``n`` real training images (disjoint from the test split) vs the test split.

    This is what a perfect generator would score at this ``n``; cached per process. For the random-feature
    family (``image_shape`` (H, W, C) of the samples; any data but 28×28 MNIST-like) the real images are the
    floor pool of :class:`_PictureReference` (at most all of it: 690 for emoji-64); ``two_sample`` adds the
    two-sample test's ``c2st`` (about 0.5: real against real)."""
    dataset = normalize_name(dataset)
    if metric_family(dataset, image_shape) == RANDOM_FAMILY and image_shape is None:
        image_shape = (32, 32, 3) if dataset == "cifar10" else (64, 64, 3)
    return dict(_real_floor(dataset, _check_n(n), int(seed),
                            None if image_shape is None else tuple(int(v) for v in image_shape), bool(two_sample)))


def _fmt(key, value) -> str:
    if value is None:
        return "-"
    if key == "modes":
        return str(int(value))
    if key in ("fcd", "fd_random", "fid"):
        return f"{value:.3f}" if abs(value) < 1000 else f"{value:.1f}"
    if key in ("kid_random", "kid"):
        return f"{value:.5f}"
    return f"{value:.4f}"


def format_table(result: dict, floor: dict | None = None) -> str:
    """The metrics as a plain-text table, with the real-data floor beside each value when given."""
    header = ["metric", "value"] + (["real floor"] if floor is not None else []) + ["better", "meaning"]
    rows = []
    for key in [k for k in METRIC_KEYS + RANDOM_KEYS[:2] + (TWO_SAMPLE_KEY,) + INCEPTION_KEYS if k in result] \
            or METRIC_KEYS:
        row = [key, _fmt(key, result.get(key))]
        if floor is not None:
            row.append(_fmt(key, floor.get(key)))
        row += ["higher" if HIGHER_IS_BETTER[key] else "lower", DESCRIPTIONS[key]]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    numeric = {1, 2} if floor is not None else {1}

    def line(cells):
        return "  ".join(c.rjust(w) if i in numeric else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [line(header), line(["-" * w for w in widths])] + [line(r) for r in rows]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------
# runs, files and the CLI
# --------------------------------------------------------------------------------------------------

def _payload(result, floor, dataset, n, source, seconds, image_shape=None, inception="off") -> dict:
    family = metric_family(dataset, image_shape)
    payload = {"dataset": dataset, "n": int(n), "source": str(source), "metric": family,
               "metric_name": FAMILY_NAMES[family], "result": result, "floor": floor,
               "higher_is_better": {k: HIGHER_IS_BETTER[k] for k in result}, "seconds": round(float(seconds), 2)}
    if family == CLASSIFIER_FAMILY:
        info = weights_info(dataset)
        payload["n_real"] = int(len(real_reference(dataset).features))
        payload["classifier"] = {"test_accuracy": info.get("test_accuracy"), "seed": info.get("seed")}
    else:
        payload["n_real"] = int(len(picture_reference(dataset, image_shape).features))
        payload["image_shape"] = list(image_shape)
        payload["inception"] = inception_status(inception)[1]
    return payload


def evaluate_run(run_dir, n: int = DEFAULT_N, dataset: str | None = None, out=None, seed: int = 0,
                 inception: str = "auto", two_sample: bool = False) -> dict:
    """Evaluate the generator saved in a run folder and write ``metrics.json`` there (or to ``out``).

    The run is read with :func:`gan_lab.runs.load_generator` (``preset.json`` and ``generator.keras``; a
    missing or broken run raises :class:`gan_lab.runs.RunError`, a ValueError). Samples are read in the
    preset's ``output`` range and scored against the preset's ``dataset`` (``dataset`` overrides it). A
    conditional generator also gets ``conditional_accuracy``. The metric family follows the data
    (:func:`metric_family`; ``inception`` and ``two_sample`` as in :func:`evaluate`). Returns the written payload:
    ``{"dataset", "n", "result", "floor", ..., "path"}``.
    """
    preset, generator = load_generator(run_dir)
    dataset = normalize_name(dataset or preset.dataset)
    start = time.perf_counter()
    result = evaluate(generator, dataset, n=n, output=preset.output, seed=seed, inception=inception,
                      family=metric_family(dataset, preset.image_shape), two_sample=two_sample)
    floor = real_floor(dataset, n, image_shape=preset.image_shape, two_sample=two_sample)
    payload = _payload(result, floor, dataset, n, run_dir, time.perf_counter() - start, preset.image_shape,
                       inception)
    if sampling.is_conditional(generator) and has_classifier(dataset):
        payload["conditional_accuracy"] = conditional_accuracy(generator, dataset, output=preset.output, seed=seed)
    payload["path"] = str(atomic_write_json(Path(out) if out else Path(run_dir) / "metrics.json", payload))
    return payload


def evaluate_file(path_npy, dataset: str | None = None, n: int | None = DEFAULT_N, out=None,
                  value_range=None, seed: int = 0, inception: str = "auto", two_sample: bool = False) -> dict:
    """Evaluate images saved with ``np.save`` and write ``<name>.metrics.json`` beside them (or to ``out``).

    The file is read with ``allow_pickle=False``. ``n=None`` uses every image; the floor is computed at the
    number of images actually evaluated.
    """
    path = Path(path_npy)
    if path.suffix.lower() != ".npy":
        raise ValueError(f"{path}: expected a .npy file of images (saved with np.save) or a run folder")
    if not path.is_file():
        raise ValueError(f"{path}: no such file; expected a .npy file of images (saved with np.save)")
    if not dataset:
        raise ValueError(f"{path}: say which dataset the samples imitate: --dataset mnist, fashion_mnist, "
                         "cifar10, celeba or folder:PATH")
    dataset = normalize_name(dataset)
    try:
        images = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise ValueError(f"{path}: cannot read it as a .npy array without pickle ({exc}); expected an "
                         "array of images saved with np.save") from None
    start = time.perf_counter()
    family = CLASSIFIER_FAMILY if has_classifier(dataset) else RANDOM_FAMILY
    x = (to_unit_images if family == CLASSIFIER_FAMILY else to_unit_pictures)(images, value_range)  # errors first
    n_used = len(x) if n is None else min(_check_n(n), len(x))
    result = evaluate(x, dataset, n=n_used, value_range="unit", seed=seed, inception=inception, family=family,
                      two_sample=two_sample)
    shape = None if family == CLASSIFIER_FAMILY else x.shape[1:]
    floor = real_floor(dataset, n_used, image_shape=shape, two_sample=two_sample)
    payload = _payload(result, floor, dataset, n_used, path, time.perf_counter() - start, shape, inception)
    target = Path(out) if out else path.with_name(path.stem + ".metrics.json")
    payload["path"] = str(atomic_write_json(target, payload))
    return payload


def run_evaluate_command(args) -> int:
    """Run ``evaluate`` for parsed ``args`` (``target``, ``dataset``, ``n``, ``out``); print the table."""
    target = Path(args.target)
    n = getattr(args, "n", DEFAULT_N)
    inception = getattr(args, "inception", "auto")
    two_sample = getattr(args, "c2st", False)
    if target.is_dir():
        payload = evaluate_run(target, n=n, dataset=getattr(args, "dataset", None), out=getattr(args, "out", None),
                               inception=inception, two_sample=two_sample)
    elif target.suffix.lower() == ".npy":
        payload = evaluate_file(target, getattr(args, "dataset", None), n=n, out=getattr(args, "out", None),
                                value_range=getattr(args, "value_range", None), inception=inception,
                                two_sample=two_sample)
    elif not target.exists():
        raise ValueError(f"{target}: no such run folder or .npy file")
    else:
        raise ValueError(f"{target}: expected a run folder (preset.json + generator.keras) or a .npy file")
    print(f"metric: {payload['metric_name']}")
    if payload["metric"] == CLASSIFIER_FAMILY:
        print(f"{payload['source']}: {payload['dataset']}, {payload['n']} generated vs {payload['n_real']} "
              f"test images (real floor: {payload['n']} training images vs the same test images)")
    else:
        print(f"{payload['source']}: {dataset_label(payload['dataset'])} at "
              f"{'×'.join(map(str, payload['image_shape']))}, {payload['n']} generated vs {payload['n_real']} "
              "real reference images (real floor: other real images of the same data vs the same reference)")
        print(payload["inception"])
    print(format_table(payload["result"], payload["floor"]))
    if "conditional_accuracy" in payload:
        acc = payload["conditional_accuracy"]
        print(f"conditional accuracy (samples drawn for label L classified as L): {acc['accuracy']:.3f}; per class "
              + " ".join(f"{a:.2f}" for a in acc["per_class"]))
    print(f"wrote {payload['path']} ({payload['seconds']:.1f} s)")
    return 0


# --------------------------------------------------------------------------------------------------
# during training: quality vs time or steps
# --------------------------------------------------------------------------------------------------

def _marks(values, name: str, kind) -> list:
    """Sorted, validated score marks (steps or training seconds)."""
    marks = sorted(kind(v) for v in (values or ()))
    if marks and marks[0] <= 0:
        raise ValueError(f"{name} must all be > 0, got {marks}; expected e.g. {name}=[1000, 2000]")
    return marks


class QualityCallback(keras.callbacks.Callback):
    """Score a sample while a model trains; keep the rows and write ``quality.csv`` and ``quality.png``.

    The one scoring callback of gan_lab: the notebooks and the benchmarks (``time_to_quality.py``,
    ``quality_at_steps.py``) all use it. Each score is a row ``seconds`` (training
    time), ``step``, ``epoch``, the eight metrics and ``eval_seconds``.

    Args:
        sample_fn: ``n -> images`` in [0, 1] (n, 28, 28) (other accepted ranges are inferred too), or
            ``None`` to sample the trained gan_lab GAN's ``sampler`` (its EMA generator when it has one)
            with :func:`gan_lab.sampling.sample` and the same noise (``seed``) every time, so successive
            scores are comparable.
        dataset: what the samples imitate (:func:`evaluate`: the metric family follows the data; with the
            random-feature family a row holds ``kid_random``, ``fd_random``, precision, ... instead).
        out_dir: folder for ``quality.csv`` and ``quality.png`` (created), or ``None`` to keep the rows in
            :attr:`rows` only.
        every_epochs: score after every ``every_epochs``-th epoch.
        every_seconds: score after the first batch that ends ``every_seconds`` of training time after the
            last score.
        at_steps: score once when the step reaches each of these marks.
        at_seconds: score once when the training clock reaches each of these marks (one mark per score,
            so with ``final=False`` ``rows[i]`` belongs to the i-th mark).
            With none of ``every_epochs``, ``every_seconds``, ``at_steps``, ``at_seconds``: every epoch.
        stop_after_marks: stop training once every mark of ``at_steps`` / ``at_seconds`` has been scored.
        n: images per score (default 2,000: faster, but FCD is biased up; :attr:`floor` holds the
            real-data floor at the same ``n``, drawn in ``quality.png``).
        output: ``"tanh"`` or ``"sigmoid"``, the GAN's output range (with ``sample_fn=None``).
        seed: the noise seed (with ``sample_fn=None``).
        append: keep the rows of an existing ``quality.csv`` (resuming a run) instead of starting afresh.
        final: score once more at the end of training unless the last batch was just scored.
        verbose: print a line per score.
        on_score: called with each new row as it is scored (e.g. to print it in another format).
        two_sample: random-feature family: each row also holds ``c2st`` (:func:`evaluate`'s ``two_sample``).
        clock: the time source, ``time.perf_counter`` by default; every time reading goes through it.

    ``step`` is the model's global step (``model.step``, a gan_lab GAN's generator updates) when it has one,
    else the batches seen. Elapsed time counts training only: the callback's own scoring time is excluded.
    Outside ``fit`` (a custom loop) call :meth:`score_now` yourself; time then runs from construction.
    """

    COLUMNS = ("seconds", "step", "epoch") + METRIC_KEYS + ("eval_seconds",)  # the classifier family's columns

    def __init__(self, sample_fn=None, dataset: str = "mnist", out_dir=".", every_epochs: int | None = None,
                 every_seconds: float | None = None, at_steps=None, at_seconds=None,
                 stop_after_marks: bool = False, n: int = 2000, output: str = "tanh", seed: int = 0,
                 append: bool = False, final: bool = True, verbose: bool = True, on_score=None,
                 two_sample: bool = False, clock=time.perf_counter):
        super().__init__()
        if sample_fn is not None and not callable(sample_fn):
            raise ValueError(f"sample_fn must be a callable n -> images (or None to sample the trained GAN), "
                             f"got {type(sample_fn).__name__}")
        if on_score is not None and not callable(on_score):
            raise ValueError(f"on_score must be a callable row -> None, got {type(on_score).__name__}")
        if every_epochs is not None and int(every_epochs) < 1:
            raise ValueError(f"every_epochs must be >= 1, got {every_epochs}")
        if every_seconds is not None and float(every_seconds) <= 0:
            raise ValueError(f"every_seconds must be > 0, got {every_seconds}")
        self.at_steps = _marks(at_steps, "at_steps", int)
        self.at_seconds = _marks(at_seconds, "at_seconds", float)
        if stop_after_marks and not (self.at_steps or self.at_seconds):
            raise ValueError("stop_after_marks=True needs at_steps or at_seconds: expected the marks after "
                             "which training stops")
        if every_epochs is None and every_seconds is None and not (self.at_steps or self.at_seconds):
            every_epochs = 1
        if sample_fn is None and output not in ("tanh", "sigmoid"):
            raise ValueError(f"output = {output!r} is invalid: expected 'tanh' ([-1, 1]) or 'sigmoid' ([0, 1]), "
                             "the GAN's last activation (preset.output)")
        self.sample_fn = sample_fn
        self.dataset = normalize_name(dataset)
        self.out_dir = None if out_dir is None else Path(out_dir)
        self.every_epochs = None if every_epochs is None else int(every_epochs)
        self.every_seconds = None if every_seconds is None else float(every_seconds)
        self.stop_after_marks = stop_after_marks
        self.n = int(n)
        self.output = output
        self.seed = seed
        self.final = final
        self.verbose = verbose
        self.on_score = on_score
        self.two_sample = bool(two_sample)
        self.clock = clock
        self.csv_path = None if out_dir is None else self.out_dir / "quality.csv"
        self.png_path = None if out_dir is None else self.out_dir / "quality.png"
        self.rows: list[dict] = []
        if append and self.csv_path is not None and self.csv_path.is_file():
            with open(self.csv_path, newline="") as fh:
                self.rows = [{k: float(v) for k, v in r.items() if v not in (None, "")}
                             for r in csv.DictReader(fh)]
        self._fresh = not self.rows
        self._offset = self.rows[-1]["seconds"] if self.rows else 0.0
        self._banked = 0.0                 # training seconds of earlier fit() calls
        self._since = self.clock()         # running since (None when paused)
        self._fit_seen = False
        self._step = int(self.rows[-1]["step"]) if self.rows else 0
        self._epoch = 0
        self._epoch_index = 0
        self._steps_per_epoch = None
        self._last_scored_step = None
        self._last_score_time = 0.0
        self.floor = None
        self.keys = METRIC_KEYS  # set from the first sample's shape (metric_keys)

    @property
    def columns(self) -> tuple:
        return ("seconds", "step", "epoch") + tuple(self.keys) + ("eval_seconds",)

    # -- time keeping --------------------------------------------------------------------------
    def elapsed(self) -> float:
        """Training seconds so far, scoring time excluded (plus the last row's time when appending)."""
        running = 0.0 if self._since is None else self.clock() - self._since
        return self._offset + self._banked + running

    def on_train_begin(self, logs=None):
        if not self._fit_seen:
            self._banked, self._fit_seen = 0.0, True
        self._since = self.clock()
        self._steps_per_epoch = (self.params or {}).get("steps")
        if isinstance(getattr(self.model, "step", None), int):
            self._step = self.model.step
        self._last_score_time = self.rows[-1]["seconds"] if self.rows else self.elapsed()

    def on_train_end(self, logs=None):
        if self.final and self._last_scored_step != self._step:
            self.score_now(self._step, self._epoch)
        if self._since is not None:
            self._banked += self.clock() - self._since
            self._since = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_index = epoch

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        now = self.elapsed()
        step_due = bool(self.at_steps) and self._step >= self.at_steps[0]
        time_due = bool(self.at_seconds) and now >= self.at_seconds[0]
        every_due = self.every_seconds is not None and now - self._last_score_time >= self.every_seconds
        if not (step_due or time_due or every_due):
            return
        if step_due:
            self.at_steps.pop(0)
        if time_due:
            self.at_seconds.pop(0)
        epoch = self._epoch_index
        if self._steps_per_epoch:
            epoch = epoch + (batch + 1) / self._steps_per_epoch
        self.score_now(self._step, epoch)
        if self.stop_after_marks and not (self.at_steps or self.at_seconds):
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self._epoch = epoch + 1
        if self.every_epochs is not None and (epoch + 1) % self.every_epochs == 0 \
                and self._last_scored_step != self._step:
            self.score_now(self._step, epoch + 1)

    # -- scoring -------------------------------------------------------------------------------
    def _sample(self, n: int):
        if self.sample_fn is not None:
            return self.sample_fn(n)
        generator = getattr(self.model, "sampler", None)
        if generator is None:
            raise ValueError("QualityCallback(sample_fn=None) samples the trained model's `sampler` generator "
                             "(a gan_lab GAN), but this model has none; pass sample_fn=lambda n: images")
        return sampling.sample(generator, n, seed=self.seed, output=self.output)

    def score_now(self, step: int = 0, epoch: float = 0) -> dict:
        """Score a fresh sample now, append a row to :attr:`rows` (and ``quality.csv``, redrawing
        ``quality.png``); returns the row."""
        seconds = self.elapsed()
        start = self.clock()
        raw = self._sample(self.n)
        shape = _image_shape_of(raw)
        family = metric_family(self.dataset, shape)
        images = (to_unit_images if family == CLASSIFIER_FAMILY else to_unit_pictures)(raw)
        self.keys = metric_keys(self.dataset, shape, self.two_sample and family == RANDOM_FAMILY)
        n_used = min(self.n, len(images))
        result = evaluate(images, self.dataset, n=n_used, value_range="unit", family=family,
                          two_sample=TWO_SAMPLE_KEY in self.keys)
        row = {"seconds": round(seconds, 3), "step": int(step), "epoch": round(float(epoch), 4)}
        row.update(result)
        row["eval_seconds"] = round(self.clock() - start, 3)
        self.rows.append(row)
        if self.out_dir is not None:
            self.floor = real_floor(self.dataset, n_used,
                                    image_shape=None if family == CLASSIFIER_FAMILY else images.shape[1:],
                                    two_sample=TWO_SAMPLE_KEY in self.keys)
            self._write_csv(row)
            self._plot()
        if self.on_score is not None:
            self.on_score(row)
        spent = self.clock() - start
        if self._since is not None:
            self._since += spent  # exclude the scoring time from the training clock
        self._last_scored_step = int(step)
        self._last_score_time = seconds
        if self.verbose:
            print(f"[quality] {seconds:7.1f}s step {step} epoch {float(epoch):g}: "
                  + " ".join(f"{k} {_fmt(k, result[k])}" for k in self.keys[:2] + ("precision", "recall"))
                  + f" (scored in {spent:.1f}s)", flush=True)
        return row

    def _write_csv(self, row):
        self.out_dir.mkdir(parents=True, exist_ok=True)
        fresh = self._fresh or not self.csv_path.is_file()
        with open(self.csv_path, "w" if fresh else "a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=self.columns)
            if fresh:
                writer.writeheader()
            writer.writerow({k: row.get(k) for k in self.columns})
        self._fresh = False

    def _plot(self):
        t = [r["seconds"] for r in self.rows]
        fig = Figure(figsize=(10, 7), dpi=90)
        FigureCanvasAgg(fig)
        panels = [(("fcd",), "FCD (lower is better)"), (("score",), "classifier score"),
                  (("precision", "recall"), "precision / recall (k=3)"),
                  (("density", "coverage"), "density / coverage (k=5)")]
        if self.keys != METRIC_KEYS:
            panels[:2] = [(("kid_random",), "KID, random conv features (lower is better)"),
                          (("fd_random",), "Frechet distance, random conv features (lower)")]
        for i, (keys, title) in enumerate(panels):
            ax = fig.add_subplot(2, 2, i + 1)
            for key, color in zip(keys, ("tab:blue", "tab:orange")):
                ax.plot(t, [r[key] for r in self.rows], "o-", color=color, ms=3, label=key)
                ax.axhline(self.floor[key], color=color, ls="--", lw=1, label=f"{key}, real floor")
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("training seconds (scoring excluded)")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        fig.suptitle(f"{dataset_label(self.dataset)}: sample quality vs training time (n={self.n})")
        fig.subplots_adjust(left=0.07, right=0.98, bottom=0.08, top=0.9, hspace=0.4, wspace=0.2)
        fig.savefig(self.png_path)
