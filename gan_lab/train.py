"""Training: one GAN update as a ``tf.function``, the ``GAN`` Keras model, and a plain ``run_a_gan`` loop.

Two ways to train the same update:

- :func:`make_train_step` returns a ``tf.function`` you call from a Python loop (what :func:`run_a_gan` and
  the first notebook do): ``losses = step(real_batch)``.
- :class:`GAN` is a ``keras.Model`` whose ``train_step`` performs that update, so ``gan.fit(dataset)`` works
  with Keras's progress bar, history and callbacks (what the CLI and :func:`gan_lab.runs.train` do).

One update = ``d_steps`` discriminator steps on the real batch and fresh fake batches, then one generator
step. Noise is uniform in [-1, 1] and sized from the real batch, so a last partial batch trains fine.
"""
from __future__ import annotations

import functools

import keras
import numpy as np
import tensorflow as tf

from gan_lab.losses import get_loss


def _as_images_for(model, x):
    """Reshape a batch to the input shape ``model`` expects ((N, 784) or (N, 28, 28, 1))."""
    shape = model.input_shape[1:]
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


def gan_update(generator, discriminator, d_optimizer, g_optimizer, d_loss_fn, g_loss_fn, real, noise_fn,
               d_steps: int = 1):
    """One GAN update (trace it inside a ``tf.function`` or a Keras ``train_step``).

    Returns a dict of scalar tensors: ``d_loss``, ``g_loss``, and the discriminator's mean raw outputs on
    real and fake images (``real_score``, ``fake_score``; for BCE losses these are logits).
    """
    real = _as_images_for(discriminator, real)
    batch = tf.shape(real)[0]
    for _ in range(d_steps):
        noise = noise_fn(batch)
        with tf.GradientTape() as tape:
            fake = _as_images_for(discriminator, generator(noise, training=True))
            real_out = discriminator(real, training=True)
            fake_out = discriminator(fake, training=True)
            d_loss = d_loss_fn(real_out, fake_out)
        d_vars = discriminator.trainable_variables
        d_optimizer.apply_gradients(zip(tape.gradient(d_loss, d_vars), d_vars))
    noise = noise_fn(batch)
    with tf.GradientTape() as tape:
        fake = _as_images_for(discriminator, generator(noise, training=True))
        g_loss = g_loss_fn(discriminator(fake, training=True))
    g_vars = generator.trainable_variables
    g_optimizer.apply_gradients(zip(tape.gradient(g_loss, g_vars), g_vars))
    return {"d_loss": d_loss, "g_loss": g_loss,
            "real_score": tf.reduce_mean(real_out), "fake_score": tf.reduce_mean(fake_out)}


def make_train_step(generator, discriminator, d_optimizer, g_optimizer, loss="bce", noise_dim=None,
                    d_steps: int = 1, seed=None, label_smoothing: float = 0.0, flip_prob: float = 0.0):
    """A ``tf.function`` ``step(real_batch) -> {"d_loss", "g_loss", ...}`` for a plain Python loop.

    ``loss`` is a name from :data:`gan_lab.losses.LOSSES` or a ``(d_loss_fn, g_loss_fn)`` pair (for example
    a learner's own functions). ``seed`` makes the noise sequence reproducible.
    """
    d_loss_fn, g_loss_fn = resolve_losses(loss, label_smoothing, flip_prob)
    noise_dim = noise_dim or generator.input_shape[-1]
    seed_gen = keras.random.SeedGenerator(seed)
    for opt, model in ((d_optimizer, discriminator), (g_optimizer, generator)):
        if not opt.built:
            opt.build(model.trainable_variables)

    def noise_fn(batch):
        return keras.random.uniform((batch, noise_dim), minval=-1.0, maxval=1.0, seed=seed_gen)

    @tf.function
    def step(real):
        return gan_update(generator, discriminator, d_optimizer, g_optimizer, d_loss_fn, g_loss_fn,
                          real, noise_fn, d_steps)

    step.seed_generator = seed_gen
    return step


class GAN(keras.Model):
    """A generator and a discriminator trained together with ``fit()``.

    Example::

        gan = GAN(dc_generator(96), dc_discriminator(), seed=0)
        gan.compile(d_optimizer=keras.optimizers.Adam(1e-3, 0.5), g_optimizer=keras.optimizers.Adam(1e-3, 0.5),
                    loss="bce")
        gan.fit(make_dataset(images), epochs=5)
        images = gan.generate(16)            # (16, 28, 28) in the generator's range

    The global step is ``gan.g_optimizer.iterations`` (one per generator update); it is saved in checkpoints.
    """

    def __init__(self, generator, discriminator, noise_dim=None, d_steps: int = 1, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.noise_dim = int(noise_dim or generator.input_shape[-1])
        self.d_steps = int(d_steps)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def compile(self, d_optimizer, g_optimizer, loss="bce", label_smoothing: float = 0.0, flip_prob: float = 0.0,
                **kwargs):
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.d_loss_fn, self.g_loss_fn = resolve_losses(loss, label_smoothing, flip_prob)
        # Build the optimizers now so checkpoints can be restored before the first step.
        d_optimizer.build(self.discriminator.trainable_variables)
        g_optimizer.build(self.generator.trainable_variables)

    @property
    def step(self) -> int:
        """Generator updates done so far (the global step)."""
        return int(self.g_optimizer.iterations.numpy())

    def sample_noise(self, n):
        return keras.random.uniform((n, self.noise_dim), minval=-1.0, maxval=1.0, seed=self.seed_generator)

    def call(self, noise, training=False):
        return self.generator(noise, training=training)

    def train_step(self, data):
        real = data[0] if isinstance(data, (tuple, list)) else data
        return gan_update(self.generator, self.discriminator, self.d_optimizer, self.g_optimizer,
                          self.d_loss_fn, self.g_loss_fn, real, self.sample_noise, self.d_steps)

    def generate(self, n: int, noise=None) -> np.ndarray:
        """``n`` images (N, 28, 28) in the generator's output range (``noise`` overrides the random draw)."""
        if noise is None:
            noise = self.sample_noise(n)
        return np.asarray(self.generator(noise, training=False)).reshape(-1, 28, 28)


def run_a_gan(generator, discriminator, dataset, d_optimizer=None, g_optimizer=None, loss="bce", num_epochs=10,
              show_every=250, print_every=50, noise_dim=None, seed=0, d_steps=1, output="tanh", show=None,
              max_steps=None):
    """Train with a plain Python loop over a ``tf.function`` step, as in CS231n's notebook.

    Every ``show_every`` iterations a grid of 16 samples is drawn (``show(images, step)`` if given, else a
    matplotlib figure inline) and every ``print_every`` the losses are printed. Returns the history as a dict
    of lists: ``step``, ``d_loss``, ``g_loss``. Optimizers default to Adam(1e-3, β1 0.5) as in CS231n.
    """
    from gan_lab.data import to_unit_range

    d_optimizer = d_optimizer or keras.optimizers.Adam(1e-3, beta_1=0.5)
    g_optimizer = g_optimizer or keras.optimizers.Adam(1e-3, beta_1=0.5)
    noise_dim = noise_dim or generator.input_shape[-1]
    step_fn = make_train_step(generator, discriminator, d_optimizer, g_optimizer, loss=loss, noise_dim=noise_dim,
                              d_steps=d_steps, seed=seed)
    fixed_noise = tf.random.stateless_uniform((16, noise_dim), seed=(seed, 1), minval=-1.0, maxval=1.0)
    if show is None:
        def show(images, step):
            import matplotlib.pyplot as plt
            from gan_lab.plots import show_images
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
                imgs = to_unit_range(np.asarray(generator(fixed_noise, training=False)).reshape(-1, 28, 28), output)
                show(imgs, it)
            if print_every and it % print_every == 0:
                print(f"epoch {epoch} iter {it}: D {d_loss:.4f}  G {g_loss:.4f}")
            it += 1
            if max_steps is not None and it >= max_steps:
                return history
    return history
