"""Drawing images from a generator: shapes, ranges, batching, conditional labels, plain callables."""
import keras
import numpy as np
import pytest

from gan_lab import models
from gan_lab.sampling import (BATCH_SIZE, as_image_batch, batch_size_for, cluster_noise, code_noise, cycling_labels,
                              generate, is_conditional, noise_dim_of, num_classes_of, sample)


@pytest.fixture(scope="module")
def generators():
    keras.utils.set_random_seed(0)
    return {"flat": models.dense_generator(noise_dim=8), "image": models.small_generator(noise_dim=8, width=8),
            "conditional": models.small_conditional_generator(noise_dim=8, width=8)}


def test_every_generator_gives_n_images_of_28_by_28(generators):
    noise = np.random.default_rng(0).uniform(-1, 1, (7, 8)).astype(np.float32)
    for g in generators.values():
        x = generate(g, noise)
        assert x.shape == (7, 28, 28) and x.dtype == np.float32
        assert -1.0 <= x.min() and x.max() <= 1.0


def test_batches_do_not_change_the_images(generators):
    noise = np.random.default_rng(1).uniform(-1, 1, (10, 8)).astype(np.float32)
    g = generators["conditional"]
    np.testing.assert_allclose(generate(g, noise, batch_size=3), generate(g, noise, batch_size=10), atol=1e-6)


def test_a_generator_with_large_maps_draws_in_smaller_batches(generators):
    """The keras.io face generator's 64×64×512 map is 8 MB per picture (float32): drawing 1,000 pictures in
    batches of 500 took 10.9 GB of memory (`gan-lab sample --n 1000`), so it draws 32 at a time (1.5 GB)."""

    class Recorder(keras.Model):  # the face generator, noting the batch of every call
        def __init__(self, inner):
            super().__init__()
            self.inner, self.batches = inner, []

        def call(self, z, training=False):
            self.batches.append(int(z.shape[0]))
            return self.inner(z, training=training)

    faces = Recorder(models.keras_faces_generator(noise_dim=8))
    assert batch_size_for(faces) == 32 == batch_size_for(faces.inner)
    assert generate(faces, np.zeros((70, 8), np.float32)).shape == (70, 64, 64, 3)
    assert faces.batches == [32, 32, 6]
    assert all(batch_size_for(g) == BATCH_SIZE for g in generators.values())  # small maps: 500 at a time
    assert batch_size_for(lambda z: z) == BATCH_SIZE  # not a Keras model
    assert batch_size_for(faces.inner, budget=1) == 1


def test_conditional_labels_default_to_cycling_and_can_be_fixed(generators):
    g = generators["conditional"]
    noise = np.repeat(np.random.default_rng(2).uniform(-1, 1, (1, 8)).astype(np.float32), 3, axis=0)
    cycling = generate(g, noise)                      # labels 0, 1, 2 on the same noise: three different images
    assert not np.allclose(cycling[0], cycling[1])
    np.testing.assert_allclose(generate(g, noise, labels=1)[0], cycling[1], atol=1e-6)
    assert list(cycling_labels(12)) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert is_conditional(g) and not is_conditional(generators["flat"]) and noise_dim_of(g) == 8


def test_a_generator_knows_its_classes_and_its_default_labels_stay_in_them(generators):
    three = models.small_conditional_generator(noise_dim=8, width=8, num_classes=3)
    assert [num_classes_of(g) for g in (generators["flat"], generators["conditional"], three)] == [0, 10, 3]
    noise = np.random.default_rng(3).uniform(-1, 1, (5, 8)).astype(np.float32)
    np.testing.assert_allclose(generate(three, noise), generate(three, noise, labels=[0, 1, 2, 0, 1]), atol=1e-6)
    # clusters within classes: the outer label is the class, the inner embedding holds 3 × 2 clusters
    within = models.with_cluster_prior(models.small_conditional_generator(noise_dim=8, width=8, num_classes=6),
                                       np.full((3, 2), 0.5))
    assert num_classes_of(within) == 3 and generate(within, noise).shape == (5, 28, 28)
    z, y = keras.Input((8,)), keras.Input((1,), dtype="int32")  # a learner's own: no embedding to read
    own = keras.Model([z, y], keras.layers.Reshape((28, 28))(keras.layers.Dense(784)(z)))
    assert num_classes_of(own) == 10


def test_labels_for_an_unconditional_generator_are_refused(generators):
    with pytest.raises(ValueError, match="unconditional"):
        generate(generators["image"], np.zeros((2, 8), np.float32), labels=3)


def test_sample_is_seeded_and_in_the_unit_range(generators):
    a, b, c = (sample(generators["image"], 5, seed=s) for s in (3, 3, 4))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) and 0.0 <= a.min() <= a.max() <= 1.0


def test_a_plain_callable_and_odd_shapes():
    x = generate(lambda z: np.tile(z[:, :1], (1, 784)), np.full((2, 8), 0.5, np.float32))
    assert x.shape == (2, 28, 28) and np.all(x == 0.5)
    assert as_image_batch(np.zeros((2, 32, 32, 3))).shape == (2, 32, 32, 3)  # colour stays colour
    with pytest.raises(ValueError, match="square"):
        as_image_batch(np.zeros((2, 700)))


def test_code_and_cluster_noise_select_what_they_are_asked_for():
    codes = np.array([0, 3, 9, 4, 4])
    z = code_noise(codes, 10, 16, seed=0)
    assert z.shape == (5, 16) and z.dtype == np.float32
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(models.code_of_noise(z, 10)), codes)
    frequencies = [0.05, 0.6, 0.001, 0.349]  # a tiny cluster too: the middle of its interval still selects it
    clusters = np.array([2, 0, 3, 1, 2])
    z = cluster_noise(clusters, frequencies, 8, seed=1)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(models.cluster_of_noise(z, frequencies))[:, 0],
                                  clusters)
    assert np.abs(z).max() <= 1.0
    with pytest.raises(ValueError, match="clusters must be in 0..3, got 0..4"):
        cluster_noise([0, 4], frequencies, 8)
    with pytest.raises(ValueError, match="codes must be in 0..9"):
        code_noise([10], 10, 16)
