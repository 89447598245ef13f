"""Sample-quality metrics for MNIST / Fashion-MNIST generators, computed offline with gan_lab's own classifiers.

Inception-based FID needs weights from the internet and was made for photographs. gan_lab measures in the
same standard forms, but on the features of a small domain classifier per dataset
(:mod:`gan_lab.classifier`; weights ship inside the package):

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
:func:`evaluate_file`, :class:`QualityCallback`, and for the CLI :func:`add_evaluate_parser` /
:func:`run_evaluate_command`.

Accepted images: uint8 in [0, 255]; float in [0, 1] or [-1, 1]; shapes (N, 28, 28), (N, 28, 28, 1) or
(N, 784). For floats the range is inferred (any value < 0 means [-1, 1]) unless ``value_range`` says
``"uint8"``, ``"unit"`` ([0, 1]) or ``"tanh"`` ([-1, 1]).
"""
from __future__ import annotations

import csv
import functools
import json
import math
import os
import time
import warnings
from pathlib import Path

import keras
import numpy as np

from gan_lab.data import load_dataset, normalize_name

METRIC_KEYS = ("fcd", "score", "modes", "class_kl", "precision", "recall", "density", "coverage")
HIGHER_IS_BETTER = {"fcd": False, "score": True, "modes": True, "class_kl": False,
                    "precision": True, "recall": True, "density": True, "coverage": True}
DESCRIPTIONS = {
    "fcd": "Frechet classifier distance (128-d features)",
    "score": "classifier score exp(E KL(p(y|x)||p(y))), max 10",
    "modes": "classes with >= 2% of the samples, of 10",
    "class_kl": "KL(class histogram || uniform), nats",
    "precision": "samples on the real manifold (k=3)",
    "recall": "real images covered by the samples (k=3)",
    "density": "sample density near real images (k=5), ~1 real",
    "coverage": "real images with a sample nearby (k=5)",
}
DEFAULT_N = 10000
MIN_SAMPLES = 10
PR_K = 3
DC_K = 5
MODE_THRESHOLD = 0.02
SCORE_SPLITS = 10
FCD_EPS = 1e-6
VALUE_RANGES = ("uint8", "unit", "tanh")
_RANGE_ALIASES = {"uint8": "uint8", "unit": "unit", "sigmoid": "unit", "tanh": "tanh"}
_RANGE_TOL = 1e-3
_CHUNK_ELEMENTS = 10_000_000  # distance-matrix entries held at once (40 MB as float32)


class MetricInputError(ValueError):
    """Images (or a generator) that the metrics cannot use; the message says what was expected."""


# --------------------------------------------------------------------------------------------------
# input validation and sampling
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
    x = x.reshape(-1, 28, 28)
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


def _is_keras_model(obj) -> bool:
    return isinstance(obj, keras.Model)


def sample_generator(generator, n: int, noise_dim: int | None = None, seed: int = 0,
                     batch_size: int = 500) -> np.ndarray:
    """``n`` raw outputs of a Keras generator fed uniform [-1, 1] noise (the project's convention).

    ``noise_dim`` defaults to ``generator.input_shape[-1]``. The same ``seed`` gives the same noise.
    """
    if not _is_keras_model(generator):
        raise MetricInputError(f"expected a Keras generator model, got {type(generator).__name__}")
    if len(generator.inputs) == 2:  # conditional generator [noise, label]: balanced labels 0, 1, ..., 9, 0, ...
        from gan_lab.sampling import generate as generate_images
        noise_dim = int(noise_dim or generator.inputs[0].shape[-1])
        rng = np.random.default_rng(seed)
        out = []
        for start in range(0, n, batch_size):
            b = min(batch_size, n - start)
            z = rng.uniform(-1.0, 1.0, size=(b, noise_dim)).astype(np.float32)
            out.append(generate_images(generator, z, labels=np.arange(start, start + b) % 10))
        return np.concatenate(out)
    if noise_dim is None:
        shape = generator.input_shape
        if isinstance(shape, list) or not isinstance(shape, tuple) or len(shape) != 2:
            raise MetricInputError(
                f"cannot read the noise size from the generator's input_shape {shape}; the metrics "
                "expect one noise input of shape (None, noise_dim). Fix: pass noise_dim=..., or pass a "
                "callable n -> images (e.g. for a conditional generator)")
        noise_dim = shape[-1]
    if noise_dim is None or int(noise_dim) <= 0:
        raise MetricInputError(f"noise_dim must be a positive integer, got {noise_dim!r}")
    rng = np.random.default_rng(seed)
    out = []
    for start in range(0, n, batch_size):
        b = min(batch_size, n - start)
        z = rng.uniform(-1.0, 1.0, size=(b, int(noise_dim))).astype(np.float32)
        # float32 whatever the generator computes in (mixed precision generators return bfloat16)
        out.append(np.asarray(generator(z, training=False)).astype(np.float32))
    return np.concatenate(out)


def make_sampler(generator, noise_dim: int | None = None, output: str | None = "tanh", seed: int = 0):
    """``n -> images in [0, 1] (n, 28, 28)`` for a Keras generator; the same noise every call.

    Handy as :class:`QualityCallback`'s ``sample_fn``: fixed noise makes successive scores comparable.
    """
    value_range = _normalize_range(output)

    def sample(n):
        return to_unit_images(sample_generator(generator, n, noise_dim=noise_dim, seed=seed), value_range)

    return sample


def _gather_images(images_or_generator, n, value_range, noise_dim, output, seed) -> np.ndarray:
    """Resolve an array / Keras generator / callable into float32 (N, 28, 28) in [0, 1]."""
    if n is not None and (not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < MIN_SAMPLES):
        raise MetricInputError(f"n must be an integer >= {MIN_SAMPLES} (default {DEFAULT_N}), got {n!r}")
    if _is_keras_model(images_or_generator):
        if output is not None and value_range is not None:
            raise MetricInputError("pass either output= or value_range= for a generator, not both")
        vr = _normalize_range(output if output is not None else value_range)
        raw = sample_generator(images_or_generator, DEFAULT_N if n is None else int(n), noise_dim, seed)
        return to_unit_images(raw, vr)
    if callable(images_or_generator) and not hasattr(images_or_generator, "__array__"):
        want = DEFAULT_N if n is None else int(n)
        try:
            raw = images_or_generator(want)
        except MetricInputError:
            raise
        except TypeError as exc:
            raise MetricInputError(
                f"calling {getattr(images_or_generator, '__name__', 'the sampler')}({want}) failed ({exc}); "
                "a callable must take the number of images and return an array of them") from None
        x = to_unit_images(raw, value_range if output is None else output)
        if len(x) < want:
            warnings.warn(f"the sampler returned {len(x)} images for n={want}; evaluating {len(x)} "
                          f"(compare with real_floor(dataset, n={len(x)}))", stacklevel=3)
        return x[:want]
    x = to_unit_images(images_or_generator, value_range if output is None else output)
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
# the metrics themselves (pure NumPy on features / probabilities)
# --------------------------------------------------------------------------------------------------

def _sqrtm_eig(matrix):
    """Principal square root by eigen-decomposition (V diag(sqrt(λ)) V⁻¹); complex, possibly non-finite."""
    with np.errstate(all="ignore"):
        vals, vecs = np.linalg.eig(matrix)
        try:
            inv = np.linalg.inv(vecs)
        except np.linalg.LinAlgError:
            return np.full(matrix.shape, np.nan)
        return (vecs * np.sqrt(vals.astype(np.complex128))) @ inv


def _sqrtm(matrix):
    """Principal square root: SciPy's ``sqrtm`` (as TTUR's fid.py) when installed, else :func:`_sqrtm_eig`."""
    try:
        from scipy import linalg
    except ImportError:  # SciPy is not a gan_lab dependency
        return _sqrtm_eig(matrix)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return linalg.sqrtm(matrix)


def frechet_distance(mu1, sigma1, mu2, sigma2, eps: float = FCD_EPS) -> float:
    """‖μ1−μ2‖² + Tr(Σ1 + Σ2 − 2(Σ1Σ2)^½), with the safeguards of TTUR's ``fid.py``.

    If the matrix square root of Σ1Σ2 is not finite (a near-singular product), ``eps``·I is added to both
    covariances and it is retried; a small imaginary part from round-off is dropped, a large one
    (diagonal imaginary part above 1e-3) raises ``ValueError``.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"mean/covariance shapes differ: {mu1.shape} vs {mu2.shape}, "
                         f"{sigma1.shape} vs {sigma2.shape}")
    diff = mu1 - mu2
    covmean = _sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        warnings.warn(f"FCD: singular covariance product; adding {eps} to the diagonal of both covariances",
                      RuntimeWarning, stacklevel=2)
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = _sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"FCD: imaginary component {np.max(np.abs(covmean.imag)):.3g} in sqrtm(S1 S2)")
        covmean = covmean.real
    value = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))
    return max(value, 0.0) if value > -1e-6 else value


def feature_stats(features) -> tuple[np.ndarray, np.ndarray]:
    """(mean, covariance) of a feature matrix (N, D), in float64."""
    f = np.asarray(features, np.float64)
    return f.mean(axis=0), np.cov(f, rowvar=False)


def classifier_score(probs, splits: int = SCORE_SPLITS) -> tuple[float, float]:
    """exp(E_x KL(p(y|x) ‖ p(y))) per split; returns (mean, std) over ``splits`` splits."""
    p = np.clip(np.asarray(probs, np.float64), 1e-12, 1.0)
    splits = max(1, min(int(splits), len(p)))
    scores = []
    for part in np.array_split(p, splits):
        py = part.mean(axis=0, keepdims=True)
        kl = (part * (np.log(part) - np.log(py))).sum(axis=1).mean()
        scores.append(math.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))


def mode_stats(probs, threshold: float = MODE_THRESHOLD) -> tuple[int, float, np.ndarray]:
    """(classes with >= ``threshold`` of the samples, KL(class histogram ‖ uniform) in nats, histogram)."""
    p = np.asarray(probs)
    k = p.shape[1]
    hist = np.bincount(p.argmax(axis=1), minlength=k).astype(np.float64) / len(p)
    nz = hist > 0
    kl = float((hist[nz] * np.log(hist[nz] * k)).sum())
    return int((hist >= threshold).sum()), max(kl, 0.0), hist


def _sq_norms(a):
    return np.einsum("ij,ij->i", a, a)


def _sq_dists(a, a_sq, b, b_sq):
    d = a_sq[:, None] + b_sq[None, :] - 2.0 * (a @ b.T)
    np.maximum(d, 0.0, out=d)
    return d


def _chunk_rows(n_cols: int) -> int:
    return max(1, _CHUNK_ELEMENTS // max(1, n_cols))


def knn_radii(features, ks=(PR_K,)) -> dict:
    """Distance of every row to its k-th nearest neighbour in the same set (self excluded), per k.

    Computed in row chunks so memory stays bounded (about 10 M distances at a time).
    """
    f = np.ascontiguousarray(features, dtype=np.float32)
    ks = sorted({int(k) for k in ks})
    if ks[-1] >= len(f):
        raise ValueError(f"need more than k={ks[-1]} samples for k-NN radii, got {len(f)}")
    sq = _sq_norms(f)
    out = {k: np.empty(len(f), np.float32) for k in ks}
    step = _chunk_rows(len(f))
    for s in range(0, len(f), step):
        d = _sq_dists(f[s:s + step], sq[s:s + step], f, sq)
        part = np.partition(d, ks, axis=1)  # column 0 is the point itself (distance 0)
        for k in ks:
            out[k][s:s + step] = np.sqrt(part[:, k])
    return out


def manifold_metrics(real_features, fake_features, real_radii: dict | None = None,
                     pr_k: int = PR_K, dc_k: int = DC_K) -> dict:
    """Improved precision/recall (k=``pr_k``) and density/coverage (k=``dc_k``), chunked.

    * precision: share of fake samples within the k-NN radius of at least one real sample;
    * recall: share of real samples within the k-NN radius of at least one fake sample;
    * density: (1 / kM) Σ_j #{real i : fake j within real i's k-NN radius};
    * coverage: share of real samples whose nearest fake sample lies within their own k-NN radius.
    """
    real = np.ascontiguousarray(real_features, dtype=np.float32)
    fake = np.ascontiguousarray(fake_features, dtype=np.float32)
    if real_radii is None or pr_k not in real_radii or dc_k not in real_radii:
        real_radii = knn_radii(real, (pr_k, dc_k))
    fake_r = knn_radii(fake, (pr_k,))[pr_k]
    r_pr2 = real_radii[pr_k].astype(np.float32) ** 2
    r_dc2 = real_radii[dc_k].astype(np.float32) ** 2
    f_pr2 = fake_r ** 2
    real_sq, fake_sq = _sq_norms(real), _sq_norms(fake)
    precise = 0
    density_hits = 0
    recalled = np.zeros(len(real), dtype=bool)
    nearest_fake = np.full(len(real), np.inf, dtype=np.float32)
    step = _chunk_rows(len(real))
    for s in range(0, len(fake), step):
        d = _sq_dists(fake[s:s + step], fake_sq[s:s + step], real, real_sq)  # (chunk, n_real)
        precise += int((d <= r_pr2[None, :]).any(axis=1).sum())
        density_hits += int((d <= r_dc2[None, :]).sum())
        recalled |= (d <= f_pr2[s:s + step, None]).any(axis=0)
        np.minimum(nearest_fake, d.min(axis=0), out=nearest_fake)
    return {
        "precision": precise / len(fake),
        "recall": float(recalled.mean()),
        "density": density_hits / (dc_k * len(fake)),
        "coverage": float((nearest_fake <= r_dc2).mean()),
    }


# --------------------------------------------------------------------------------------------------
# the real reference (test split) and the floor, cached per process
# --------------------------------------------------------------------------------------------------

def image_features(images, dataset: str = "mnist", value_range=None) -> tuple[np.ndarray, np.ndarray]:
    """Validated images -> (128-d classifier features, class probabilities)."""
    from gan_lab.classifier import classify

    return classify(to_unit_images(images, value_range), normalize_name(dataset))


class _Reference:
    """Features, statistics and k-NN radii of a dataset's test split."""

    def __init__(self, dataset: str):
        from gan_lab.classifier import classify

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


def evaluate(images_or_generator, dataset: str = "mnist", n: int | None = DEFAULT_N, *, value_range=None,
             noise_dim: int | None = None, output: str | None = None, seed: int = 0) -> dict:
    """Score generated images against ``dataset``'s test split.

    Args:
        images_or_generator: one of
            * an array of images: uint8 [0, 255] or float [0, 1] / [-1, 1], shape (N, 28, 28),
              (N, 28, 28, 1) or (N, 784). With more than ``n`` images a seeded random subset of ``n`` is
              used; with fewer, all of them (and a warning: compare with ``real_floor(dataset, N)``);
            * a Keras generator model (noise -> images): ``n`` samples from uniform [-1, 1] noise of size
              ``noise_dim`` (default ``model.input_shape[-1]``), outputs read as ``output``
              (``"tanh"`` -> [-1, 1], ``"sigmoid"`` -> [0, 1]; default: inferred like arrays);
            * any callable ``n -> images``.
        dataset: ``"mnist"`` or ``"fashion_mnist"`` (picks the classifier and the test split).
        n: number of generated images (default 10,000; ``None`` = all of an array).
        value_range: ``None`` (infer), ``"uint8"``, ``"unit"`` or ``"tanh"``: overrides the inference.
        noise_dim, output: for Keras generators, see above.
        seed: seeds the generator noise and the subset choice.

    Returns:
        ``{"fcd", "score", "modes", "class_kl", "precision", "recall", "density", "coverage"}``
        (``modes`` an int, the rest floats).

    Raises:
        MetricInputError (a ValueError) for unusable input, with what was wrong and how to fix it.
    """
    dataset = normalize_name(dataset)
    x = _gather_images(images_or_generator, n, value_range, noise_dim, output, seed)
    from gan_lab.classifier import classify

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
    from gan_lab.sampling import generate as generate_images

    if not _is_keras_model(generator) or len(generator.inputs) != 2:
        raise MetricInputError("conditional_accuracy needs a conditional generator with inputs [noise, label]")
    noise_dim = int(generator.inputs[0].shape[-1])
    rng = np.random.default_rng(seed)
    per_class = []
    for label in range(10):
        z = rng.uniform(-1.0, 1.0, size=(n_per_class, noise_dim)).astype(np.float32)
        images = to_unit_images(generate_images(generator, z, labels=label), _normalize_range(output))
        _, probs = image_features(images, dataset)
        per_class.append(float((np.asarray(probs).argmax(axis=1) == label).mean()))
    return {"accuracy": float(np.mean(per_class)), "per_class": per_class}


@functools.lru_cache(maxsize=None)
def _real_floor(dataset: str, n: int, seed: int) -> tuple:
    images = _train_images(dataset)
    if n > len(images):
        raise ValueError(f"real_floor: n={n} is larger than the {len(images)}-image training split")
    idx = np.sort(np.random.default_rng(seed).choice(len(images), size=n, replace=False))
    result = evaluate(images[idx], dataset, n=None)
    return tuple(result.items())


def real_floor(dataset: str = "mnist", n: int = DEFAULT_N, seed: int = 0) -> dict:
    """The metrics of ``n`` real training images (disjoint from the test split) vs the test split.

    This is what a perfect generator would score at this ``n``; cached per process.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < MIN_SAMPLES:
        raise ValueError(f"n must be an integer >= {MIN_SAMPLES}, got {n!r}")
    return dict(_real_floor(normalize_name(dataset), int(n), int(seed)))


def _fmt(key, value) -> str:
    if value is None:
        return "-"
    if key == "modes":
        return str(int(value))
    if key == "fcd":
        return f"{value:.3f}" if abs(value) < 1000 else f"{value:.1f}"
    return f"{value:.4f}"


def format_table(result: dict, floor: dict | None = None) -> str:
    """The metrics as a plain-text table, with the real-data floor beside each value when given."""
    header = ["metric", "value"] + (["real floor"] if floor is not None else []) + ["better", "meaning"]
    rows = []
    for key in METRIC_KEYS:
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

def _payload(result, floor, dataset, n, source, seconds) -> dict:
    from gan_lab.classifier import weights_info

    info = weights_info(dataset)
    return {
        "dataset": dataset, "n": int(n), "n_real": int(len(real_reference(dataset).features)),
        "source": str(source), "result": result, "floor": floor,
        "classifier": {"test_accuracy": info.get("test_accuracy"), "seed": info.get("seed")},
        "higher_is_better": dict(HIGHER_IS_BETTER), "seconds": round(float(seconds), 2),
    }


def _write_json(path: Path, payload: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    os.replace(tmp, path)
    return path


def evaluate_run(run_dir, n: int = DEFAULT_N, dataset: str | None = None, out=None, seed: int = 0) -> dict:
    """Evaluate the generator saved in a run folder and write ``metrics.json`` there (or to ``out``).

    The folder must hold ``preset.json`` (keys ``dataset``, ``noise_dim``, ``output``) and
    ``generator.keras``. ``dataset`` overrides the preset's. Returns the written payload:
    ``{"dataset", "n", "result", "floor", ...}``.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"{run_dir} is not a folder; expected a run folder holding preset.json and "
                         "generator.keras (or pass a .npy file of samples with --dataset)")
    preset_path, gen_path = run_dir / "preset.json", run_dir / "generator.keras"
    missing = [p.name for p in (preset_path, gen_path) if not p.is_file()]
    if missing:
        raise ValueError(f"{run_dir}: missing {' and '.join(missing)}; a run folder written by gan_lab "
                         "training holds preset.json and generator.keras")
    try:
        preset = json.loads(preset_path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{preset_path}: not valid JSON ({exc})") from None
    if not isinstance(preset, dict):
        raise ValueError(f"{preset_path}: expected a JSON object, got {type(preset).__name__}")
    dataset = dataset or preset.get("dataset")
    if not dataset:
        raise ValueError(f"{preset_path} has no 'dataset'; pass --dataset mnist or --dataset fashion_mnist")
    dataset = normalize_name(dataset)
    output = preset.get("output", "tanh")
    if output not in ("tanh", "sigmoid"):
        raise ValueError(f"{preset_path}: 'output' is {output!r}, expected 'tanh' or 'sigmoid'")
    noise_dim = preset.get("noise_dim")
    try:  # custom layers, if any, register themselves when gan_lab.models is imported
        import gan_lab.models  # noqa: F401
    except Exception:
        pass
    try:
        generator = keras.saving.load_model(gen_path, safe_mode=True, compile=False)
    except Exception as exc:
        raise ValueError(f"{gen_path}: cannot load the generator ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    start = time.perf_counter()
    result = evaluate(generator, dataset, n=n, noise_dim=noise_dim, output=output, seed=seed)
    floor = real_floor(dataset, n)
    payload = _payload(result, floor, dataset, n, run_dir, time.perf_counter() - start)
    if len(generator.inputs) == 2:
        payload["conditional_accuracy"] = conditional_accuracy(generator, dataset, output=output, seed=seed)
    payload["path"] = str(_write_json(Path(out) if out else run_dir / "metrics.json", payload))
    return payload


def evaluate_file(path_npy, dataset: str | None = None, n: int | None = DEFAULT_N, out=None,
                  value_range=None, seed: int = 0) -> dict:
    """Evaluate images saved with ``np.save`` and write ``<name>.metrics.json`` beside them (or to ``out``).

    The file is read with ``allow_pickle=False``. ``n=None`` uses every image; the floor is computed at the
    number of images actually evaluated.
    """
    path = Path(path_npy)
    if path.suffix.lower() != ".npy":
        raise ValueError(f"{path}: expected a .npy file of images (saved with np.save) or a run folder")
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    if not dataset:
        raise ValueError(f"{path}: say which dataset the samples imitate: --dataset mnist or "
                         "--dataset fashion_mnist")
    dataset = normalize_name(dataset)
    try:
        images = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise ValueError(f"{path}: cannot read it as a .npy array without pickle ({exc})") from None
    start = time.perf_counter()
    x = to_unit_images(images, value_range)  # clear errors before anything else
    if n is not None and (isinstance(n, bool) or int(n) < MIN_SAMPLES):
        raise ValueError(f"n must be an integer >= {MIN_SAMPLES}, got {n!r}")
    n_used = len(x) if n is None else min(int(n), len(x))
    result = evaluate(x, dataset, n=n_used, value_range="unit", seed=seed)
    floor = real_floor(dataset, n_used)
    payload = _payload(result, floor, dataset, n_used, path, time.perf_counter() - start)
    target = Path(out) if out else path.with_name(path.stem + ".metrics.json")
    payload["path"] = str(_write_json(target, payload))
    return payload


def add_evaluate_parser(subparsers):
    """Add the ``evaluate`` sub-command to an ``argparse`` sub-parsers object; returns the parser."""
    p = subparsers.add_parser(
        "evaluate", help="score a run's generator (or a .npy of samples) with FCD, precision/recall, ...",
        description="Score generated images against the test split with gan_lab's classifier metrics "
                    "(FCD, classifier score, modes, class KL, precision, recall, density, coverage); "
                    "prints a table with the real-data floor and writes metrics.json.")
    p.add_argument("target", help="a run folder (preset.json + generator.keras) or a .npy file of images")
    p.add_argument("--dataset", default=None,
                   help="mnist or fashion_mnist (required for .npy files; default for runs: the preset's)")
    p.add_argument("--n", type=int, default=DEFAULT_N, help=f"generated images to score (default {DEFAULT_N})")
    p.add_argument("--out", default=None,
                   help="where to write the JSON (default: RUN_DIR/metrics.json or FILE.metrics.json)")
    p.add_argument("--value-range", default=None, choices=VALUE_RANGES,
                   help=".npy files: the pixel range if inference (min < 0 -> [-1, 1]) is not wanted")
    p.set_defaults(func=run_evaluate_command)
    return p


def run_evaluate_command(args) -> int:
    """Run ``evaluate`` for parsed ``args`` (``target``, ``dataset``, ``n``, ``out``); print the table."""
    target = Path(args.target)
    n = getattr(args, "n", DEFAULT_N)
    if target.is_dir():
        payload = evaluate_run(target, n=n, dataset=getattr(args, "dataset", None), out=getattr(args, "out", None))
    elif target.suffix.lower() == ".npy":
        payload = evaluate_file(target, getattr(args, "dataset", None), n=n, out=getattr(args, "out", None),
                                value_range=getattr(args, "value_range", None))
    elif not target.exists():
        raise ValueError(f"{target}: no such run folder or .npy file")
    else:
        raise ValueError(f"{target}: expected a run folder (preset.json + generator.keras) or a .npy file")
    print(f"{payload['source']}: {payload['dataset']}, {payload['n']} generated vs {payload['n_real']} "
          f"test images (real floor: {payload['n']} training images vs the same test images)")
    print(format_table(payload["result"], payload["floor"]))
    if "conditional_accuracy" in payload:
        acc = payload["conditional_accuracy"]
        print(f"conditional accuracy (samples drawn for label L classified as L): {acc['accuracy']:.3f}; per class "
              + " ".join(f"{a:.2f}" for a in acc["per_class"]))
    print(f"wrote {payload['path']} ({payload['seconds']:.1f} s)")
    return 0


# --------------------------------------------------------------------------------------------------
# during training: a quality-vs-time curve
# --------------------------------------------------------------------------------------------------

class QualityCallback(keras.callbacks.Callback):
    """Score a sample every N epochs and/or every N seconds; write ``quality.csv`` and ``quality.png``.

    Args:
        sample_fn: ``n -> images`` in [0, 1] (n, 28, 28) (other accepted ranges are inferred too);
            :func:`make_sampler` builds one with fixed noise from a Keras generator.
        dataset: ``"mnist"`` or ``"fashion_mnist"``.
        out_dir: folder for ``quality.csv`` and ``quality.png`` (created).
        every_epochs: score after every ``every_epochs``-th epoch.
        every_seconds: score after the first batch that ends ``every_seconds`` of training time after the
            last score. With neither set, every epoch.
        n: images per score (default 2,000: faster, but FCD is biased up; the ``floor_*`` columns hold
            the real-data floor at the same ``n``).
        append: keep the rows of an existing ``quality.csv`` (resuming a run) instead of starting afresh.
        final: score once more at the end of training unless the last batch was just scored.

    Elapsed time counts training only: the callback's own scoring time is excluded. Outside ``fit``
    (a custom loop) call :meth:`score_now` yourself; time then runs from construction.
    """

    COLUMNS = ("seconds", "step", "epoch") + METRIC_KEYS + ("eval_seconds",)

    def __init__(self, sample_fn, dataset: str = "mnist", out_dir=".", every_epochs: int | None = None,
                 every_seconds: float | None = None, n: int = 2000, append: bool = False,
                 final: bool = True, verbose: bool = True):
        super().__init__()
        if not callable(sample_fn):
            raise ValueError(f"sample_fn must be a callable n -> images, got {type(sample_fn).__name__}")
        if every_epochs is not None and int(every_epochs) < 1:
            raise ValueError(f"every_epochs must be >= 1, got {every_epochs}")
        if every_seconds is not None and float(every_seconds) <= 0:
            raise ValueError(f"every_seconds must be > 0, got {every_seconds}")
        if every_epochs is None and every_seconds is None:
            every_epochs = 1
        self.sample_fn = sample_fn
        self.dataset = normalize_name(dataset)
        self.out_dir = Path(out_dir)
        self.every_epochs = None if every_epochs is None else int(every_epochs)
        self.every_seconds = None if every_seconds is None else float(every_seconds)
        self.n = int(n)
        self.final = final
        self.verbose = verbose
        self.csv_path = self.out_dir / "quality.csv"
        self.png_path = self.out_dir / "quality.png"
        self.rows: list[dict] = []
        if append and self.csv_path.is_file():
            with open(self.csv_path, newline="") as fh:
                self.rows = [{k: float(v) for k, v in r.items() if v not in (None, "")}
                             for r in csv.DictReader(fh)]
        self._fresh = not (append and self.rows)
        self._offset = self.rows[-1]["seconds"] if self.rows else 0.0
        self._clock = 0.0          # training seconds accumulated while paused
        self._since = time.perf_counter()  # running since (None when paused)
        self._fit_seen = False
        self._step = int(self.rows[-1]["step"]) if self.rows else 0
        self._epoch = 0
        self._steps_per_epoch = None
        self._last_scored_step = None
        self._last_score_time = 0.0
        self.floor = None
        self._floor_n = None
        self._epoch_index = 0

    # -- time keeping --------------------------------------------------------------------------
    def elapsed(self) -> float:
        """Training seconds so far, scoring time excluded (plus the last row's time when appending)."""
        running = 0.0 if self._since is None else time.perf_counter() - self._since
        return self._offset + self._clock + running

    def on_train_begin(self, logs=None):
        if not self._fit_seen:
            self._clock, self._fit_seen = 0.0, True
        self._since = time.perf_counter()
        self._steps_per_epoch = (self.params or {}).get("steps")
        self._last_score_time = self.elapsed() if not self.rows else self.rows[-1]["seconds"]

    def on_train_end(self, logs=None):
        if self.final and self._last_scored_step != self._step:
            self.score_now(self._step, self._epoch)
        if self._since is not None:
            self._clock += time.perf_counter() - self._since
            self._since = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_index = epoch

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self.every_seconds is not None and self.elapsed() - self._last_score_time >= self.every_seconds:
            epoch = getattr(self, "_epoch_index", 0)
            if self._steps_per_epoch:
                epoch = epoch + (batch + 1) / self._steps_per_epoch
            self.score_now(self._step, epoch)

    def on_epoch_end(self, epoch, logs=None):
        self._epoch = epoch + 1
        if self.every_epochs is not None and (epoch + 1) % self.every_epochs == 0 \
                and self._last_scored_step != self._step:
            self.score_now(self._step, epoch + 1)

    # -- scoring -------------------------------------------------------------------------------
    def score_now(self, step: int = 0, epoch: float = 0) -> dict:
        """Score a fresh sample now, append a row to ``quality.csv``, redraw ``quality.png``; returns the row."""
        seconds = self.elapsed()
        start = time.perf_counter()
        images = to_unit_images(self.sample_fn(self.n))
        n_used = min(self.n, len(images))
        result = evaluate(images, self.dataset, n=n_used, value_range="unit")
        if self.floor is None or self._floor_n != n_used:
            self.floor, self._floor_n = real_floor(self.dataset, n_used), n_used
        row = {"seconds": round(seconds, 3), "step": int(step), "epoch": round(float(epoch), 4)}
        row.update(result)
        row["eval_seconds"] = round(time.perf_counter() - start, 3)
        self.rows.append(row)
        self._write_csv(row)
        self._plot()
        spent = time.perf_counter() - start
        if self._since is not None:
            self._since += spent  # exclude the scoring time from the training clock
        self._last_scored_step = int(step)
        self._last_score_time = seconds
        if self.verbose:
            print(f"[quality] {seconds:7.1f}s step {step} epoch {float(epoch):g}: fcd {result['fcd']:.3f} "
                  f"score {result['score']:.2f} modes {result['modes']} precision {result['precision']:.3f} "
                  f"recall {result['recall']:.3f} (scored in {spent:.1f}s)", flush=True)
        return row

    def _write_csv(self, row):
        self.out_dir.mkdir(parents=True, exist_ok=True)
        fresh = self._fresh or not self.csv_path.is_file()
        with open(self.csv_path, "w" if fresh else "a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=self.COLUMNS)
            if fresh:
                writer.writeheader()
            writer.writerow({k: row.get(k) for k in self.COLUMNS})
        self._fresh = False

    def _plot(self):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        t = [r["seconds"] for r in self.rows]
        fig = Figure(figsize=(10, 7), dpi=90)
        FigureCanvasAgg(fig)
        panels = [("fcd", ("fcd",), "FCD (lower is better)"), ("score", ("score",), "classifier score"),
                  ("pr", ("precision", "recall"), "precision / recall (k=3)"),
                  ("dc", ("density", "coverage"), "density / coverage (k=5)")]
        for i, (_, keys, title) in enumerate(panels):
            ax = fig.add_subplot(2, 2, i + 1)
            for key, color in zip(keys, ("tab:blue", "tab:orange")):
                ax.plot(t, [r[key] for r in self.rows], "o-", color=color, ms=3, label=key)
                if self.floor is not None:
                    ax.axhline(self.floor[key], color=color, ls="--", lw=1, label=f"{key}, real floor")
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("training seconds (scoring excluded)")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        fig.suptitle(f"{self.dataset}: sample quality vs training time (n={self.n})")
        fig.subplots_adjust(left=0.07, right=0.98, bottom=0.08, top=0.9, hspace=0.4, wspace=0.2)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        fig.savefig(self.png_path)
