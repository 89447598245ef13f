"""Tests of gan_lab.metrics, the pure metric functions, against formulas computed independently here."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from gan_lab import metrics


@pytest.fixture(params=["scipy", "eigen-decomposition"])
def sqrtm_backend(request, monkeypatch):
    """Run a test with SciPy's sqrtm and again with the fallback used when SciPy is not installed."""
    if request.param == "scipy":
        pytest.importorskip("scipy")
    else:
        monkeypatch.setattr(metrics, "_scipy_linalg", None)
    return request.param


def _sqrtm_2x2(m):
    """The closed-form principal square root of a 2 × 2 matrix: (M + √det(M)·I) / √(tr M + 2√det(M))."""
    s = math.sqrt(np.linalg.det(m))
    return (m + s * np.eye(2)) / math.sqrt(np.trace(m) + 2 * s)


def _psd_sqrt(m):
    """Square root of a symmetric positive semi-definite matrix through its eigen-decomposition."""
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def _w2_gaussians(mu1, s1, mu2, s2):
    """Squared 2-Wasserstein distance between two Gaussians in its symmetric form (Dowson & Landau 1982):
    ‖μ1−μ2‖² + Tr(Σ1 + Σ2 − 2 (Σ1^½ Σ2 Σ1^½)^½), with no square root of a non-symmetric matrix."""
    r1 = _psd_sqrt(s1)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(_psd_sqrt(r1 @ s2 @ r1)))


# ------------------------------------------------------------------------------------------------
# the matrix square root and the Fréchet distance
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("m", [
    np.array([[4.0, 1.0], [1.0, 3.0]]),                                             # symmetric positive definite
    np.array([[2.0, 0.5], [0.5, 1.0]]) @ np.array([[1.0, -0.3], [-0.3, 0.5]]),     # non-symmetric product Σ1Σ2
    np.array([[9.0, 0.0], [0.0, 0.25]]),                                             # diagonal: roots 3 and 0.5
], ids=["spd", "product", "diagonal"])
def test_sqrtm_matches_the_2x2_closed_form(m, sqrtm_backend):
    root = metrics.sqrtm(m)
    np.testing.assert_allclose(np.real_if_close(root), _sqrtm_2x2(m), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose((root @ root).real, m, rtol=1e-10, atol=1e-12)


def test_sqrtm_of_a_product_of_covariances_in_8_dimensions(sqrtm_backend):
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(8, 8)), rng.normal(size=(8, 8))
    product = (a @ a.T + 0.1 * np.eye(8)) @ (b @ b.T + 0.1 * np.eye(8))
    assert not np.allclose(product, product.T)
    root = metrics.sqrtm(product)
    np.testing.assert_allclose((root @ root).real, product, rtol=1e-6, atol=1e-8)
    # the principal root: its eigenvalues are the square roots of the product's (all real and positive)
    np.testing.assert_allclose(np.sort(np.linalg.eigvals(root).real),
                               np.sort(np.sqrt(np.linalg.eigvals(product).real)), rtol=1e-6)


@pytest.mark.parametrize("mu1,sd1,mu2,sd2", [(0.0, 1.0, 0.0, 1.0), (1.0, 2.0, -0.5, 0.5),
                                             (3.0, 0.1, 3.0, 4.0), (-2.0, 1.0, 5.0, 1.0)])
def test_frechet_distance_of_1d_gaussians_is_the_closed_form(mu1, sd1, mu2, sd2, sqrtm_backend):
    # N(μ1, σ1²) vs N(μ2, σ2²): (μ1 − μ2)² + (σ1 − σ2)²
    expected = (mu1 - mu2) ** 2 + (sd1 - sd2) ** 2
    assert metrics.frechet_distance(mu1, sd1 ** 2, mu2, sd2 ** 2) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_frechet_distance_of_diagonal_covariances_is_the_closed_form(sqrtm_backend):
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=4), rng.normal(size=4)
    a, b = np.array([1.0, 2.0, 3.0, 4.0]), np.array([4.0, 1.0, 0.5, 4.0])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert metrics.frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-12)


def test_frechet_distance_of_non_commuting_2x2_covariances(sqrtm_backend):
    # Σ1Σ2 is not symmetric here; for 2 × 2 matrices Tr (Σ1Σ2)^½ = √(Tr Σ1Σ2 + 2√(det Σ1 det Σ2)).
    s1, s2 = np.array([[2.0, 0.5], [0.5, 1.0]]), np.array([[1.0, -0.3], [-0.3, 0.5]])
    mu1, mu2 = np.array([0.3, -1.0]), np.array([1.0, 1.0])
    tr_root = math.sqrt(np.trace(s1 @ s2) + 2 * math.sqrt(np.linalg.det(s1) * np.linalg.det(s2)))
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * tr_root
    assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-12)
    assert metrics.frechet_distance(mu2, s2, mu1, s1) == pytest.approx(expected, rel=1e-12)  # symmetric


def test_frechet_distance_matches_the_symmetric_form_in_6_dimensions(sqrtm_backend):
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
    s1, s2 = a @ a.T + np.eye(6), b @ b.T + 0.5 * np.eye(6)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    expected = _w2_gaussians(mu1, s1, mu2, s2)
    assert expected > 1.0
    assert metrics.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)
    assert metrics.frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_of_rank_deficient_covariances(sqrtm_backend):
    # Few samples and dead ReLU units give singular covariances: the value is still the Gaussians' distance.
    rng = np.random.default_rng(2)
    f1 = np.zeros((5, 16))
    f1[:, :3] = rng.normal(size=(5, 3))
    f2 = np.zeros((5, 16))
    f2[:, 2:6] = rng.normal(size=(5, 4))
    (mu1, s1), (mu2, s2) = metrics.feature_stats(f1), metrics.feature_stats(f2)
    assert np.linalg.matrix_rank(s1) == 3 and np.linalg.matrix_rank(s2) == 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = metrics.frechet_distance(mu1, s1, mu2, s2)
    assert value == pytest.approx(_w2_gaussians(mu1, s1, mu2, s2), rel=1e-6)


def test_a_square_root_that_does_not_exist_is_retried_with_eps_on_the_diagonals():
    pytest.importorskip("scipy")  # the eigen-decomposition fallback finds a (wrong but finite) root here
    # Σ1Σ2 = [[0, 1], [0, 0]] has no square root; with eps·I added, (Σ1 + εI)(Σ2 + εI) is a Jordan block with
    # eigenvalue ε(1 + ε), whose root has trace 2√(ε(1 + ε)). The traces of the inputs are 0 and 2.
    eps = 1e-6
    with pytest.warns(RuntimeWarning, match="singular covariance product"):
        value = metrics.frechet_distance([0.0, 0.0], [[0.0, 1.0], [0.0, 0.0]], [0.0, 0.0], np.eye(2), eps=eps)
    assert value == pytest.approx(2.0 - 4.0 * math.sqrt(eps * (1 + eps)), rel=1e-6)


def test_frechet_distance_rejects_mismatched_or_invalid_covariances():
    with pytest.raises(ValueError, match="shapes differ"):
        metrics.frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="imaginary component"):  # (−I)·I has the root i·I
        metrics.frechet_distance(np.zeros(2), -np.eye(2), np.zeros(2), np.eye(2))


def test_feature_stats_are_the_sample_mean_and_unbiased_covariance():
    f = np.array([[1.0, 2.0], [3.0, 0.0], [5.0, 4.0], [7.0, 2.0]])
    mu, sigma = metrics.feature_stats(f)
    np.testing.assert_allclose(mu, [4.0, 2.0])
    centred = f - [4.0, 2.0]
    np.testing.assert_allclose(sigma, centred.T @ centred / 3)
    np.testing.assert_allclose(sigma, [[20 / 3, 4 / 3], [4 / 3, 8 / 3]])


# ------------------------------------------------------------------------------------------------
# classifier score and modes
# ------------------------------------------------------------------------------------------------

def test_classifier_score_extremes():
    eye = np.eye(10)
    assert metrics.classifier_score(np.tile(eye, (50, 1))) == pytest.approx((10.0, 0.0), abs=1e-6)
    assert metrics.classifier_score(np.tile(eye[3], (500, 1)))[0] == pytest.approx(1.0, rel=1e-6)
    assert metrics.classifier_score(np.full((500, 10), 0.1))[0] == pytest.approx(1.0, rel=1e-6)


def test_classifier_score_of_soft_predictions_is_the_closed_form():
    # Half the samples p(y|x) = (0.75, 0.25), half (0.25, 0.75): p(y) = (0.5, 0.5) and every
    # KL(p(y|x) ‖ p(y)) = 0.75 ln 1.5 + 0.25 ln 0.5.
    probs = np.array([[0.75, 0.25], [0.25, 0.75]] * 50)
    expected = math.exp(0.75 * math.log(1.5) + 0.25 * math.log(0.5))
    assert metrics.classifier_score(probs, splits=1) == pytest.approx((expected, 0.0), rel=1e-12)
    # Splits take p(y) per split: a split holding only one kind of sample scores exp(0) = 1.
    one_kind_per_split = np.array([[0.75, 0.25]] * 50 + [[0.25, 0.75]] * 50)
    assert metrics.classifier_score(one_kind_per_split, splits=2) == pytest.approx((1.0, 0.0), rel=1e-12)
    mean, std = metrics.classifier_score(np.array([[0.75, 0.25], [0.25, 0.75]] * 50 + [[0.75, 0.25]] * 100), 2)
    assert mean == pytest.approx((expected + 1.0) / 2, rel=1e-12) and std == pytest.approx((expected - 1) / 2)


def test_mode_stats_counts_classes_above_the_threshold_and_the_kl_to_uniform():
    eye = np.eye(10)
    modes, kl, hist = metrics.mode_stats(np.tile(eye, (50, 1)))
    assert modes == 10 and kl == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(hist, np.full(10, 0.1))
    modes, kl, _ = metrics.mode_stats(np.tile(eye[3], (500, 1)))
    assert modes == 1 and kl == pytest.approx(np.log(10))
    # 2% threshold: a class with 1% of the samples is not a mode, one with 3% is.
    labels = np.r_[np.zeros(96), [1], np.full(3, 2)].astype(int)
    modes, kl, hist = metrics.mode_stats(eye[labels])
    assert modes == 2
    np.testing.assert_allclose(hist[:3], [0.96, 0.01, 0.03])
    assert kl == pytest.approx(sum(h * math.log(10 * h) for h in (0.96, 0.01, 0.03)))
    assert metrics.mode_stats(eye[labels], threshold=0.01)[0] == 3


# ------------------------------------------------------------------------------------------------
# k-NN radii, precision / recall, density / coverage
# ------------------------------------------------------------------------------------------------

def _dist(a, b):
    return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))


def _brute_prdc(real, fake, k_pr, k_dc):
    drr, dff, dfr = _dist(real, real), _dist(fake, fake), _dist(fake, real)
    r_pr = np.sort(drr, axis=1)[:, k_pr]
    r_dc = np.sort(drr, axis=1)[:, k_dc]
    f_pr = np.sort(dff, axis=1)[:, k_pr]
    return {
        "precision": (dfr <= r_pr[None, :]).any(axis=1).mean(),
        "recall": (dfr <= f_pr[:, None]).any(axis=0).mean(),
        "density": (dfr <= r_dc[None, :]).sum() / (k_dc * len(fake)),
        "coverage": (dfr.min(axis=0) <= r_dc).mean(),
    }


def test_knn_radii_are_the_kth_neighbour_distances(monkeypatch):
    points = np.array([[0.0], [1.0], [3.0], [7.0]])  # on a line: the distances are easy to read
    radii = metrics.knn_radii(points, (1, 2))
    np.testing.assert_allclose(radii[1], [1.0, 1.0, 2.0, 4.0])
    np.testing.assert_allclose(radii[2], [3.0, 2.0, 3.0, 6.0])
    rng = np.random.default_rng(6)
    cloud = rng.normal(size=(200, 5))
    monkeypatch.setattr(metrics, "_CHUNK_ELEMENTS", 1000)  # 5 rows per chunk
    np.testing.assert_allclose(metrics.knn_radii(cloud, (3,))[3], np.sort(_dist(cloud, cloud), axis=1)[:, 3],
                               rtol=1e-5)
    with pytest.raises(ValueError, match="need more than k=4 samples"):
        metrics.knn_radii(points, (4,))


def test_manifold_metrics_match_brute_force_and_chunking_changes_nothing(monkeypatch):
    rng = np.random.default_rng(3)
    real = rng.normal(size=(300, 6))
    fake = rng.normal(loc=0.4, scale=1.3, size=(250, 6))
    expected = _brute_prdc(real, fake, 3, 5)
    got = metrics.manifold_metrics(real, fake)
    assert 0.2 < expected["precision"] < 1.0 and 0.2 < expected["coverage"] < 1.0  # not a degenerate case
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-9), key
    monkeypatch.setattr(metrics, "_CHUNK_ELEMENTS", 1000)  # ~3 rows per chunk
    assert metrics.manifold_metrics(real, fake) == got
    # precomputed real radii give the same numbers
    assert metrics.manifold_metrics(real, fake, metrics.knn_radii(real, (3, 5))) == got
    # A fake set far from the real one: nothing precise, nothing recalled.
    far = metrics.manifold_metrics(real, fake + 100.0)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}
