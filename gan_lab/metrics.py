"""Sample-quality metrics as pure NumPy functions of features (a classifier's or any network's) and class probabilities.

Nothing here reads files, loads models or draws samples: :mod:`gan_lab.evaluation` turns images, generators
and run folders into features and probabilities (with gan_lab's own classifiers) and calls these functions.

=========================  ==================================================================================
function                   metric
=========================  ==================================================================================
:func:`frechet_distance`   Fréchet distance between two Gaussians, FID's form (Heusel et al. 2017)
:func:`feature_stats`      the mean and covariance it compares
:func:`sqrtm`              the principal matrix square root it needs
:func:`classifier_score`   exp(E_x KL(p(y|x) ‖ p(y))), the Inception Score's form (Salimans et al. 2016)
:func:`mode_stats`         classes that receive samples, and KL(class histogram ‖ uniform)
:func:`knn_radii`          k-th nearest-neighbour distances within a set
:func:`manifold_metrics`   improved precision / recall (Kynkäänniemi et al. 2019) and density / coverage
                           (Naeem et al. 2020)
:func:`kernel_distance`    unbiased MMD² with a cubic polynomial kernel, KID's form (Bińkowski et al. 2018)
:func:`nearest_neighbours` the k nearest reference points of every query point
:func:`authenticity`       the share of samples that are not closer to a training point than its own
                           nearest other training point (Alaa et al. 2022): a check for copies
:func:`authenticity_floor` the same share for training points, each left out in turn (its real-data floor)
=========================  ==================================================================================
"""
from __future__ import annotations

import math
import warnings

import numpy as np

try:
    from scipy import linalg as _scipy_linalg
except ImportError:  # SciPy is not a gan_lab dependency: sqrtm falls back to an eigen-decomposition
    _scipy_linalg = None

PR_K = 3                     # k of improved precision / recall (Kynkäänniemi et al. 2019)
DC_K = 5                     # k of density / coverage (Naeem et al. 2020)
MODE_THRESHOLD = 0.02        # a class is a mode when it receives at least 2% of the samples
SCORE_SPLITS = 10            # the classifier score is averaged over 10 splits, as the Inception Score
FCD_EPS = 1e-6               # added to both covariances' diagonals when sqrtm(Σ1Σ2) is not finite
_CHUNK_ELEMENTS = 10_000_000  # distance-matrix entries held at once (40 MB as float32)


def _sqrtm_eig(matrix):
    """Principal square root by eigen-decomposition (V diag(sqrt(λ)) V⁻¹); complex, possibly non-finite."""
    with np.errstate(all="ignore"):
        vals, vecs = np.linalg.eig(matrix)
        try:
            inv = np.linalg.inv(vecs)
        except np.linalg.LinAlgError:
            return np.full(matrix.shape, np.nan)
        return (vecs * np.sqrt(vals.astype(np.complex128))) @ inv


def sqrtm(matrix) -> np.ndarray:
    """Principal square root R of a square matrix M, the R with R·R = M and eigenvalues in the right half-plane.

    The Fréchet distance needs (Σ1Σ2)^½: a product of two covariances is not symmetric, so the root is taken
    of a general matrix. SciPy's ``scipy.linalg.sqrtm`` (a Schur method, as TTUR's ``fid.py`` for Heusel
    et al. 2017) is used when SciPy is installed, else the eigen-decomposition V·diag(√λ)·V⁻¹ (SciPy is not a
    gan_lab dependency). The result may be complex (round-off on a near-singular product) or non-finite;
    :func:`frechet_distance` handles both.
    """
    if _scipy_linalg is None:
        return _sqrtm_eig(matrix)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return _scipy_linalg.sqrtm(matrix)


def trace_sqrt_product(sigma1, sigma2) -> float:
    """Tr((Σ1Σ2)^½) for symmetric positive semi-definite Σ1, Σ2, through symmetric eigen-decompositions.

    Σ1Σ2 is similar to the symmetric PSD matrix S = Σ1^½ Σ2 Σ1^½ (S = Σ1^½ (Σ1Σ2) Σ1^-½ on the range of Σ1), so
    the eigenvalues of Σ1Σ2 are those of S, all ≥ 0, and Tr((Σ1Σ2)^½) = Σ_i √λ_i(S). Two ``eigh`` calls instead
    of a general matrix square root: about 50× faster at 960 dimensions (10 s → 0.2 s here), and no
    imaginary round-off to drop. Tiny negative eigenvalues from round-off count as 0."""
    vals, vecs = np.linalg.eigh(np.asarray(sigma1, np.float64))
    root1 = (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T
    inner = root1 @ np.asarray(sigma2, np.float64) @ root1
    return float(np.sqrt(np.clip(np.linalg.eigvalsh((inner + inner.T) / 2.0), 0.0, None)).sum())


def frechet_distance(mu1, sigma1, mu2, sigma2, eps: float = FCD_EPS, method: str = "sqrtm") -> float:
    """Fréchet distance between the Gaussians N(μ1, Σ1) and N(μ2, Σ2), in the form of FID.

    Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium"
    (https://arxiv.org/abs/1706.08500), compare the Gaussians fitted to two sets of network features with

        d² = ‖μ1 − μ2‖² + Tr(Σ1 + Σ2 − 2 (Σ1 Σ2)^½)

    (the squared 2-Wasserstein distance between the two Gaussians). Safeguards as in TTUR's ``fid.py``: if
    (Σ1Σ2)^½ is not finite (a near-singular product), ``eps``·I is added to both covariances and it is
    retried; a small imaginary part from round-off is dropped.

    Args:
        mu1, mu2: means, shape (D,) (a scalar is read as D = 1).
        sigma1, sigma2: covariances, shape (D, D) (a scalar is read as a 1 × 1 variance).
        eps: the diagonal offset of the retry.
        method: ``"sqrtm"`` (the general matrix square root, as TTUR's ``fid.py``; the FCD uses it) or ``"eigh"``
            (:func:`trace_sqrt_product`, for covariances: the same value, much faster in high dimension).

    Returns:
        d² as a float (tiny negative round-off is returned as 0).

    Raises:
        ValueError: the shapes of the two Gaussians differ, or (Σ1Σ2)^½ has a large imaginary part
            (diagonal imaginary part above 1e-3: the covariances are not valid covariance matrices).
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"mean/covariance shapes differ: {mu1.shape} vs {mu2.shape}, "
                         f"{sigma1.shape} vs {sigma2.shape}; both Gaussians need the same dimension")
    diff = mu1 - mu2
    if method == "eigh":
        value = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt_product(sigma1, sigma2))
        return max(value, 0.0)
    if method != "sqrtm":
        raise ValueError(f"method = {method!r} is invalid: expected 'sqrtm' or 'eigh'")
    covmean = sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        warnings.warn(f"FCD: singular covariance product; adding {eps} to the diagonal of both covariances",
                      RuntimeWarning, stacklevel=2)
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"FCD: imaginary component {np.max(np.abs(covmean.imag)):.3g} in sqrtm(S1 S2): "
                             "expected symmetric positive semi-definite covariances (e.g. from feature_stats)")
        covmean = covmean.real
    value = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))
    return max(value, 0.0) if value > -1e-6 else value


def feature_stats(features) -> tuple[np.ndarray, np.ndarray]:
    """The Gaussian that :func:`frechet_distance` fits to a set of features (Heusel et al. 2017).

        μ = (1/N) Σ_i f_i,    Σ = 1/(N − 1) Σ_i (f_i − μ)(f_i − μ)ᵀ

    Args:
        features: (N, D) array, one row per image.

    Returns:
        ``(mean (D,), covariance (D, D))`` in float64.
    """
    f = np.asarray(features, np.float64)
    return f.mean(axis=0), np.cov(f, rowvar=False)


def classifier_score(probs, splits: int = SCORE_SPLITS) -> tuple[float, float]:
    """The Inception Score's form on any classifier's class probabilities.

    Salimans et al. 2016, "Improved Techniques for Training GANs" (https://arxiv.org/abs/1606.03498):

        score = exp( E_x [ KL( p(y|x) ‖ p(y) ) ] ),    p(y) = E_x [ p(y|x) ]

    high when each sample is classified confidently (p(y|x) peaked) and the classes are balanced (p(y)
    flat); it lies between 1 and the number of classes. As in the paper's code, the samples are cut into
    ``splits`` parts, p(y) is the mean of each part, and the scores of the parts are averaged.

    Args:
        probs: (N, K) class probabilities p(y|x), rows summing to 1.
        splits: number of parts (at most N).

    Returns:
        ``(mean, std)`` of the score over the parts.
    """
    p = np.clip(np.asarray(probs, np.float64), 1e-12, 1.0)
    splits = max(1, min(int(splits), len(p)))
    scores = []
    for part in np.array_split(p, splits):
        py = part.mean(axis=0, keepdims=True)
        kl = (part * (np.log(part) - np.log(py))).sum(axis=1).mean()
        scores.append(math.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))


def mode_stats(probs, threshold: float = MODE_THRESHOLD) -> tuple[int, float, np.ndarray]:
    """How many classes a set of samples covers, and how unevenly (mode collapse in two numbers).

    With h_c the share of samples whose most probable class (argmax of p(y|x)) is c, out of K classes:

        modes    = #{c : h_c ≥ threshold}
        class_kl = KL(h ‖ uniform) = Σ_c h_c · log(K · h_c)      (nats; 0 balanced, log K one class)

    Args:
        probs: (N, K) class probabilities.
        threshold: the share of the samples a class needs to count as a mode (default 2%).

    Returns:
        ``(modes, class_kl, h)`` with ``h`` the class histogram (K,) summing to 1.
    """
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
    """The k-NN radius of every point: the distance to its k-th nearest neighbour in the same set.

    Kynkäänniemi et al. 2019 (https://arxiv.org/abs/1904.06991) approximate a set's manifold by the union
    of the balls B(φ_i, NND_k(φ_i)), NND_k(φ_i) = ‖φ_i − φ_(k)‖ with φ_(k) the k-th nearest other point
    (the point itself excluded). Computed in row chunks so memory stays bounded (about 10 M distances at a
    time).

    Args:
        features: (N, D) array.
        ks: the k values wanted (each < N).

    Returns:
        ``{k: radii (N,) float32}``.

    Raises:
        ValueError: a k is not smaller than N.
    """
    f = np.ascontiguousarray(features, dtype=np.float32)
    ks = sorted({int(k) for k in ks})
    if ks[-1] >= len(f):
        raise ValueError(f"need more than k={ks[-1]} samples for k-NN radii, got {len(f)}; "
                         "pass more samples or a smaller k")
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
    """Improved precision / recall and density / coverage of fake features against real ones.

    With real features X_1..X_N, fake features Y_1..Y_M, B(x, r) the ball of radius r around x and
    NND_k the k-NN radius within a point's own set (:func:`knn_radii`):

    * precision and recall, Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for Assessing
      Generative Models" (https://arxiv.org/abs/1904.06991), k = ``pr_k``:

          precision = (1/M) Σ_j 1[ ∃ i : Y_j ∈ B(X_i, NND_k(X_i)) ]
          recall    = (1/N) Σ_i 1[ ∃ j : X_i ∈ B(Y_j, NND_k(Y_j)) ]

    * density and coverage, Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for Generative
      Models" (https://arxiv.org/abs/2002.09797), k = ``dc_k``:

          density  = 1/(k·M) Σ_j Σ_i 1[ Y_j ∈ B(X_i, NND_k(X_i)) ]
          coverage = (1/N) Σ_i 1[ ∃ j : Y_j ∈ B(X_i, NND_k(X_i)) ]

    Distances are computed in chunks (about 10 M at a time), so memory stays bounded whatever N and M.

    Args:
        real_features: (N, D) array.
        fake_features: (M, D) array.
        real_radii: precomputed ``knn_radii(real_features, (pr_k, dc_k))`` (computed when missing).
        pr_k, dc_k: the k of precision/recall and of density/coverage.

    Returns:
        ``{"precision", "recall", "density", "coverage"}`` (density can exceed 1; the others are shares).
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


def nearest_neighbours(queries, references, k: int = 1, exclude=None) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest reference points of every query point, by Euclidean distance, nearest first.

    Args:
        queries: (M, D) array.
        references: (N, D) array.
        k: how many neighbours (1 <= k <= N, or N - 1 with ``exclude``).
        exclude: optional (M,) reference indices, one per query, never returned for it (a query that is
            itself a reference point: its nearest *other* points, as :func:`knn_radii` excludes the point).

    Returns:
        ``(indices (M, k) int64, distances (M, k) float32)``. Computed in row chunks (about 10 M distances at
        a time), so memory stays bounded.

    Raises:
        ValueError: k is out of range, or the dimensions or ``exclude`` do not match.
    """
    q = np.ascontiguousarray(queries, dtype=np.float32).reshape(len(queries), -1)
    r = np.ascontiguousarray(references, dtype=np.float32).reshape(len(references), -1)
    most = len(r) - (exclude is not None)
    if isinstance(k, bool) or not 1 <= int(k) <= most:
        raise ValueError(f"k = {k} is invalid: expected 1 to {most} for {len(r)} reference points"
                         f"{' (one excluded per query)' if exclude is not None else ''}")
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"queries have {q.shape[1]} dimensions but references {r.shape[1]}: expected the same "
                         "features (or pictures of the same shape) on both sides")
    if exclude is not None:
        exclude = np.asarray(exclude, dtype=np.int64)
        if exclude.shape != (len(q),):
            raise ValueError(f"exclude has shape {exclude.shape}: expected one reference index per query ({len(q)},)")
    k = int(k)
    q_sq, r_sq = _sq_norms(q), _sq_norms(r)
    indices, distances = np.empty((len(q), k), np.int64), np.empty((len(q), k), np.float32)
    step = _chunk_rows(len(r))
    for s in range(0, len(q), step):
        d = _sq_dists(q[s:s + step], q_sq[s:s + step], r, r_sq)
        if exclude is not None:
            d[np.arange(len(d)), exclude[s:s + step]] = np.inf
        indices[s:s + step] = np.argpartition(d, k - 1, axis=1)[:, :k] if k < len(r) else np.arange(len(r))
    # ‖a‖² + ‖b‖² − 2a·b loses precision in float32 (an exact copy came out 0.1 away in 12,288 pixels): the
    # distances to the k found are computed again from the differences, and sorted by them
    step = _chunk_rows(k * q.shape[1])
    for s in range(0, len(q), step):
        diff = q[s:s + step, None, :] - r[indices[s:s + step]]
        distances[s:s + step] = np.sqrt(np.einsum("mkd,mkd->mk", diff, diff))
    order = np.argsort(distances, axis=1, kind="stable")
    return np.take_along_axis(indices, order, axis=1), np.take_along_axis(distances, order, axis=1)


def authenticity(train_features, sample_features) -> dict:
    """How many samples are *not* copies of training points, and how close to them the samples lie.

    Alaa et al. 2022, "How Faithful is your Synthetic Data? Sample-level Metrics for Evaluating and Auditing
    Generative Models" (https://arxiv.org/abs/2102.08921; ICML 2022): with x*(g) the training point nearest
    to a sample g and NND(x) the distance from a training point x to its nearest *other* training point,

        authenticity = (1/M) Σ_j 1[ ‖g_j − x*(g_j)‖ > NND(x*(g_j)) ]
        ratio_j      = ‖g_j − x*(g_j)‖ / NND(x*(g_j))

    A sample nearer to a training point than that point's own nearest neighbour is a possible copy. The
    share is not 1 even for new pictures of the same data (held-out real pictures fall inside those balls
    too): read it against the same share for held-out real pictures, never on its own.

    Args:
        train_features: (N, D) features (or flattened pixels) of the training pictures, N >= 2.
        sample_features: (M, D) of the samples.

    Returns:
        ``{"authenticity": share, "median_ratio": the median of ratio_j, "median_distance": the median of
        ‖g_j − x*(g_j)‖}``. A generator that copies scores all three far below real pictures (a copy lies at
        distance 0); a collapsed one that draws one blob near an isolated training picture can score a low
        share too, at a distance like real pictures': look at the pictures.
    """
    train = np.ascontiguousarray(train_features, dtype=np.float32).reshape(len(train_features), -1)
    if len(train) < 2:
        raise ValueError(f"authenticity needs at least 2 training points, got {len(train)}")
    nearest, dist = nearest_neighbours(sample_features, train, 1)
    hit = np.unique(nearest[:, 0])
    _, own = nearest_neighbours(train[hit], train, 1, exclude=hit)
    radius = np.empty(len(train), np.float32)
    radius[hit] = own[:, 0]
    return _authenticity_scores(dist[:, 0], radius[nearest[:, 0]])


def authenticity_floor(train_features, queries) -> dict:
    """:func:`authenticity` of real pictures that are not copies: training points, each left out in turn.

    For training point i (``queries`` lists which) the training set is every *other* point: x*(i) is i's
    nearest other point j, and NND(j) is j's nearest point other than j and i. So each real picture is scored
    as a new picture of the same data would be, against N − 1 training pictures; a generator that draws new
    pictures of that data scores about the same, one that copies scores lower.

    Args:
        train_features: (N, D) features (or flattened pixels) of the training pictures, N >= 3.
        queries: indices of the training points to leave out (e.g. a seeded subset of a large set).

    Returns:
        ``{"authenticity", "median_ratio", "median_distance"}`` as :func:`authenticity`.
    """
    train = np.ascontiguousarray(train_features, dtype=np.float32).reshape(len(train_features), -1)
    queries = np.asarray(queries, dtype=np.int64)
    if len(train) < 3 or len(queries) == 0:
        raise ValueError(f"authenticity_floor needs at least 3 training points and 1 query, got {len(train)} "
                         f"and {len(queries)}")
    nearest, dist = nearest_neighbours(train[queries], train, 1, exclude=queries)
    j = nearest[:, 0]
    second, second_d = nearest_neighbours(train[j], train, 2, exclude=j)
    radius = np.where(second[:, 0] == queries, second_d[:, 1], second_d[:, 0])  # j's nearest other than j and i
    return _authenticity_scores(dist[:, 0], radius)


def _authenticity_scores(d, radius) -> dict:
    """Distances of samples to their nearest training points, and those points' own k-NN radii → the scores."""
    ratio = d / np.maximum(radius, np.finfo(np.float32).tiny)
    return {"authenticity": float((d > radius).mean()), "median_ratio": float(np.median(ratio)),
            "median_distance": float(np.median(d))}


KID_SUBSETS = 100            # KID: mean over 100 random subsets, as Bińkowski et al.'s reference code
KID_SUBSET_SIZE = 1000       # ... of at most 1000 samples each
_KID_FULL_MATRIX = 3000      # up to this many points per set the kernel matrices are computed once (72 MB each)


def kernel_distance(real_features, fake_features, subsets: int = KID_SUBSETS, subset_size: int = KID_SUBSET_SIZE,
                    seed: int = 0) -> tuple[float, float]:
    """Kernel distance, the form of KID (Bińkowski et al. 2018, "Demystifying MMD GANs",
    https://arxiv.org/abs/1801.01401): the unbiased estimate of the squared maximum mean discrepancy with the
    cubic polynomial kernel k(x, y) = (xᵀy / d + 1)³ (d the feature dimension),

        MMD²_u = 1/(m(m−1)) Σ_{i≠j} k(x_i, x_j) + 1/(m(m−1)) Σ_{i≠j} k(y_i, y_j) − 2/m² Σ_{i,j} k(x_i, y_j),

    averaged over ``subsets`` random subsets of m = min(``subset_size``, N_real, N_fake) points of each set
    (when both sets have at most ``subset_size`` points, every subset would be the whole set: it is computed
    once). Unbiased, so unlike the Fréchet distance it does not grow as m shrinks: small data sets can use it.
    It can be slightly negative when the sets are alike.

    Args:
        real_features: (N, D); fake_features: (M, D).
        subsets, subset_size, seed: the subsets (drawn without replacement, seeded).

    Returns:
        ``(mean, std)`` over the subsets.
    """
    x, y = np.asarray(real_features, np.float64), np.asarray(fake_features, np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"kernel_distance needs two (N, D) feature arrays of the same D, got {x.shape} and {y.shape}")
    m = min(subset_size, len(x), len(y))
    if m < 2:
        raise ValueError(f"kernel_distance needs at least 2 points in each set, got {len(x)} and {len(y)}")
    d = x.shape[1]
    rng = np.random.default_rng(seed)
    whole = len(x) == len(y) == m
    kernel = lambda a, b: (a @ b.T / d + 1) ** 3
    # Small sets: the three kernel matrices once, then each subset is an index into them.
    full = None if max(len(x), len(y)) > _KID_FULL_MATRIX else (kernel(x, x), kernel(y, y), kernel(x, y))
    values = []
    for _ in range(1 if whole else subsets):
        ia = np.arange(len(x)) if whole else rng.choice(len(x), m, replace=False)
        ib = np.arange(len(y)) if whole else rng.choice(len(y), m, replace=False)
        if full is not None:
            kxx, kyy, kxy = full[0][np.ix_(ia, ia)], full[1][np.ix_(ib, ib)], full[2][np.ix_(ia, ib)]
        else:
            a, b = x[ia], y[ib]
            kxx, kyy, kxy = kernel(a, a), kernel(b, b), kernel(a, b)
        values.append((kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
                      - 2.0 * kxy.sum() / (m * m))
    return float(np.mean(values)), float(np.std(values))
