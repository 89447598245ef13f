import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_lab import models

EXPECTED = {  # (generator at its default noise_dim, discriminator) parameter counts
    "dense": (None, 267009),
    "dcgan": (None, 1102721),
    "tf_tutorial": (2330944, 212865),
    "fashion_mlp": (1493520, 533505),
    "fashion_dcgan": (2136449, 1038593),
}


def test_cs231n_counts_match_the_assignment():
    assert models.dense_discriminator().count_params() == 267009
    assert models.dense_generator(noise_dim=4).count_params() == 1858320
    assert models.dc_discriminator().count_params() == 1102721
    assert models.dc_generator(noise_dim=4).count_params() == 6595521


@pytest.mark.parametrize("arch", list(EXPECTED))
def test_every_pair_builds_with_input_layers_and_right_shapes(arch):
    g_fn, d_fn = models.ARCHITECTURES[arch]
    g, d = g_fn(noise_dim=8), d_fn()
    z = np.random.default_rng(0).uniform(-1, 1, (3, 8)).astype("float32")
    out = np.asarray(g(z, training=False))
    assert out.shape[0] == 3 and int(np.prod(out.shape[1:])) == 784
    logits = np.asarray(d(out.reshape((3, *d.input_shape[1:])), training=False))
    assert logits.shape == (3, 1)
    g_count, d_count = EXPECTED[arch]
    if d_count:
        assert d.count_params() == d_count
    if g_count:
        assert g_fn().count_params() == g_count


def test_output_ranges_follow_the_activation():
    z = np.random.default_rng(1).uniform(-1, 1, (16, 128)).astype("float32")
    sig = np.asarray(models.fashion_dcgan_generator()(z))
    assert sig.min() >= 0.0 and sig.max() <= 1.0
    tanh = np.asarray(models.dense_generator(noise_dim=128)(z))
    assert tanh.min() >= -1.0 and tanh.max() <= 1.0 and tanh.min() < 0


def test_fashion_dcgan_sizes_are_about_the_recipe():
    assert 2.0e6 < models.fashion_dcgan_generator().count_params() < 2.3e6
    assert 0.9e6 < models.fashion_dcgan_discriminator().count_params() < 1.2e6


def test_build_pair_unknown_architecture():
    with pytest.raises(ValueError, match="unknown architecture 'resnet'.*dense"):
        models.build_pair("resnet", 96)


def test_conditional_generator_depends_on_the_label():
    g = models.small_conditional_generator(noise_dim=8)
    z = tf.constant(np.random.default_rng(0).uniform(-1, 1, (4, 8)), tf.float32)
    a = g([z, tf.constant([[1]] * 4)]).numpy()
    b = g([z, tf.constant([[2]] * 4)]).numpy()
    assert a.shape == (4, 28, 28, 1) and np.abs(a - b).max() > 0
    for d in (models.small_conditional_discriminator(), models.small_projection_discriminator()):
        out = d([tf.constant(a), tf.constant([[1]] * 4)])
        assert out.shape == (4, 1)


def test_spectral_norm_bounds_the_largest_singular_value():
    d = models.with_spectral_norm(models.small_discriminator(width=8), power_iterations=1)
    x = tf.random.uniform((8, 28, 28, 1))
    for _ in range(30):  # power iteration converges across training-mode calls
        d(x, training=True)
    wrapped = [l for l in d.layers if isinstance(l, keras.layers.SpectralNormalization)]
    assert len(wrapped) == 3
    for layer in wrapped:
        kernel = layer.layer.kernel.numpy()
        sigma = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]
        assert sigma == pytest.approx(1.0, abs=0.05)


# --- InfoGAN's categorical code -------------------------------------------------------------------------------

def test_code_from_noise_puts_the_one_hot_argmax_in_place_of_the_first_values():
    z = np.array([[0.1, 0.9, -0.5, 0.3, 0.7], [0.8, -0.2, 0.4, -1.0, 0.2]], "float32")
    out = models.CodeFromNoise(3)(z).numpy()
    np.testing.assert_array_equal(out[:, :3], [[0, 1, 0], [1, 0, 0]])
    np.testing.assert_array_equal(out[:, 3:], z[:, 3:])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(models.code_of_noise(z, 3)), [1, 0])


def test_info_code_generator_reads_its_code_in_float32_under_bf16_and_saves(tmp_path):
    """Under mixed_bfloat16 two noise values 1e-3 apart would round to the same bf16 number; the code layer
    computes in float32, so it reads the code that code_of_noise reads from the float32 noise."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        g = models.with_info_code(models.small_generator(noise_dim=8, width=8), 4)
    finally:
        keras.config.set_dtype_policy(previous)
    layer = g.get_layer("info_code")
    assert layer.compute_dtype == "float32"
    z = np.zeros((1, 8), "float32")
    z[0, :4] = [0.5, 0.501, 0.1, 0.2]  # bf16 rounds both of the first two to 0.5
    np.testing.assert_array_equal(layer(z).numpy()[0, :4], [0, 1, 0, 0])
    g.save(tmp_path / "g.keras")
    loaded = keras.models.load_model(tmp_path / "g.keras")
    np.testing.assert_array_equal(loaded(z).numpy(), g(z).numpy())


def test_code_head_shares_the_discriminator_layers_whatever_its_last_layer():
    for d in (models.small_discriminator(width=8), models.with_spectral_norm(models.small_discriminator(width=8)),
              models.keras_faces_discriminator()):
        head = models.with_code_head(d, 5)
        assert head.output[1].shape[-1] == 5
        assert {id(w) for w in d.weights} < {id(w) for w in head.weights}
        x = np.zeros((2, *d.inputs[0].shape[1:]), "float32")
        np.testing.assert_allclose(head(x)[0].numpy(), d(x).numpy(), rtol=1e-6)


# --- self-conditioning: a cluster picked from the noise -------------------------------------------------------

def test_cluster_from_noise_inverts_the_cumulative_frequencies_of_the_first_noise_value():
    freq = [0.5, 0.25, 0.25]
    z = np.zeros((5, 4), "float32")
    z[:, 0] = [-1.0, -0.01, 0.0, 0.49, 0.51]  # u = 0, 0.495, 0.5, 0.745, 0.755
    out = models.ClusterFromNoise(freq)(z)
    assert keras.backend.standardize_dtype(out.dtype) == "int32" and tuple(out.shape) == (5, 1)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out)[:, 0], [0, 0, 1, 1, 2])
    many = np.random.default_rng(0).uniform(-1, 1, size=(100_000, 2)).astype("float32")
    counts = np.bincount(keras.ops.convert_to_numpy(models.cluster_of_noise(many, freq))[:, 0], minlength=3)
    np.testing.assert_allclose(counts / len(many), freq, atol=0.01)


def test_cluster_prior_generator_is_the_conditional_generator_on_the_noise_cluster_and_saves(tmp_path):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")  # the cluster layer still reads float32 noise
    try:
        conditional = models.small_conditional_generator(noise_dim=8, width=8, num_classes=3)
        g = models.with_cluster_prior(conditional, [0.2, 0.3, 0.5])
    finally:
        keras.config.set_dtype_policy(previous)
    assert len(g.inputs) == 1 and g.get_layer("cluster").compute_dtype == "float32"
    z = np.random.default_rng(1).uniform(-1, 1, size=(6, 8)).astype("float32")
    z[0, 0] = -0.6001  # u = 0.19995: cluster 0 in float32 (bf16 would round it onto the boundary 0.2)
    labels = keras.ops.convert_to_numpy(models.cluster_of_noise(z, [0.2, 0.3, 0.5]))
    assert labels[0, 0] == 0
    np.testing.assert_allclose(g(z).numpy(), conditional([z, labels]).numpy(), rtol=1e-6)
    g.save(tmp_path / "g.keras")
    loaded = keras.models.load_model(tmp_path / "g.keras")
    np.testing.assert_array_equal(loaded(z).numpy(), g(z).numpy())
    assert loaded.get_layer("cluster").frequencies == [0.2, 0.3, 0.5]


def test_preset_pair_sizes_the_label_embeddings_to_the_clusters():
    from gan_lab.presets import get_preset
    g, d = models.preset_pair(get_preset("cgan", clusters=7, width=8))
    assert len(g.inputs) == 1 and g.get_layer("cluster").frequencies == pytest.approx([1 / 7] * 7)

    def layers_of(model):
        for layer in model.layers:
            yield from layers_of(layer) if isinstance(layer, keras.Model) else [layer]

    embeddings = [layer for model in (g, d) for layer in layers_of(model) if isinstance(layer, keras.layers.Embedding)]
    assert len(embeddings) == 2 and all(layer.input_dim == 7 for layer in embeddings)


def test_clusters_within_classes_are_picked_from_the_noise_for_the_asked_class(tmp_path):
    table = [[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]]  # class 0: clusters 0, 1 (2 never); class 1: labels 3, 4, 5
    z = np.zeros((4, 8), "float32")
    z[:, 0] = [-0.2, 0.2, -0.2, 0.2]  # u = 0.4, 0.6, 0.4, 0.6
    classes = np.array([[0], [0], [1], [1]], "int32")
    got = keras.ops.convert_to_numpy(models.cluster_of_noise(z, table, classes))[:, 0]
    np.testing.assert_array_equal(got, [0, 1, 4, 5])
    inner = models.small_conditional_generator(noise_dim=8, width=8, num_classes=6)
    g = models.with_cluster_prior(inner, table)
    assert len(g.inputs) == 2  # still asked for a class
    np.testing.assert_allclose(g([z, classes]).numpy(), inner([z, got[:, None]]).numpy(), rtol=1e-6)
    g.save(tmp_path / "g.keras")
    np.testing.assert_array_equal(keras.models.load_model(tmp_path / "g.keras")([z, classes]).numpy(),
                                  g([z, classes]).numpy())
