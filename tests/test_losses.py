"""Tests of gan_lab.losses and gan_lab.ops: fixture values, hand-computed values, options, registry."""
import math

import numpy as np
import pytest
import tensorflow as tf

from gan_lab import checks, losses
from gan_lab.losses import gradient_penalty, r1_penalty

LOG2 = math.log(2.0)


@pytest.fixture(scope="module")
def fx():
    return checks.load_fixtures()


def val(t):
    assert isinstance(t, tf.Tensor) and t.shape == (), f"expected a scalar tf.Tensor, got {t!r}"
    return float(t.numpy())


def softplus(x):
    return float(np.logaddexp(0.0, x))


# ------------------------------------------------------------------------------------ fixture values
def test_bce_losses_match_fixture_in_float64(fx):
    d = losses.discriminator_loss(fx["logits_real"], fx["logits_fake"])
    g = losses.generator_loss(fx["logits_fake"])
    m = losses.minimax_generator_loss(fx["logits_fake"])
    assert d.dtype == g.dtype == m.dtype == tf.float64
    assert checks.rel_error(val(d), fx["d_loss_true"]) < 1e-12
    assert checks.rel_error(val(g), fx["g_loss_true"]) < 1e-12
    assert checks.rel_error(val(m), fx["minimax_g_loss_true"]) < 1e-12


def test_lsgan_losses_match_fixture_in_float64(fx):
    d = losses.ls_discriminator_loss(fx["scores_real"], fx["scores_fake"])
    g = losses.ls_generator_loss(fx["scores_fake"])
    assert d.dtype == g.dtype == tf.float64
    assert checks.rel_error(val(d), fx["d_loss_lsgan_true"]) < 1e-12
    assert checks.rel_error(val(g), fx["g_loss_lsgan_true"]) < 1e-12


def test_losses_accept_column_shaped_tensors(fx):
    r, f = fx["logits_real"].reshape(-1, 1), tf.constant(fx["logits_fake"].reshape(-1, 1))
    assert checks.rel_error(val(losses.discriminator_loss(r, f)), fx["d_loss_true"]) < 1e-12


# ------------------------------------------------------------------------------------ hand values
def test_zero_logits_give_log2_per_term():
    z = np.zeros(5)
    assert val(losses.discriminator_loss(z, z)) == pytest.approx(2 * LOG2, rel=1e-15)
    assert val(losses.generator_loss(z)) == pytest.approx(LOG2, rel=1e-15)
    assert val(losses.minimax_generator_loss(z)) == pytest.approx(-LOG2, rel=1e-15)


def test_bce_hand_values():
    real, fake = np.array([2.0, -1.0]), np.array([0.5, -3.0, 1.0])
    # BCE(l, 1) = softplus(-l), BCE(l, 0) = softplus(l)
    d_expected = (softplus(-2.0) + softplus(1.0)) / 2 + (softplus(0.5) + softplus(-3.0) + softplus(1.0)) / 3
    assert val(losses.discriminator_loss(real, fake)) == pytest.approx(d_expected, rel=1e-14)
    g_expected = (softplus(-0.5) + softplus(3.0) + softplus(-1.0)) / 3
    assert val(losses.generator_loss(fake)) == pytest.approx(g_expected, rel=1e-14)
    # minimax: mean(log(1 - sigmoid(l)))
    m_expected = np.mean(np.log(1.0 - 1.0 / (1.0 + np.exp(-fake))))
    assert val(losses.minimax_generator_loss(fake)) == pytest.approx(m_expected, rel=1e-12)


def test_d_loss_is_sum_of_means_not_mean_of_concatenation():
    real, fake = np.zeros(2), np.zeros(6)  # different batch sizes: each term is still log 2
    assert val(losses.discriminator_loss(real, fake)) == pytest.approx(2 * LOG2, rel=1e-15)


def test_stable_for_huge_logits():
    big = np.array([1000.0, -1000.0])
    assert val(losses.discriminator_loss(big, -big)) == pytest.approx(1000.0, rel=1e-12)  # (0+1000)/2 * 2
    assert val(losses.generator_loss(np.array([-1000.0]))) == pytest.approx(1000.0)
    assert val(losses.minimax_generator_loss(np.array([1000.0]))) == pytest.approx(-1000.0)
    for t in (losses.discriminator_loss(big, big), losses.generator_loss(big), losses.minimax_generator_loss(big)):
        assert np.isfinite(val(t))


def test_lsgan_hand_values():
    real, fake = np.array([1.0, 3.0]), np.array([0.0, -2.0, 1.0])
    # 0.5 * mean([0, 4]) + 0.5 * mean([0, 4, 1]) = 1 + 5/6
    assert val(losses.ls_discriminator_loss(real, fake)) == pytest.approx(1.0 + 5.0 / 6.0, rel=1e-15)
    # 0.5 * mean([1, 9, 0]) = 5/3
    assert val(losses.ls_generator_loss(fake)) == pytest.approx(5.0 / 3.0, rel=1e-15)


def test_wasserstein_and_hinge_hand_values():
    real, fake = np.array([2.0, 0.5, -1.0]), np.array([-2.0, 0.0, 1.5])
    assert val(losses.wasserstein_critic_loss(real, fake)) == pytest.approx(-1.0 / 6.0 - 0.5, rel=1e-14)
    assert val(losses.wasserstein_generator_loss(fake)) == pytest.approx(1.0 / 6.0, rel=1e-14)
    # relu(1 - r) = [0, 0.5, 2] -> 5/6 ; relu(1 + f) = [0, 1, 2.5] -> 7/6
    assert val(losses.hinge_discriminator_loss(real, fake)) == pytest.approx(2.0, rel=1e-14)
    assert val(losses.hinge_generator_loss(fake)) == pytest.approx(1.0 / 6.0, rel=1e-14)


# ---------------------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("make", [
    lambda: ([0.5, -1.0], [1.0, 2.0]),
    lambda: (np.array([0.5, -1.0], np.float32), np.array([1.0, 2.0], np.float32)),
    lambda: (tf.constant([0.5, -1.0], tf.float16), tf.constant([1.0, 2.0], tf.float16)),
    lambda: ([1, 2], [0, 3]),
])
def test_float32_by_default(make):
    r, f = make()
    for t in (losses.discriminator_loss(r, f), losses.generator_loss(f), losses.ls_discriminator_loss(r, f),
              losses.wasserstein_critic_loss(r, f), losses.hinge_discriminator_loss(r, f)):
        assert t.dtype == tf.float32


def test_float64_if_any_input_is_float64():
    r64, f32 = np.array([0.5, -1.0]), np.array([1.0, 2.0], np.float32)
    assert losses.discriminator_loss(r64, f32).dtype == tf.float64
    assert losses.ls_discriminator_loss(f32, r64).dtype == tf.float64


def test_works_inside_tf_function_with_gradients():
    @tf.function
    def step(r, f):
        with tf.GradientTape() as tape:
            tape.watch(f)
            loss = losses.discriminator_loss(r, f, label_smoothing=0.1) + losses.generator_loss(f)
        return loss, tape.gradient(loss, f)

    loss, grad = step(tf.zeros([4, 1]), tf.zeros([4, 1]))
    # d/df [mean softplus(f) + mean softplus(-f)] at 0 = (0.5 - 0.5) / 4
    assert np.isfinite(loss.numpy()) and np.allclose(grad.numpy(), 0.0)


# ------------------------------------------------------------------------- smoothing and flipping
def test_label_smoothing_changes_only_real_term_as_formula():
    real, fake = np.array([2.0, -1.0]), np.array([0.5, -3.0])
    s = 0.1
    # BCE(l, t) = softplus(l) - t * l with t = 1 - s for real
    real_term = np.mean([softplus(l) - (1 - s) * l for l in real])
    fake_term = np.mean([softplus(l) for l in fake])
    got = val(losses.discriminator_loss(real, fake, label_smoothing=s))
    assert got == pytest.approx(real_term + fake_term, rel=1e-14)
    # zero logits: the smoothed target does not matter (BCE(0, t) = log 2 for every t)
    assert val(losses.discriminator_loss(np.zeros(3), np.zeros(3), label_smoothing=0.3)) == pytest.approx(2 * LOG2)
    # hand value: logit 1, target 0.9: softplus(1) - 0.9
    assert val(losses.discriminator_loss(np.array([1.0]), np.array([-50.0]), label_smoothing=0.1)) == \
        pytest.approx(softplus(1.0) - 0.9 + softplus(-50.0), rel=1e-14)


def test_flip_prob_one_swaps_targets():
    real, fake = np.array([2.0, -1.0, 0.3]), np.array([0.5, -3.0])
    # real logits scored against 0, fake against 1
    swapped = np.mean([softplus(l) for l in real]) + np.mean([softplus(-l) for l in fake])
    for seed in (None, 7):
        got = val(losses.discriminator_loss(real, fake, flip_prob=1.0, seed=seed))
        assert got == pytest.approx(swapped, rel=1e-14)
    # with smoothing, the flipped (now positive) fake targets are smoothed, flipped real targets are 0
    s = 0.2
    expected = np.mean([softplus(l) for l in real]) + np.mean([softplus(l) - (1 - s) * l for l in fake])
    got = val(losses.discriminator_loss(real, fake, label_smoothing=s, flip_prob=1.0, seed=1))
    assert got == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("seed", [0, 1, 123, 2 ** 31 - 1, tf.constant([5, 77], tf.int64)])
def test_flip_prob_flips_exactly_the_mask_of_its_seed(seed):
    """For every seed (an int, or the stateless pair the train step passes): the loss is the BCE formula with
    targets flipped where the seed's mask says, the mask flips about p of the targets (within 6 standard
    deviations), and the same seed gives the same loss."""
    n, p = 20000, 0.3
    rng = np.random.default_rng(0)
    real, fake = rng.normal(0, 3, n), rng.normal(0, 3, n)
    loss = val(losses.discriminator_loss(real, fake, flip_prob=p, seed=seed))
    assert loss == val(losses.discriminator_loss(real, fake, flip_prob=p, seed=seed))
    flip_real = np.asarray(losses._flip_mask(tf.constant(real), p, seed, 0))
    flip_fake = np.asarray(losses._flip_mask(tf.constant(fake), p, seed, 1))
    real_targets, fake_targets = np.where(flip_real, 0.0, 1.0), np.where(flip_fake, 1.0, 0.0)
    bce = lambda logits, t: np.logaddexp(0.0, logits) - t * logits  # noqa: E731
    assert loss == pytest.approx(bce(real, real_targets).mean() + bce(fake, fake_targets).mean(), rel=1e-12)
    for mask in (flip_real, flip_fake):
        assert abs(mask.mean() - p) < 6 * np.sqrt(p * (1 - p) / n)
    assert not np.array_equal(flip_real, flip_fake)  # the real and fake batches get their own flips


def test_flip_prob_without_a_seed_draws_fresh_flips():
    real, fake = np.full(1000, 2.0), np.full(1000, -2.0)
    unseeded = [val(losses.discriminator_loss(real, fake, flip_prob=0.3)) for _ in range(2)]
    assert unseeded[0] != unseeded[1]


def test_flip_prob_zero_is_exact_and_ignores_seed(fx):
    got = val(losses.discriminator_loss(fx["logits_real"], fx["logits_fake"], flip_prob=0.0, seed=5))
    assert got == val(losses.discriminator_loss(fx["logits_real"], fx["logits_fake"]))


@pytest.mark.parametrize("kwargs", [{"label_smoothing": -0.1}, {"label_smoothing": 1.0}, {"flip_prob": 1.5},
                                    {"flip_prob": -0.01}])
def test_bad_probabilities_raise(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        losses.discriminator_loss(np.zeros(2), np.zeros(2), **kwargs)


# ------------------------------------------------------------------------------------------ registry
def test_registry_pairs():
    assert list(losses.LOSSES) == ["bce", "minimax", "lsgan", "hinge", "wgan"]
    assert losses.get_loss("bce") == (losses.discriminator_loss, losses.generator_loss)
    assert losses.get_loss("minimax") == (losses.discriminator_loss, losses.minimax_generator_loss)
    assert losses.get_loss("LSGAN") == (losses.ls_discriminator_loss, losses.ls_generator_loss)
    assert losses.get_loss("wgan") == (losses.wasserstein_critic_loss, losses.wasserstein_generator_loss)
    assert losses.get_loss("hinge") == (losses.hinge_discriminator_loss, losses.hinge_generator_loss)


def test_get_loss_unknown_name_lists_names():
    with pytest.raises(ValueError) as info:
        losses.get_loss("x")
    assert str(info.value) == "unknown loss 'x': expected one of bce, minimax, lsgan, hinge, wgan"


def test_gradient_penalty_matches_a_finite_difference_reference():
    rng = np.random.default_rng(0)
    n, h, w = 4, 3, 5
    A = rng.normal(size=(h * w, 6))
    c = rng.normal(size=6)
    real = rng.normal(size=(n, h, w, 1))
    fake = rng.normal(size=(n, h, w, 1))
    alpha = rng.uniform(size=n)

    def critic_np(x):  # f(x) = Σ_j c_j tanh((x_flat A)_j)
        return np.tanh(x.reshape(len(x), -1) @ A) @ c

    def critic_tf(x):
        return tf.tanh(tf.reshape(x, [tf.shape(x)[0], -1]) @ tf.constant(A)) @ tf.constant(c[:, None])

    # numpy reference: central differences of f at each interpolated point, norm over all pixel dims
    xhat = alpha[:, None, None, None] * real + (1 - alpha[:, None, None, None]) * fake
    eps = 1e-6
    norms = []
    for i in range(n):
        g = np.zeros(h * w)
        for j in range(h * w):
            e = np.zeros(h * w)
            e[j] = eps
            xp = (xhat[i].reshape(-1) + e).reshape(1, h, w, 1)
            xm = (xhat[i].reshape(-1) - e).reshape(1, h, w, 1)
            g[j] = (critic_np(xp)[0] - critic_np(xm)[0]) / (2 * eps)
        norms.append(np.linalg.norm(g))
    reference = np.mean((np.array(norms) - 1.0) ** 2)
    got = float(gradient_penalty(critic_tf, tf.constant(real), tf.constant(fake), alpha=tf.constant(alpha)))
    assert got == pytest.approx(reference, rel=1e-6)
    # one α per example: a batch-wide α would give a different value
    other = float(gradient_penalty(critic_tf, tf.constant(real), tf.constant(fake), alpha=tf.constant(alpha[:1])))
    assert other != pytest.approx(reference, rel=1e-3)


def test_r1_penalty_is_the_squared_gradient_norm_at_the_real_images():
    """Mescheder et al. 2018, eq. 9: E_x ‖∇_x D(x)‖², the norm over every pixel dimension, by central
    differences of a nonlinear critic (independent of TensorFlow's gradients)."""
    rng = np.random.default_rng(1)
    n, h, w = 3, 4, 2
    A, c = rng.normal(size=(h * w * 2, 5)), rng.normal(size=5)
    real = rng.normal(size=(n, h, w, 2))

    def critic_np(x):  # f(x) = Σ_j c_j tanh((x_flat A)_j)
        return np.tanh(x.reshape(len(x), -1) @ A) @ c

    def critic_tf(x):
        return tf.tanh(tf.reshape(x, [tf.shape(x)[0], -1]) @ tf.constant(A)) @ tf.constant(c[:, None])

    eps, squares = 1e-6, []
    for i in range(n):
        x = real[i].reshape(-1)
        g = [(critic_np((x + e).reshape(1, h, w, 2))[0] - critic_np((x - e).reshape(1, h, w, 2))[0]) / (2 * eps)
             for e in np.eye(len(x)) * eps]
        squares.append(np.sum(np.square(g)))
    got = float(r1_penalty(critic_tf, tf.constant(real)))
    assert got == pytest.approx(np.mean(squares), rel=1e-6)
    # a critic flat on the data has no penalty; a linear one w·x has ‖w‖² at every image
    assert float(r1_penalty(lambda x: tf.reduce_sum(x * 0.0, axis=[1, 2, 3]), tf.constant(real))) == 0.0
    weights = rng.normal(size=(h, w, 2))
    linear = float(r1_penalty(lambda x: tf.reduce_sum(x * weights, axis=[1, 2, 3]), tf.constant(real)))
    assert linear == pytest.approx(np.sum(weights ** 2), rel=1e-9)


def test_info_code_loss_is_the_code_cross_entropy():
    """Chen et al. 2016, eq. 5: −mean log softmax(logits)[c]; uniform logits give log k."""
    logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], "float32")
    codes = np.array([0, 1])
    log_softmax = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    expected = -np.mean(log_softmax[np.arange(2), codes])
    np.testing.assert_allclose(float(losses.info_code_loss(codes, logits)), expected, rtol=1e-6)
    np.testing.assert_allclose(float(losses.info_code_loss(codes[:, None], np.zeros((2, 3)))), np.log(3), rtol=1e-6)


def test_reconstruction_loss_is_the_mean_squared_error_to_the_resized_picture_and_quarter():
    """FastGAN's loss with a pixel distance: whole vs the real picture averaged 2×2 to 32×32, part vs the chosen
    quarter of the real picture (a 32×32 quarter of a 64×64 picture needs no resizing)."""
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (3, 64, 64, 3))
    whole, part = rng.uniform(-1, 1, (2, 3, 32, 32, 3))
    quarters = np.array([[0], [3], [1]])
    pooled = real.reshape(3, 32, 2, 32, 2, 3).mean(axis=(2, 4))
    rows, cols = (0, 32, 0), (0, 32, 32)  # top left, bottom right, top right
    crops = np.stack([real[i, r:r + 32, c:c + 32] for i, (r, c) in enumerate(zip(rows, cols))])
    expected = np.mean((whole - pooled) ** 2) + np.mean((part - crops) ** 2)
    assert val(losses.reconstruction_loss(real, whole, part, quarters)) == pytest.approx(expected, rel=1e-10)
    assert val(losses.reconstruction_loss(real, pooled, crops, quarters)) == pytest.approx(0.0, abs=1e-12)


def test_mode_seeking_loss_is_the_reciprocal_of_the_picture_to_noise_distance_ratio():
    """MSGAN's term (Mao et al. 2019): 1 / (mean|I1 − I2| / mean|z1 − z2| + 1e-5); a generator that ignores its
    noise (I1 = I2) gets 1 / 1e-5, pictures that differ more than their noise get less than 1."""
    rng = np.random.default_rng(1)
    i1, i2 = rng.uniform(-1, 1, (2, 4, 8, 8, 3))
    z1, z2 = rng.uniform(-1, 1, (2, 4, 16))
    ratio = np.abs(i1 - i2).sum() / i1.size / (np.abs(z1 - z2).sum() / z1.size)
    assert val(losses.mode_seeking_loss(i1, i2, z1, z2)) == pytest.approx(1 / (ratio + 1e-5), rel=1e-10)
    assert val(losses.mode_seeking_loss(i1, i1, z1, z2)) == pytest.approx(1e5, rel=1e-10)
    assert val(losses.mode_seeking_loss(3 * i1, -3 * i1, z1, z1 + 0.1)) < 1.0
