"""k-means clusters of the training images (gan_lab.clusters): the labels of a self-conditioned GAN."""
import numpy as np
import pytest

from gan_lab.clusters import cluster_frequencies, cluster_labels, image_features, kmeans


def _same_partition(a, b) -> bool:
    """True when two labelings split the rows the same way (cluster numbers may differ)."""
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def test_kmeans_finds_well_separated_groups_whatever_the_seed():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]], "float32")
    truth = rng.integers(0, 4, size=400)
    x = centres[truth] + rng.normal(0, 0.5, size=(400, 3)).astype("float32")
    for seed in range(5):
        found = kmeans(x, 4, seed=seed)
        assert found.dtype == np.int64 and found.shape == (400,)
        assert _same_partition(found, truth), seed


def test_kmeans_is_deterministic_for_a_seed_and_lowers_the_inertia_of_its_start():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 8)).astype("float32")
    a, b = kmeans(x, 6, seed=3), kmeans(x, 6, seed=3)
    np.testing.assert_array_equal(a, b)

    def inertia(labels):
        return sum(((x[labels == j] - x[labels == j].mean(0)) ** 2).sum() for j in np.unique(labels))

    assert inertia(a) < inertia(kmeans(x, 6, seed=3, iterations=0))


def test_kmeans_of_identical_rows_neither_fails_nor_makes_nans():
    labels = kmeans(np.ones((20, 4), "float32"), 3)
    assert labels.shape == (20,) and labels.min() >= 0 and labels.max() < 3


@pytest.mark.parametrize("x, k, message", [
    (np.zeros((5, 2)), 6, r"k = 6 is invalid: expected an integer from 1 to the number of rows \(5\)"),
    (np.zeros((5, 2)), 0, "k = 0 is invalid"),
    (np.zeros((5, 2, 2)), 2, r"kmeans takes a 2-D array \(N, D\), got shape \(5, 2, 2\)"),
])
def test_kmeans_refuses_bad_input_saying_what_was_expected(x, k, message):
    with pytest.raises(ValueError, match=message):
        kmeans(x, k)


def test_image_features_average_large_images_down_to_32_pixels_a_side():
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, size=(2, 64, 64, 3), dtype=np.uint8)
    f = image_features(images)
    assert f.shape == (2, 32 * 32 * 3)
    block = images[1, 2:4, 6:8, 2].astype(np.float64).mean() / 255.0  # row 1, column 3 of the 32×32 grid
    assert f[1].reshape(32, 32, 3)[1, 3, 2] == pytest.approx(block, abs=1e-6)
    mnist_like = rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    np.testing.assert_allclose(image_features(mnist_like), mnist_like.reshape(3, -1) / 255.0, rtol=1e-6)


def test_mnist_clusters_follow_the_digits_far_better_than_chance(mnist_small):
    """Purity (share of images whose cluster's most common digit is their own) of 10 clusters of 2,000 MNIST
    images; chance is about 0.11. k-means on MNIST pixels is known to reach about 0.6."""
    images, digits = mnist_small[0][:2000], mnist_small[1][:2000]
    labels = cluster_labels(images, 10)
    purity = sum(np.bincount(digits[labels == j]).max() for j in np.unique(labels)) / len(labels)
    assert purity > 0.45, purity


def test_cluster_labels_need_at_least_k_images_and_frequencies_sum_to_one():
    with pytest.raises(ValueError, match="clusters = 8 needs at least 8 training images, the data has 5"):
        cluster_labels(np.zeros((5, 28, 28), np.uint8), 8)
    freq = cluster_frequencies(np.array([0, 0, 2, 2, 2, 1, 0, 0]), 4)
    np.testing.assert_allclose(freq, [0.5, 0.125, 0.375, 0.0])


def test_clusters_within_classes_stay_inside_their_class_and_have_shares_per_class(mnist_small):
    images, digits = mnist_small[0][:1000], mnist_small[1][:1000]
    labels = cluster_labels(images, 3, classes=digits)
    assert np.array_equal(labels // 3, digits)  # cluster j of class c is label 3c + j
    assert all(len(np.unique(labels[digits == c])) == 3 for c in range(10))
    shares = cluster_frequencies(labels, 3, classes=10)
    assert shares.shape == (10, 3)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    np.testing.assert_allclose(shares[4], np.bincount(labels[digits == 4] - 12, minlength=3) / (digits == 4).sum())
    no_eights = cluster_frequencies(labels[digits != 8], 3, classes=10)
    np.testing.assert_allclose(no_eights[8], [1 / 3] * 3)  # a class without images: equal shares
    with pytest.raises(ValueError, match="class_clusters = 3 needs at least 3 images of every class, class 1 has 2"):
        cluster_labels(images[:5], 3, classes=np.array([0, 0, 0, 1, 1]))
