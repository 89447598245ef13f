"""The GAN: one update (noise, label tricks, d_steps), the Keras model with fit(), EMA, and the plain loop."""
import functools

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_lab import models
from gan_lab.data import make_dataset, scale_images
from gan_lab.gan import GAN, StepSeeds, build_gan, gan_update, make_train_step, run_a_gan
from gan_lab.losses import get_loss, r1_penalty
from gan_lab.models import cluster_of_noise
from gan_lab.presets import get_preset
from gan_lab.sampling import cycling_labels, recompute_batchnorm_statistics, uniform_noise


def _first_step_losses(seed, batch):
    keras.utils.set_random_seed(seed)
    g, d = models.dense_generator(noise_dim=16), models.dense_discriminator()
    step = make_train_step(g, d, keras.optimizers.Adam(1e-3, 0.5), keras.optimizers.Adam(1e-3, 0.5), seed=seed)
    out = step(batch)
    return float(out["d_loss"]), float(out["g_loss"])


def test_same_seed_gives_same_first_step_losses(mnist_small):
    batch = next(iter(make_dataset(mnist_small[0], 64, seed=0, flatten=True)))
    a, b, c = _first_step_losses(7, batch), _first_step_losses(7, batch), _first_step_losses(8, batch)
    assert a == b
    assert a != c


def test_same_seed_gives_same_first_step_losses_through_fit(mnist_small):
    preset = get_preset("cs231n_dense", noise_dim=16, batch_size=64)
    ds = make_dataset(mnist_small[0][:64], 64, seed=0)
    runs = []
    for _ in range(2):
        gan = build_gan(preset)
        hist = gan.fit(ds, epochs=1, verbose=0)
        runs.append((hist.history["d_loss"][0], hist.history["g_loss"][0]))
    assert runs[0] == runs[1]


def test_last_partial_batch_trains_and_counts_steps(mnist_small):
    keras.utils.set_random_seed(0)
    gan = GAN(models.dc_generator(noise_dim=8), models.dc_discriminator(), seed=0)
    gan.compile(keras.optimizers.Adam(1e-3, 0.5), keras.optimizers.Adam(1e-3, 0.5), loss="lsgan")
    ds = make_dataset(mnist_small[0][:130], batch_size=128, seed=0)  # batches of 128 and 2
    gan.fit(ds, epochs=2, verbose=0)
    assert gan.step == 4
    assert gan.generate(5).shape == (5, 28, 28)


def test_d_steps_and_label_tricks_run(mnist_small):
    keras.utils.set_random_seed(0)
    g, d = models.dense_generator(noise_dim=8), models.dense_discriminator()
    d_opt, g_opt = keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3)
    step = make_train_step(g, d, d_opt, g_opt, d_steps=3, label_smoothing=0.1, flip_prob=0.05, seed=0)
    out = step(next(iter(make_dataset(mnist_small[0], 32, flatten=True))))
    assert int(d_opt.iterations.numpy()) == 3 and int(g_opt.iterations.numpy()) == 1
    assert np.isfinite(float(out["d_loss"]))
    with pytest.raises(ValueError, match="label_smoothing"):
        make_train_step(g, d, d_opt, g_opt, loss="lsgan", label_smoothing=0.1)


def test_r1_weight_adds_half_gamma_times_the_penalty_to_the_discriminator_loss(mnist_small):
    """r1_weight γ: the reported d_loss of an update is the plain one + γ/2 · R1 of the discriminator (as it was
    before the update) at the real batch; the generator's loss is unchanged; build_gan passes the preset's γ."""
    batch = tf.constant(next(iter(make_dataset(mnist_small[0][:32], 32, seed=0, flatten=True))))

    def first_update(gamma):
        keras.utils.set_random_seed(0)
        g, d = models.dc_generator(noise_dim=8), models.dc_discriminator()
        r1 = float(r1_penalty(lambda x: d(x, training=True), batch))
        opts = [keras.optimizers.Adam(1e-3, 0.5) for _ in range(2)]
        d_fn, g_fn = get_loss("bce")
        out = gan_update(g, d, *opts, d_fn, g_fn, batch, StepSeeds(0, opts[1].iterations, 1), 8,
                         r1_weight=gamma)
        return float(out["d_loss"]), float(out["g_loss"]), r1

    plain, penalised = first_update(0.0), first_update(4.0)
    assert penalised[2] > 0 and penalised[2] == pytest.approx(plain[2])
    assert penalised[0] == pytest.approx(plain[0] + 0.5 * 4.0 * penalised[2], rel=1e-5)
    assert penalised[1] != plain[1]  # the discriminator the generator step sees was trained with the penalty
    assert build_gan(get_preset("fast64", r1_weight=0.5, width=8)).r1_weight == 0.5


def test_mode_seeking_pairs_fakes_of_one_class_and_only_it_moves_the_generator():
    """mode_seeking λ (MSGAN): D is constant (a zero output layer that does not train), so the adversarial loss
    gives G no gradient and any change of G comes from the mode-seeking term. A generator that ignores its noise
    draws one picture per class: the pairs (rows i and i + batch/2) share a class, their pictures are equal, the
    term's gradient is 0 and G stays as it was (had the pairs other classes, their pictures would differ and G
    would move). A generator that reads its noise moves with λ = 1 and stays with λ = 0."""
    classes, noise_dim, batch = 4, 8, 16

    def update(reads_noise, weight):
        keras.utils.set_random_seed(0)
        z, c = keras.Input((noise_dim,)), keras.Input((1,), dtype="int32")
        by_class = keras.layers.Reshape((28, 28, 1))(keras.layers.Embedding(classes, 28 * 28)(c))
        by_noise = keras.layers.Reshape((28, 28, 1))(keras.layers.Dense(28 * 28, trainable=reads_noise,
                                                                        kernel_initializer="zeros"
                                                                        if not reads_noise else "glorot_uniform")(z))
        g = keras.Model([z, c], keras.layers.Activation("tanh")(keras.layers.Add()([by_class, by_noise])))
        x, y = keras.Input((28, 28, 1)), keras.Input((1,), dtype="int32")
        zero = keras.layers.Dense(1, kernel_initializer="zeros")(keras.layers.Flatten()(x))
        table = keras.layers.Embedding(classes, 1, embeddings_initializer="zeros")
        d = keras.Model([x, y], keras.layers.Add()([zero, keras.layers.Flatten()(table(y))]))
        d_opt, g_opt = keras.optimizers.SGD(0.0), keras.optimizers.Adam(1e-2)
        before = [w.numpy().copy() for w in g.trainable_variables]
        gan_update(g, d, d_opt, g_opt, *get_loss("bce"), np.zeros((batch, 28, 28, 1), "float32"),
                   StepSeeds(0, g_opt.iterations, 1), noise_dim, labels=np.zeros((batch, 1), "int32"),
                   num_classes=classes, mode_seeking=weight)
        return max(float(np.abs(w.numpy() - b).max()) for w, b in zip(g.trainable_variables, before))

    drawn = keras.ops.convert_to_numpy(StepSeeds(0, tf.Variable(0, dtype="int64"), 1).labels(batch, 1, classes))
    assert (drawn[:batch // 2] != drawn[batch // 2:]).any()  # unpaired, the update's classes would differ
    assert update(reads_noise=False, weight=1.0) == 0.0
    assert update(reads_noise=True, weight=0.0) == 0.0
    assert update(reads_noise=True, weight=1.0) > 1e-3
    assert build_gan(get_preset("fast64", mode_seeking=1.0, width=8)).mode_seeking == 1.0
    with pytest.raises(ValueError, match="0 with a batch of 1"):
        get_preset("cgan64", mode_seeking=1.0, batch_size=1).validate()


def test_lazy_r1_is_an_extra_discriminator_step_on_n_times_the_penalty_every_n_updates(mnist_small):
    """r1_every N = 2 (lazy R1, Karras et al. 2020): update 1 is the plain update (no penalty, no extra step);
    after update 2, one more D step on γ·N/2·R1 alone, so D's weights are the plain run's minus lr·∇(γ·N/2·R1)
    (plain SGD, so the step can be written down); the reported d_loss has no penalty in it."""
    batch = tf.constant(next(iter(make_dataset(mnist_small[0][:32], 32, seed=0, flatten=True))))
    gamma, every, lr = 3.0, 2, 0.05

    def two_updates(r1_weight):
        keras.utils.set_random_seed(0)
        g, d = models.dc_generator(noise_dim=8), models.dc_discriminator()
        d_opt, g_opt = keras.optimizers.SGD(lr), keras.optimizers.Adam(1e-3, 0.5)
        d_fn, g_fn = get_loss("bce")
        seeds = StepSeeds(0, g_opt.iterations, 1)
        update = tf.function(lambda: gan_update(g, d, d_opt, g_opt, d_fn, g_fn, batch, seeds, 8,
                                                r1_weight=r1_weight, r1_every=every))
        outs = [update() for _ in range(2)]
        return d, d_opt, [float(o["d_loss"]) for o in outs]

    d_plain, opt_plain, losses_plain = two_updates(0.0)
    d_lazy, opt_lazy, losses_lazy = two_updates(gamma)
    assert int(opt_plain.iterations) == 2 and int(opt_lazy.iterations) == 3
    assert losses_lazy == pytest.approx(losses_plain, rel=1e-6)
    with tf.GradientTape() as tape:
        loss = 0.5 * gamma * every * r1_penalty(lambda x: d_plain(x, training=True), batch)
    grads = tape.gradient(loss, d_plain.trainable_variables)
    for v_plain, v_lazy, grad in zip(d_plain.trainable_variables, d_lazy.trainable_variables, grads):
        expected = v_plain.numpy() - (0.0 if grad is None else lr * grad.numpy())
        np.testing.assert_allclose(v_lazy.numpy(), expected, rtol=1e-4, atol=1e-6)
    assert any(g is not None and float(tf.reduce_max(tf.abs(g))) > 0 for g in grads)
    assert build_gan(get_preset("fast64", r1_weight=0.1, r1_every=16, width=8)).r1_every == 16


def test_run_a_gan_loop_shows_grids_and_records_history(mnist_small):
    keras.utils.set_random_seed(0)
    shown = []
    hist = run_a_gan(models.dense_generator(noise_dim=16), models.dense_discriminator(),
                     make_dataset(mnist_small[0][:640], 64, flatten=True), num_epochs=2, show_every=8,
                     print_every=0, show=lambda imgs, step: shown.append((step, imgs.shape, imgs.min(), imgs.max())))
    assert hist["step"] == list(range(20))
    assert [s[0] for s in shown] == [0, 8, 16]
    assert all(s[1] == (16, 28, 28) and s[2] >= 0 and s[3] <= 1 for s in shown)


def test_ema_weights_follow_the_formula(mnist_small):
    keras.utils.set_random_seed(0)
    gan = GAN(models.small_generator(noise_dim=8, width=8), models.small_discriminator(width=8), seed=0,
              ema_decay=0.999)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    before = [w.numpy().copy() for w in gan.generator.weights]
    gan.fit(make_dataset(mnist_small[0][:32], 32), epochs=1, verbose=0)
    decay = min(0.999, (1 + 1) / (10 + 1))  # warm-up decay at t = 1
    for ema, w, w0 in zip(gan.ema_generator.weights, gan.generator.weights, before):
        np.testing.assert_allclose(ema.numpy(), decay * w0 + (1 - decay) * w.numpy(), rtol=1e-5, atol=1e-6)
    assert gan.sampler is gan.ema_generator


@pytest.mark.parametrize("conditional", [False, True])
def test_recomputed_batchnorm_statistics_are_those_of_the_generators_own_pictures(conditional):
    """recompute_batchnorm_statistics (SWA's bn_update): afterwards each BatchNorm layer's moving mean and variance
    are the mean and variance of its inputs when G, in inference mode, draws from the same uniform noise (and
    balanced labels); the layers' trainable flag and momentum are as before."""
    keras.utils.set_random_seed(0)
    g = (models.dcgan_conditional_generator(8, (16, 16, 3), width=4, num_classes=3) if conditional
         else models.dcgan_generator(8, (16, 16, 3), width=4))
    g.trainable = False  # as the EMA generator is
    norms = [l for l in g.layers if isinstance(l, keras.layers.BatchNormalization)]
    z = uniform_noise(256, 8, seed=3)
    inputs = [z, cycling_labels(256, 3).astype(np.int32).reshape(-1, 1)] if conditional else z
    first_input = np.asarray(keras.Model(g.input, norms[0].input)(inputs, training=False))
    assert not np.allclose(norms[0].moving_mean.numpy(), first_input.mean(axis=tuple(range(first_input.ndim - 1))))
    assert recompute_batchnorm_statistics(g, 256, seed=3) == len(norms) == 2
    for layer in norms:
        x = np.asarray(keras.Model(g.input, layer.input)(inputs, training=False), np.float64)
        axes = tuple(range(x.ndim - 1))
        np.testing.assert_allclose(layer.moving_mean.numpy(), x.mean(axis=axes), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(layer.moving_variance.numpy(), x.var(axis=axes), rtol=1e-3, atol=1e-6)
        assert layer.momentum == 0.99 and not layer.trainable
    assert recompute_batchnorm_statistics(models.dense_discriminator(), 8) == 0  # nothing to set


def test_ema_bn_samples_recomputes_the_samplers_statistics_and_leaves_training_alone(emoji_small):
    """With ema_bn_samples the sampler is the EMA generator with its BatchNorm statistics recomputed from that
    many noise vectors (seeded by the GAN's seed), once per step; the trained weights and the EMA's trainable
    weights are those of the same run without it."""
    images = tf.data.Dataset.from_tensor_slices(scale_images(emoji_small[:32, ::2, ::2], "tanh")).batch(16)
    gans = {}
    for n in (0, 64):
        gan = build_gan(get_preset("fast32", width=4, noise_dim=8, batch_size=16, ema_bn_samples=n,
                                   precision="float32").validate())
        gan.fit(images, epochs=1, verbose=0)
        gans[n] = gan
    plain, recomputed = gans[0], gans[64]
    for a, b in [(plain.generator.weights, recomputed.generator.weights),
                 (plain.ema_generator.trainable_weights, recomputed.ema_generator.trainable_weights)]:
        for wa, wb in zip(a, b):
            np.testing.assert_array_equal(wa.numpy(), wb.numpy())
    stats = lambda g: [w.numpy() for w in g.weights if "moving" in w.path]
    assert recomputed.sampler is recomputed.ema_generator
    want = stats(plain.ema_generator)
    recompute_batchnorm_statistics(plain.ema_generator, 64, seed=recomputed.seed)
    assert all(np.array_equal(a, b) for a, b in zip(stats(plain.ema_generator), stats(recomputed.sampler)))
    assert not all(np.allclose(a, b) for a, b in zip(want, stats(recomputed.sampler)))
    # once per step: asked again at the same step, the sampler keeps what it has
    first_norm = next(l for l in recomputed.ema_generator.layers if isinstance(l, keras.layers.BatchNormalization))
    first_norm.moving_mean.assign(np.zeros(first_norm.moving_mean.shape, np.float32))
    assert not recomputed.sampler.get_layer(first_norm.name).moving_mean.numpy().any()
    with pytest.raises(ValueError, match=r"ema_bn_samples = -1 is invalid.*--ema-bn-samples"):
        get_preset("fast32", ema_bn_samples=-1).validate()
    # without the moving average (fast64 with --ema-decay 0) there is nothing to recompute: the sampler is G
    no_ema = build_gan(get_preset("fast32", width=4, noise_dim=8, ema_decay=0.0, ema_bn_samples=64).validate())
    assert no_ema.sampler is no_ema.generator


def test_run_a_gan_uses_a_learners_train_step_and_noise():
    """run_a_gan(train_step=..., noise_fn=...): the learner's update and sampler are what trains the models."""
    import keras
    import numpy as np
    import tensorflow as tf

    from gan_lab import losses
    from gan_lab.gan import run_a_gan
    from gan_lab.models import dense_discriminator, dense_generator

    calls = {"step": 0, "noise": 0}

    def noise_fn(n):
        calls["noise"] += 1  # counted while tracing: the step is a tf.function
        return tf.random.uniform((n, 4), -1.0, 1.0)

    def train_step(real, G, D, d_opt, g_opt, noise):
        calls["step"] += 1
        with tf.GradientTape() as tape:
            d_loss = losses.discriminator_loss(D(real), D(G(noise(tf.shape(real)[0]))))
        d_opt.apply_gradients(zip(tape.gradient(d_loss, D.trainable_variables), D.trainable_variables))
        with tf.GradientTape() as tape:
            g_loss = losses.generator_loss(D(G(noise(tf.shape(real)[0]))))
        g_opt.apply_gradients(zip(tape.gradient(g_loss, G.trainable_variables), G.trainable_variables))
        return d_loss, g_loss + 100.0  # shifted: shows the history holds what the learner's step returned

    keras.utils.set_random_seed(0)
    G, D = dense_generator(noise_dim=4), dense_discriminator()
    before = G.get_weights()[0].copy()
    data = tf.data.Dataset.from_tensor_slices(np.zeros((64, 28, 28, 1), "float32")).batch(16)
    history = run_a_gan(G, D, data, num_epochs=1, show_every=0, print_every=0, train_step=train_step,
                        noise_fn=noise_fn)
    assert len(history["step"]) == 4 and calls["step"] == 1 and calls["noise"] == 2  # traced once
    assert not np.array_equal(before, G.get_weights()[0])
    assert all(100.0 < g < 110.0 for g in history["g_loss"]), history["g_loss"]


# --- InfoGAN's categorical code -------------------------------------------------------------------------------

def test_info_gan_update_trains_the_code_head_and_the_generator_reads_its_code(mnist_small):
    """With info_codes the generator's code comes from its noise, the code head (a Dense layer on D's features)
    learns to predict it, and the update reports the code cross-entropy."""
    preset = get_preset("fast_infogan", noise_dim=16, width=8, info_codes=4, batch_size=32,
                        precision="float32", ema_decay=0.0)
    gan = build_gan(preset)
    head = gan.code_head.get_layer("code_logits")
    before = [w.numpy().copy() for w in head.weights]
    logs = gan.fit(make_dataset(mnist_small[0][:320], 32, seed=0), epochs=1, verbose=0).history
    assert "info_loss" in logs and np.isfinite(logs["info_loss"]).all()
    assert all(not np.array_equal(b, w.numpy()) for b, w in zip(before, head.weights))
    # the code head shares the discriminator's layers: its logit is the discriminator's output
    x = mnist_small[0][:8].astype("float32")[..., None] / 127.5 - 1
    np.testing.assert_allclose(gan.code_head(x)[0].numpy(), gan.discriminator(x).numpy(), rtol=1e-6)
    # two noise vectors that differ only in which of the first 4 values is largest give different images
    z = np.zeros((2, 16), "float32")
    z[0, 0], z[1, 3] = 1.0, 1.0
    images = gan.generator(z, training=False).numpy()
    assert not np.allclose(images[0], images[1])


# --- self-conditioning on clusters ------------------------------------------------------------------------------

@pytest.mark.parametrize("freq", [[0.25, 0.75], [[0.25, 0.75], [0.5, 0.5]]])
def test_self_conditioned_update_shows_the_discriminator_the_cluster_each_fake_was_drawn_from(freq):
    """D's score is its label's embedding (the label's own number; the image is ignored), so its mean score on
    the fakes is the mean label it was told: it must be the mean of the labels the update's noise (and, for
    clusters within classes, its random classes) select. Two clusters, or two clusters in each of two classes."""
    noise_dim, labels = 8, np.size(freq)
    inner = models.small_conditional_generator(noise_dim=noise_dim, width=8, num_classes=labels)
    g = models.with_cluster_prior(inner, freq)
    x, y = keras.Input((28, 28, 1)), keras.Input((1,), dtype="int32")
    table = keras.layers.Embedding(labels, 1, embeddings_initializer=keras.initializers.Constant(
        np.arange(labels, dtype="float32")[:, None]))
    ignored = keras.layers.Lambda(lambda t: 0.0 * keras.ops.mean(t, axis=(1, 2)))(x)
    d = keras.Model([x, y], keras.layers.Add()([keras.layers.Flatten()(table(y)), ignored]))
    d_opt, g_opt = keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3)
    d_opt.build(d.trainable_variables)
    g_opt.build(g.trainable_variables)
    seeds = StepSeeds(0, g_opt.iterations, 1)
    classes = seeds.labels(64, 0, 2) if np.ndim(freq) == 2 else None
    picked = keras.ops.convert_to_numpy(cluster_of_noise(seeds.noise(64, 0, noise_dim), freq, classes))
    out = gan_update(g, d, d_opt, g_opt, *get_loss("bce"), np.zeros((64, 28, 28, 1), "float32"), seeds, noise_dim,
                     labels=np.zeros((64, 1), "int32"), num_classes=2,
                     label_of_noise=functools.partial(cluster_of_noise, frequencies=freq))
    assert len(np.unique(picked)) == labels  # every label drawn: the test can tell them apart
    assert float(out["real_score"]) == 0.0
    assert float(out["fake_score"]) == pytest.approx(picked.mean(), abs=1e-5)
