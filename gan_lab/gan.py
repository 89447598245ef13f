"""The GAN itself: one update as a ``tf.function``, the ``GAN`` Keras model, and a plain ``run_a_gan`` loop.

Two ways to train the same update:

- :func:`make_train_step` returns a ``tf.function`` you call from a Python loop (what :func:`run_a_gan` and
  the first notebook do): ``losses = step(real_batch)``.
- :class:`GAN` is a ``keras.Model`` whose ``train_step`` performs that update, so ``gan.fit(dataset)`` works
  with Keras's progress bar, history and callbacks (what the CLI and :func:`gan_lab.train.train` do).

One update = ``d_steps`` discriminator steps on the real batch and fresh fake batches, then one generator
step. Noise is uniform in [-1, 1] and sized from the real batch, so a last partial batch trains fine.
"""
from __future__ import annotations

import functools

import keras
import numpy as np
import tensorflow as tf

from gan_lab.augment import make_augment
from gan_lab.data import to_unit_range
from gan_lab.distribute import loggable
from gan_lab.losses import (get_loss, gradient_penalty, info_code_loss, mode_seeking_loss, r1_penalty,
                             reconstruction_loss)
from gan_lab.models import cluster_of_noise, code_of_noise, preset_pair, with_code_head, with_recon_decoders
from gan_lab.ops import sample_noise
from gan_lab.plots import show_images
from gan_lab.presets import resolve_precision
from gan_lab.sampling import (generate, is_conditional, noise_dim_of, num_classes_of, recompute_batchnorm_statistics,
                              uniform_noise)


def _as_images_for(model, x):
    """Reshape a batch to the input shape ``model`` expects ((N, 784) or (N, 28, 28, 1))."""
    shape = model.inputs[0].shape[1:]
    return tf.reshape(x, [-1, *shape])


def resolve_losses(loss="bce", label_smoothing: float = 0.0, flip_prob: float = 0.0):
    """``(d_loss_fn, g_loss_fn)`` from a loss name (or a pair of functions), with the label tricks bound."""
    if isinstance(loss, str):
        d_fn, g_fn = get_loss(loss)
        if label_smoothing or flip_prob:
            if loss not in ("bce", "minimax"):
                raise ValueError(f"label_smoothing and flip_prob apply to the bce/minimax losses, not {loss!r}")
            d_fn = functools.partial(d_fn, label_smoothing=label_smoothing, flip_prob=flip_prob)
        return d_fn, g_fn
    d_fn, g_fn = loss
    return d_fn, g_fn


def replica_id():
    """This replica's index in its sync group (0 outside a tf.distribute strategy)."""
    ctx = tf.distribute.get_replica_context()
    if ctx is None:
        return tf.constant(0, tf.int64)
    return tf.cast(ctx.replica_id_in_sync_group, tf.int64)


class StepSeeds:
    """Stateless seeds for every random draw of a train step: noise, fake labels, the gradient penalty's α and
    label flips are each a pure function of (seed, global step, k-th draw of the update, what is drawn,
    replica id).

    The global step is saved in every checkpoint, so a resumed run draws exactly what the uninterrupted run
    would have drawn, and under ``tf.distribute`` every replica draws its own numbers without synchronizing
    any random-generator state. (No stateful ``tf.random`` op and no global seed is used in a train step.)
    """

    NOISE, LABELS, GP_ALPHA, FLIPS = 0, 7919, 104729, 15485863  # one stream per kind of draw
    AUGMENT_REAL, AUGMENT_FAKE = 32452843, 49979687              # DiffAugment of real / fake images
    QUARTERS = 67867967                                          # the quarter FastGAN's part decoder redraws

    def __init__(self, seed: int, step_variable, d_steps: int):
        self.seed, self.step_variable, self.d_steps = int(seed), step_variable, int(d_steps)

    def __call__(self, k: int, stream: int):
        """The seed pair of draw ``k`` (0 .. d_steps) of this update for ``stream``."""
        counter = tf.cast(self.step_variable, tf.int64) * (self.d_steps + 1) + k
        return tf.stack([tf.constant(self.seed + stream, tf.int64) + 1_000_003 * replica_id(), counter])

    def noise(self, batch, k: int, noise_dim: int):
        """(batch, noise_dim) uniform in [-1, 1]."""
        return tf.random.stateless_uniform((batch, noise_dim), seed=self(k, self.NOISE), minval=-1.0, maxval=1.0)

    def labels(self, batch, k: int, num_classes: int):
        """(batch, 1) int32 classes, uniform: the labels of a conditional generator's fakes."""
        return tf.random.stateless_uniform((batch, 1), seed=self(k, self.LABELS), minval=0, maxval=num_classes,
                                           dtype=tf.int32)

    def quarters(self, batch, k: int):
        """(batch, 1) int32 quarters 0-3 of the real images, uniform (FastGAN's part decoder)."""
        return tf.random.stateless_uniform((batch, 1), seed=self(k, self.QUARTERS), minval=0, maxval=4,
                                           dtype=tf.int32)


def discriminator_variables(discriminator, code_head=None, recon_head=None):
    """The variables the discriminator's optimizer trains: the discriminator's, or those of the model with its
    head (InfoGAN's code head or FastGAN's decoders), which shares every discriminator layer."""
    return next(m for m in (code_head, recon_head, discriminator) if m is not None).trainable_variables


def check_lazy_r1(r1_weight: float, r1_every: int, replicas: int):
    """Lazy R1 (``r1_every`` > 1) steps the optimizer inside ``tf.cond``, which ``tf.distribute`` cannot
    synchronize across replicas: a ValueError saying what to do instead when there are several."""
    if r1_weight and r1_every > 1 and replicas > 1:
        raise ValueError(f"lazy R1 (r1_every = {r1_every}) does not work with {replicas} replicas: train on one "
                         "device, or use r1_every = 1 (the penalty in every discriminator step)")


def gan_update(generator, discriminator, d_optimizer, g_optimizer, d_loss_fn, g_loss_fn, real, seeds: StepSeeds,
               noise_dim: int, d_steps: int = 1, labels=None, num_classes: int = 10, gp_weight: float = 0.0,
               flip_labels: bool = False, augment=None, code_head=None, info_weight: float = 1.0,
               label_of_noise=None, r1_weight: float = 0.0, r1_every: int = 1, recon_head=None,
               recon_weight: float = 1.0, mode_seeking: float = 0.0):
    """One GAN update (trace it inside a ``tf.function`` or a Keras ``train_step``).

    ``d_steps`` discriminator steps on the real batch and fresh fake batches, then one generator step; every
    random number comes from ``seeds`` (:class:`StepSeeds`).
    Conditional GANs: pass the real ``labels``; fakes get uniform random labels, the generator is called on
    ``[noise, labels]`` and the discriminator on ``[images, labels]``.
    Self-conditioned GANs (Liu et al. 2020): ``labels`` are the real images' clusters and
    ``label_of_noise(noise, classes=...)`` gives the cluster the generator picks from the noise
    (:func:`gan_lab.models.cluster_of_noise`); the generator is called on the noise alone (``classes`` None), or,
    for clusters within classes, on ``[noise, classes]`` with uniform random classes; the discriminator on
    ``[images, clusters]``.
    WGAN-GP: ``gp_weight`` (λ) adds λ·:func:`gan_lab.losses.gradient_penalty` to the critic's loss.
    R1: ``r1_weight`` (γ) adds γ/2·:func:`gan_lab.losses.r1_penalty` on the real batch to the discriminator's
    loss; with ``r1_every`` N > 1 it is lazy instead (Karras et al. 2020, StyleGAN2 §3.1): after every N-th
    update, one extra discriminator step on γ·N/2·R1 alone, and no penalty in the other steps (the cost of R1's
    double backward pass divided by N).
    ``flip_labels``: ``d_loss_fn`` flips targets at random and takes a ``seed=`` (see :func:`resolve_losses`).
    ``augment``: ``augment(images, seed)`` applied to the real and the fake images before the discriminator, in
    both updates (DiffAugment, :mod:`gan_lab.augment`), with seeds from ``seeds`` (not to the penalty's x̂).
    ``code_head``: InfoGAN (Chen et al. 2016): a model ``image -> [logit, code logits]`` sharing the
    discriminator's layers (:func:`gan_lab.models.with_code_head`) and a generator that reads its code from the
    noise (:func:`gan_lab.models.with_info_code`); ``info_weight`` (λ) times
    :func:`gan_lab.losses.info_code_loss` on the fakes is added to both losses, and the head trains with D.
    ``recon_head``: FastGAN's self-supervised discriminator (Liu et al. 2021): a model ``[image, quarter] ->
    [logits, whole, part]`` sharing the discriminator's layers (:func:`gan_lab.models.with_recon_decoders`); the
    real batch (after DiffAugment, if any) goes through it, with a random quarter per image, and
    ``recon_weight`` times :func:`gan_lab.losses.reconstruction_loss` is added to the discriminator's loss.
    ``mode_seeking`` (λ, MSGAN, Mao et al. 2019): in the generator step the second half of the fakes gets the
    first half's classes, and λ times :func:`gan_lab.losses.mode_seeking_loss` of the pairs (row i and row
    i + batch/2) is added to the generator's loss (not to the reported ``g_loss``); an unconditional
    generator's pairs are any two of its fakes.

    Returns a dict of scalar tensors: ``d_loss``, ``g_loss``, and the discriminator's mean raw outputs on
    real and fake images (``real_score``, ``fake_score``; for BCE losses these are logits); with a
    ``code_head`` also ``info_loss`` (the generator step's code cross-entropy, without λ); with a ``recon_head``
    also ``recon_loss`` (the last discriminator step's, without the weight).

    Under a ``tf.distribute`` strategy each replica computes the losses on its share of the global batch;
    gradients are summed across replicas by the optimizer, so each replica's loss is divided by the number of
    replicas: the update equals the single-device update on the global batch (same as
    ``tf.nn.compute_average_loss``). Reported losses are the unscaled per-replica values (Keras averages them).
    """
    real = _as_images_for(discriminator, real)
    batch = tf.shape(real)[0]
    f32 = lambda t: tf.cast(t, tf.float32)  # mixed precision: losses are computed in float32
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    conditional = labels is not None
    if conditional:
        labels = tf.reshape(tf.cast(labels, tf.int32), [-1, 1])

    takes_classes = is_conditional(generator)

    def fake_batch(k, paired=False):
        noise = seeds.noise(batch, k, noise_dim)
        classes = seeds.labels(batch, k, num_classes) if takes_classes else None
        if paired and takes_classes:  # mode seeking: rows i and i + batch/2 share a class
            half = batch // 2
            classes = tf.concat([classes[:half], classes[:half], classes[2 * half:]], axis=0)
        images = generator([noise, classes] if takes_classes else noise, training=True)
        fake_labels = classes if label_of_noise is None else label_of_noise(noise, classes=classes)
        return _as_images_for(discriminator, images), fake_labels, noise

    def D(x, y, augment_seed=None):
        if augment is not None and augment_seed is not None:
            x = augment(x, augment_seed)
        return f32(discriminator([x, y] if conditional else x, training=True))

    def D_fake(fake, fake_labels, noise, augment_seed):
        """D's outputs on the fakes and the InfoGAN term (0 without a code head)."""
        if code_head is None:
            return D(fake, fake_labels, augment_seed), 0.0
        x = augment(fake, augment_seed) if augment is not None else fake
        out, code_logits = code_head(x, training=True)
        return f32(out), info_code_loss(code_of_noise(noise, code_logits.shape[-1]), code_logits)

    def D_real(k):
        """D's outputs on the real batch and FastGAN's reconstruction loss (0 without decoders)."""
        if recon_head is None:
            return D(real, labels, seeds(k, seeds.AUGMENT_REAL)), 0.0
        x = augment(real, seeds(k, seeds.AUGMENT_REAL)) if augment is not None else real
        quarters = seeds.quarters(batch, k)
        out, whole, part = recon_head([x, quarters], training=True)
        return f32(out), reconstruction_loss(x, whole, part, quarters)

    d_vars = discriminator_variables(discriminator, code_head, recon_head)

    for k in range(d_steps):
        with tf.GradientTape() as tape:
            fake, fake_labels, noise = fake_batch(k)
            real_out, recon = D_real(k)
            fake_out, info = D_fake(fake, fake_labels, noise, seeds(k, seeds.AUGMENT_FAKE))
            d_loss = d_loss_fn(real_out, fake_out, **({"seed": seeds(k, seeds.FLIPS)} if flip_labels else {}))
            if gp_weight:
                d_loss = d_loss + gp_weight * gradient_penalty(lambda x: D(x, labels), real,
                                                               tf.cast(fake, real.dtype),
                                                               seed=seeds(k, seeds.GP_ALPHA))
            if r1_weight and r1_every == 1:
                d_loss = d_loss + 0.5 * r1_weight * r1_penalty(lambda x: D(x, labels), real)
            total = d_loss + info_weight * info if code_head is not None else d_loss
            if recon_head is not None:
                total = total + recon_weight * recon
            scaled = total / replicas if replicas > 1 else total
        d_optimizer.apply_gradients(zip(tape.gradient(scaled, d_vars), d_vars))
    with tf.GradientTape() as tape:
        fake, fake_labels, noise = fake_batch(d_steps, paired=bool(mode_seeking))
        g_out, info = D_fake(fake, fake_labels, noise, seeds(d_steps, seeds.AUGMENT_FAKE))
        g_loss = g_loss_fn(g_out)
        total = g_loss + info_weight * info if code_head is not None else g_loss
        if mode_seeking:
            half = batch // 2
            total = total + mode_seeking * mode_seeking_loss(fake[:half], fake[half:2 * half], noise[:half],
                                                             noise[half:2 * half])
        scaled = total / replicas if replicas > 1 else total
    g_vars = generator.trainable_variables
    g_optimizer.apply_gradients(zip(tape.gradient(scaled, g_vars), g_vars))
    out = {"d_loss": d_loss, "g_loss": g_loss,
           "real_score": tf.reduce_mean(real_out), "fake_score": tf.reduce_mean(fake_out)}
    if code_head is not None:
        out["info_loss"] = info
    if recon_head is not None:
        out["recon_loss"] = recon
    if r1_weight and r1_every > 1:
        check_lazy_r1(r1_weight, r1_every, replicas)

        def lazy_r1_step():
            with tf.GradientTape() as tape:
                loss = 0.5 * r1_weight * r1_every * r1_penalty(lambda x: D(x, labels), real)
                scaled = loss / replicas if replicas > 1 else loss
            grads = tape.gradient(scaled, d_vars)  # None for biases of the last layer: R1 does not depend on them
            d_optimizer.apply_gradients([(g, v) for g, v in zip(grads, d_vars) if g is not None])
            return loss

        step = tf.cast(seeds.step_variable, tf.int64)  # updates done, this one included (G's step counter)
        tf.cond(step % r1_every == 0, lazy_r1_step, lambda: tf.constant(0.0))
    return out


def _resolve_seed(seed):
    return int(np.random.randint(0, 2 ** 31 - 1)) if seed is None else int(seed)


def make_train_step(generator, discriminator, d_optimizer, g_optimizer, loss="bce", noise_dim=None,
                    d_steps: int = 1, seed=None, label_smoothing: float = 0.0, flip_prob: float = 0.0):
    """A ``tf.function`` ``step(real_batch) -> {"d_loss", "g_loss", ...}`` for a plain Python loop.

    ``loss`` is a name from :data:`gan_lab.losses.LOSSES` or a ``(d_loss_fn, g_loss_fn)`` pair (for example
    a learner's own functions). ``seed`` makes the noise sequence reproducible.
    """
    d_loss_fn, g_loss_fn = resolve_losses(loss, label_smoothing, flip_prob)
    noise_dim = noise_dim or noise_dim_of(generator)
    for opt, model in ((d_optimizer, discriminator), (g_optimizer, generator)):
        if not opt.built:
            opt.build(model.trainable_variables)
    seeds = StepSeeds(_resolve_seed(seed), g_optimizer.iterations, d_steps)

    @tf.function
    def step(real):
        return gan_update(generator, discriminator, d_optimizer, g_optimizer, d_loss_fn, g_loss_fn, real, seeds,
                          noise_dim, d_steps, flip_labels=flip_prob > 0)

    return step


class GAN(keras.Model):
    """A generator and a discriminator trained together with ``fit()``.

    Example::

        gan = GAN(dc_generator(96), dc_discriminator(), seed=0)
        gan.compile(d_optimizer=keras.optimizers.Adam(1e-3, 0.5), g_optimizer=keras.optimizers.Adam(1e-3, 0.5),
                    loss="bce")
        gan.fit(make_dataset(images), epochs=5)
        images = gan.generate(16)            # (16, 28, 28) in the generator's range

    The global step is ``gan.g_optimizer.iterations`` (one per generator update); it is saved in checkpoints,
    and every random draw of a train step is a function of it (:class:`StepSeeds`), so a resumed run is the
    run it would have been.

    With ``ema_decay`` (e.g. 0.999) the model also keeps ``gan.ema_generator``, an exponential moving average
    of the generator's weights (Yazıcı et al. 2019), updated after every generator step with the warm-up
    ``decay_t = min(ema_decay, (1 + t) / (10 + t))``. :attr:`sampler` is the EMA generator when enabled: use it
    for pictures and evaluation. With ``ema_bn_samples`` = n as well, the sampler's BatchNorm statistics are
    recomputed for its own weights from n noise vectors (:func:`gan_lab.sampling.recompute_batchnorm_statistics`)
    whenever it is asked for after a training step; training itself does not change.

    With ``info_codes`` = k (InfoGAN, Chen et al. 2016) the generator must read a k-way code from its noise
    (:func:`gan_lab.models.with_info_code`, as :func:`build_gan` does) and ``gan.code_head`` predicts the code
    from the discriminator's features; ``info_weight`` is λ (see :func:`gan_update`).

    With ``recon_weight`` > 0 (FastGAN, Liu et al. 2021) ``gan.recon_head`` adds two small decoders to the
    discriminator that redraw the real images from its features, and the discriminator's loss gains
    ``recon_weight`` times their reconstruction loss (see :func:`gan_update`).

    With ``mode_seeking`` = λ > 0 (MSGAN, Mao et al. 2019) the generator's loss gains λ times
    :func:`gan_lab.losses.mode_seeking_loss` of pairs of fakes drawn for the same class (see :func:`gan_update`).

    With ``cluster_frequencies`` (self-conditioning, Liu et al. 2020) the discriminator's labels are clusters,
    the generator picks a cluster from its noise with these frequencies (one row per class for clusters within
    classes; :func:`gan_lab.models.with_cluster_prior`) and the data are ``(images, clusters)`` batches
    (:func:`gan_lab.clusters.cluster_labels`).
    """

    def __init__(self, generator, discriminator, noise_dim=None, d_steps: int = 1, seed=None,
                 ema_decay: float = 0.0, gp_weight: float = 0.0, num_classes: int | None = None, augment=None,
                 info_codes: int = 0, info_weight: float = 1.0, cluster_frequencies=None, r1_weight: float = 0.0,
                 r1_every: int = 1, recon_weight: float = 0.0, ema_bn_samples: int = 0,
                 mode_seeking: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.conditional = is_conditional(generator)
        self.cluster_frequencies = None if cluster_frequencies is None else np.asarray(cluster_frequencies).tolist()
        self.num_classes = num_classes_of(generator) if num_classes is None else int(num_classes)
        self.gp_weight = float(gp_weight)
        self.r1_weight = float(r1_weight)
        self.r1_every = int(r1_every)
        self.augment = augment  # DiffAugment: augment(images, seed) before D (gan_lab.augment.make_augment)
        self.code_head = with_code_head(discriminator, info_codes) if info_codes else None
        self.info_weight = float(info_weight)
        self.recon_weight = float(recon_weight)
        self.recon_head = with_recon_decoders(discriminator) if recon_weight else None
        self.mode_seeking = float(mode_seeking)
        self.noise_dim = int(noise_dim or noise_dim_of(generator))
        self.d_steps = int(d_steps)
        self.seed = _resolve_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)  # for generate(); training noise is stateless
        self.ema_decay = float(ema_decay)
        self.ema_bn_samples = int(ema_bn_samples)
        self._statistics_step = None  # the step the sampler's BatchNorm statistics were recomputed at
        self.ema_generator = None
        if self.ema_decay:
            self.ema_generator = keras.models.clone_model(generator)
            self.ema_generator.set_weights(generator.get_weights())
            self.ema_generator.trainable = False
        self.built = True  # the sub-models are built; Keras must not trace call() on a data batch

    @property
    def sampler(self):
        """The generator to sample from: the EMA copy when ``ema_decay`` is set (with ``ema_bn_samples``, its
        BatchNorm statistics recomputed for the current step first), else the generator."""
        if self.ema_generator is None:
            return self.generator
        step = self.step if hasattr(self, "g_optimizer") else 0  # 0 before compile()
        if self.ema_bn_samples and self._statistics_step != step:
            recompute_batchnorm_statistics(self.ema_generator, self.ema_bn_samples, seed=self.seed)
            self._statistics_step = step
        return self.ema_generator

    def _update_ema(self):
        t = tf.cast(self.g_optimizer.iterations, tf.float32)
        decay = tf.minimum(self.ema_decay, (1.0 + t) / (10.0 + t))
        for ema_w, w in zip(self.ema_generator.weights, self.generator.weights):
            ema_w.assign(decay * ema_w + (1.0 - decay) * tf.cast(w, ema_w.dtype))

    def compile(self, d_optimizer, g_optimizer, loss="bce", label_smoothing: float = 0.0, flip_prob: float = 0.0,
                **kwargs):
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.d_loss_fn, self.g_loss_fn = resolve_losses(loss, label_smoothing, flip_prob)
        self.flip_labels = flip_prob > 0
        # Build the optimizers now so checkpoints can be restored before the first step.
        d_optimizer.build(discriminator_variables(self.discriminator, self.code_head, self.recon_head))
        g_optimizer.build(self.generator.trainable_variables)
        self.seeds = StepSeeds(self.seed, g_optimizer.iterations, self.d_steps)

    def _maybe_symbolic_build(self, *args, **kwargs):
        # Overrides a private hook of Keras's TensorFlow trainer (keras/src/backend/tensorflow/trainer.py), which
        # fit() calls before training when the model was built under a tf.distribute strategy: it takes a data
        # batch and all-reduces it to trace call(), which fails for (images, labels) batches under
        # MultiWorkerMirroredStrategy ("Attempt to convert a value (PerReplica...)"). The generator and the
        # discriminator are built at construction, so there is nothing to build. tests/test_distribute.py fails
        # if Keras renames the hook (signature test) or if a conditional multi-worker run breaks.
        return

    @property
    def step(self) -> int:
        """Generator updates done so far (the global step)."""
        return int(self.g_optimizer.iterations.numpy())

    def sample_noise(self, n):
        return keras.random.uniform((n, self.noise_dim), minval=-1.0, maxval=1.0, seed=self.seed_generator)

    def call(self, noise, training=False):
        return self.generator(noise, training=training)

    def train_step(self, data):
        real, labels = (data[0], data[1]) if isinstance(data, (tuple, list)) else (data, None)
        takes_labels = self.conditional or self.cluster_frequencies is not None
        if takes_labels and labels is None:
            raise ValueError("a conditional or self-conditioned GAN trains on (images, labels) batches: build the "
                             "dataset with make_dataset(images, labels=labels)")
        label_of_noise = None
        if self.cluster_frequencies is not None:
            label_of_noise = functools.partial(cluster_of_noise, frequencies=self.cluster_frequencies)
        out = gan_update(self.generator, self.discriminator, self.d_optimizer, self.g_optimizer,
                         self.d_loss_fn, self.g_loss_fn, real, self.seeds, self.noise_dim, self.d_steps,
                         labels=labels if takes_labels else None, num_classes=self.num_classes,
                         gp_weight=self.gp_weight, flip_labels=self.flip_labels, augment=self.augment,
                         code_head=self.code_head, info_weight=self.info_weight, label_of_noise=label_of_noise,
                         r1_weight=self.r1_weight, r1_every=self.r1_every, recon_head=self.recon_head,
                         recon_weight=self.recon_weight, mode_seeking=self.mode_seeking)
        if self.ema_generator is not None:
            self._update_ema()
        return loggable(out)

    def generate(self, n: int, noise=None, labels=None) -> np.ndarray:
        """``n`` images in the generator's output range from :attr:`sampler` (``noise`` overrides the random
        draw; ``labels`` picks classes for a conditional GAN, default ``i % num_classes``)."""
        return generate(self.sampler, self.sample_noise(n) if noise is None else noise, labels)


def user_train_step(train_step, generator, discriminator, d_optimizer, g_optimizer, noise_fn, compile=True):
    """``step(real) -> {"d_loss", "g_loss"}`` from a learner's own ``train_step`` (the hook of :func:`run_a_gan`).

    ``train_step(real_images, generator, discriminator, d_optimizer, g_optimizer, noise_fn)`` performs one
    update (a discriminator step, then a generator step, each with its own ``tf.GradientTape``) and returns
    ``(d_loss, g_loss)``; ``noise_fn(batch_size)`` returns the generator's input noise. ``real_images`` arrive
    in the discriminator's input shape. With ``compile`` the step runs as a ``tf.function`` (much faster; the
    Python code of ``train_step`` runs once, while tracing).
    """
    for opt, model in ((d_optimizer, discriminator), (g_optimizer, generator)):
        if not opt.built:
            opt.build(model.trainable_variables)

    def step(real):
        real = _as_images_for(discriminator, real)
        d_loss, g_loss = train_step(real, generator, discriminator, d_optimizer, g_optimizer, noise_fn)
        return {"d_loss": d_loss, "g_loss": g_loss}

    return tf.function(step) if compile else step


def run_a_gan(generator, discriminator, dataset, d_optimizer=None, g_optimizer=None, loss="bce", num_epochs=10,
              show_every=250, print_every=50, noise_dim=None, seed=0, d_steps=1, output="tanh", show=None,
              max_steps=None, train_step=None, noise_fn=None):
    """Train with a plain Python loop over a ``tf.function`` step, as in CS231n's notebook.

    Every ``show_every`` iterations a grid of 16 samples is drawn (``show(images, step)`` if given, else a
    matplotlib figure inline) and every ``print_every`` the losses are printed. Returns the history as a dict
    of lists: ``step``, ``d_loss``, ``g_loss``. Optimizers default to Adam(1e-3, β1 0.5) as in CS231n.

    ``train_step``: your own update instead of gan_lab's (see :func:`user_train_step` for its signature);
    ``loss`` and ``d_steps`` are then up to it. ``noise_fn(batch_size)``: the noise it is given (default
    :func:`gan_lab.ops.sample_noise` with ``noise_dim``), e.g. ``lambda n: sample_noise(n, NOISE_DIM)`` with
    your own sampler.
    """
    d_optimizer = d_optimizer or keras.optimizers.Adam(1e-3, beta_1=0.5)
    g_optimizer = g_optimizer or keras.optimizers.Adam(1e-3, beta_1=0.5)
    noise_dim = noise_dim or noise_dim_of(generator)
    if train_step is not None:
        noise_fn = noise_fn or functools.partial(sample_noise, dim=noise_dim)
        step_fn = user_train_step(train_step, generator, discriminator, d_optimizer, g_optimizer, noise_fn)
    else:
        step_fn = make_train_step(generator, discriminator, d_optimizer, g_optimizer, loss=loss,
                                  noise_dim=noise_dim, d_steps=d_steps, seed=seed)
    fixed_noise = uniform_noise(16, noise_dim, seed)
    if show is None:
        def show(images, step):
            import matplotlib.pyplot as plt  # pyplot only when a figure is shown: it picks a GUI backend
            show_images(images, title=f"step {step}", size=3)
            plt.show()
    history = {"step": [], "d_loss": [], "g_loss": []}
    it = 0
    for epoch in range(num_epochs):
        for real in dataset:
            real = real[0] if isinstance(real, (tuple, list)) else real
            out = step_fn(real)
            d_loss, g_loss = float(out["d_loss"]), float(out["g_loss"])
            history["step"].append(it)
            history["d_loss"].append(d_loss)
            history["g_loss"].append(g_loss)
            if show_every and it % show_every == 0:
                show(to_unit_range(generate(generator, fixed_noise), output), it)
            if print_every and it % print_every == 0:
                print(f"epoch {epoch} iter {it}: D {d_loss:.4f}  G {g_loss:.4f}")
            it += 1
            if max_steps is not None and it >= max_steps:
                return history
    return history


def build_gan(preset, cluster_frequencies=None) -> GAN:
    """The compiled :class:`GAN` of a :class:`gan_lab.presets.Preset`: its architecture at its precision,
    Adam optimizers with its learning rates and betas, its loss and label tricks. Weights are initialized
    from ``preset.seed``. ``cluster_frequencies``: with ``preset.clusters`` (``class_clusters``), the share of
    the training images (of each class) in each cluster (:func:`gan_lab.clusters.cluster_frequencies`; default
    equal shares)."""
    keras.utils.set_random_seed(preset.seed)
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(resolve_precision(preset.precision))
    try:
        generator, discriminator = preset_pair(preset, cluster_frequencies)
        gan = GAN(generator, discriminator, noise_dim=preset.noise_dim, d_steps=preset.d_steps, seed=preset.seed,
                  ema_decay=preset.ema_decay, gp_weight=preset.gp_weight, augment=make_augment(preset.diff_augment),
                  info_codes=preset.info_codes, info_weight=preset.info_weight, r1_weight=preset.r1_weight,
                  r1_every=preset.r1_every, recon_weight=preset.recon_weight, ema_bn_samples=preset.ema_bn_samples,
                  mode_seeking=preset.mode_seeking,
                  cluster_frequencies=(generator.get_layer("cluster").frequencies
                                       if preset.clusters or preset.class_clusters else None))
    finally:
        keras.config.set_dtype_policy(previous_policy)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(preset.d_lr, beta_1=preset.d_beta1, beta_2=preset.d_beta2),
        g_optimizer=keras.optimizers.Adam(preset.g_lr, beta_1=preset.g_beta1, beta_2=preset.g_beta2),
        loss=preset.loss, label_smoothing=preset.label_smoothing, flip_prob=preset.flip_prob)
    return gan
