"""k-means clusters of the training images: the labels of a self-conditioned GAN (preset field ``clusters``).

Liu et al. 2020 ("Diverse Image Generation via Self-Conditioned GANs", CVPR) train a conditional GAN on
cluster ids instead of class labels: no labels are used, yet the generator gets the easier conditional task.
They cluster the discriminator's features and re-cluster during training; gan_lab clusters the images
themselves once, before training (pixels, shrunk to at most 32×32 by averaging), which is cheap: about 16 s
for MNIST's 60,000 images into 100 clusters on 2 CPU cores (benchmarks/kmeans_time.py).

k-means: Lloyd's algorithm (Lloyd 1982) from a k-means++ start (Arthur & Vassilvitskii 2007), seeded, numpy
only. This module knows nothing of TensorFlow or of runs.
"""
from __future__ import annotations

import numpy as np

MAX_SIDE = 32          # images are averaged down to at most this many pixels a side before clustering
ITERATIONS = 25        # Lloyd iterations (MNIST's assignments stop changing well before)
CHUNK = 8192           # rows per distance block (bounds memory: CHUNK × k distances)
LABELS_VERSION = 1     # in the name of the labels' cache file: raise it when a change gives other labels


def kmeans(x, k: int, seed: int = 0, iterations: int = ITERATIONS) -> np.ndarray:
    """Cluster the rows of ``x`` (N, D) into ``k`` groups; returns the cluster of each row, int64 (N,).

    Minimises Σᵢ ‖xᵢ − μ_c(i)‖² by alternating assignment and mean updates from a k-means++ start
    (each new centre drawn with probability proportional to its squared distance to the nearest centre).
    A cluster that empties keeps its old centre. Deterministic for a given ``seed``."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"kmeans takes a 2-D array (N, D), got shape {x.shape}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= len(x):
        raise ValueError(f"k = {k!r} is invalid: expected an integer from 1 to the number of rows ({len(x):,})")
    norms = (x * x).sum(1, keepdims=True)  # ‖xᵢ‖², once: every distance below needs them
    rng = np.random.default_rng(seed)
    centers = np.empty((k, x.shape[1]), np.float32)
    centers[0] = x[rng.integers(len(x))]
    d2 = _squared_distances(x, norms, centers[:1])[:, 0]
    for j in range(1, k):
        total = float(d2.sum())
        centers[j] = x[rng.choice(len(x), p=d2 / total)] if total > 0 else x[rng.integers(len(x))]
        d2 = np.minimum(d2, _squared_distances(x, norms, centers[j:j + 1])[:, 0])
    assignment = _nearest(x, norms, centers)
    for _ in range(iterations):
        counts = np.bincount(assignment, minlength=k)
        sums = np.eye(k, dtype=np.float32)[assignment].T @ x   # per-cluster sums
        filled = counts > 0
        centers[filled] = sums[filled] / counts[filled, None]
        new = _nearest(x, norms, centers)
        if np.array_equal(new, assignment):
            break
        assignment = new
    return assignment


def _squared_distances(x, norms, centers) -> np.ndarray:
    """‖xᵢ − cⱼ‖² = ‖xᵢ‖² − 2 xᵢ·cⱼ + ‖cⱼ‖² for the rows of ``x`` (N, D) with ``norms`` = ‖xᵢ‖² (N, 1)."""
    return np.maximum(norms - 2.0 * x @ centers.T + (centers * centers).sum(1), 0.0)


def _nearest(x, norms, centers) -> np.ndarray:
    return np.concatenate([_squared_distances(x[i:i + CHUNK], norms[i:i + CHUNK], centers).argmin(1)
                           for i in range(0, len(x), CHUNK)]).astype(np.int64)


def image_features(images) -> np.ndarray:
    """uint8 images (N, H, W) or (N, H, W, C) → float32 rows in [0, 1], averaged over f×f blocks (f the
    smallest factor of H and W that brings the side to at most :data:`MAX_SIDE`)."""
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise ValueError(f"expected images (N, H, W) or (N, H, W, C), got shape {np.shape(images)}")
    n, h, w, c = x.shape
    f = 1
    while max(h, w) // f > MAX_SIDE and h % (2 * f) == 0 and w % (2 * f) == 0:
        f *= 2
    x = x.astype(np.float32) / 255.0
    if f > 1:
        x = x.reshape(n, h // f, f, w // f, f, c).mean(axis=(2, 4))
    return x.reshape(n, -1)


def cluster_labels(images, k: int, seed: int = 0, classes=None) -> np.ndarray:
    """The k-means cluster of each image, int64 (N,): the labels a self-conditioned GAN trains on.

    Without ``classes``: clusters 0 .. k-1 of all the images. With ``classes`` (N,) ints 0 .. C-1: each class is
    clustered on its own into k, and cluster j of class c is label ``c·k + j``."""
    if classes is None:
        if len(images) < k:
            raise ValueError(f"clusters = {k} needs at least {k} training images, the data has {len(images)}: "
                             "lower --clusters or use more images")
        return kmeans(image_features(images), k, seed)
    classes = np.asarray(classes, dtype=np.int64)
    features, labels = image_features(images), np.empty(len(classes), np.int64)
    for c in np.unique(classes):
        members = np.flatnonzero(classes == c)
        if len(members) < k:
            raise ValueError(f"class_clusters = {k} needs at least {k} images of every class, class {c} has "
                             f"{len(members)}: lower --class-clusters or use more images")
        labels[members] = c * k + kmeans(features[members], k, seed)
    return labels


def cluster_frequencies(labels, k: int, classes: int = 0) -> np.ndarray:
    """The share of images in each of the ``k`` clusters, float64 (k,), summing to 1; with ``classes`` = C
    (labels ``c·k + j`` from :func:`cluster_labels`) the shares within each class, (C, k), each row summing to 1
    (equal shares for a class without images)."""
    rows = max(int(classes), 1)
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=rows * k)[:rows * k]
    counts = counts.reshape(rows, k).astype(np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.where(totals > 0, counts / np.maximum(totals, 1), 1.0 / k)
    return shares if classes else shares[0]
