"""A 2-D toy GAN: a ring of Gaussians, small MLPs, and pictures of what both networks do (notebook 00).

The data are 8 Gaussians on a circle, the mixture-of-Gaussians benchmark of Metz et al. 2017 ("Unrolled
Generative Adversarial Networks": radius 2, standard deviation 0.02) and the picture of the GAN Lab visualisation (Kahng et al.
2019). In two dimensions everything can be drawn: the real and the generated points, the discriminator's
decision surface D(x) = σ(logit) over the plane, and the generator's gradient field, the direction in which
the generator's loss pushes each generated point. A run takes seconds on a CPU.

The update is :func:`gan_lab.gan.gan_update`, the same one that trains the MNIST GANs (BCE, WGAN-GP, ``d_steps``
...), with the noise drawn from :class:`gan_lab.gan.StepSeeds`.

Example::

    from gan_lab import toy
    run = toy.train_toy(toy.ToySetting(), steps=2000, snapshot_every=500)
    toy.modes_covered(run.samples())          # how many of the 8 modes the generator reaches
    toy.plot_snapshots(run.snapshots)         # a matplotlib Figure
"""
from __future__ import annotations

import dataclasses
import time

import keras
import numpy as np
import tensorflow as tf

from gan_lab.gan import StepSeeds, gan_update, resolve_losses

MODES, RADIUS, STD = 8, 2.0, 0.02  # Metz et al. 2017
LIMIT = 3.0  # the plots show [-LIMIT, LIMIT]²


def mode_centers(modes: int = MODES, radius: float = RADIUS) -> np.ndarray:
    """(modes, 2): the centres of the Gaussians, evenly spaced on a circle of ``radius``, the first at angle 0."""
    angles = 2 * np.pi * np.arange(modes) / modes
    return (radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)


def ring_data(n: int, modes: int = MODES, radius: float = RADIUS, std: float = STD, seed=0) -> np.ndarray:
    """(n, 2) float32 points: a mode chosen uniformly, plus Gaussian noise of standard deviation ``std``."""
    rng = np.random.default_rng(seed)
    centers = mode_centers(modes, radius)
    return (centers[rng.integers(0, modes, n)] + rng.normal(0.0, std, (n, 2))).astype(np.float32)


def mode_counts(points, modes: int = MODES, radius: float = RADIUS, std: float = STD, within: float = 3.0):
    """``(counts, high_quality)``: how many ``points`` lie within ``within``·std of each mode's centre
    (shape (modes,)), and the fraction of points within that distance of some centre (the "high-quality
    samples" of Srivastava et al. 2017, with 3 standard deviations)."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    d = np.linalg.norm(points[:, None, :] - mode_centers(modes, radius)[None, :, :], axis=2)
    nearest, close = d.argmin(axis=1), d.min(axis=1) <= within * std
    counts = np.bincount(nearest[close], minlength=modes)
    return counts, float(close.mean()) if len(points) else 0.0


def modes_covered(points, modes: int = MODES, radius: float = RADIUS, std: float = STD, within: float = 3.0,
                  min_share: float = 0.01) -> int:
    """The number of modes that receive at least ``min_share`` of the points within ``within``·std of their
    centre (a generator that covers all 8 modes evenly gives each 1/8; 1 % guards against stray points)."""
    counts, _ = mode_counts(points, modes, radius, std, within)
    return int(np.sum(counts >= max(1, min_share * len(np.asarray(points).reshape(-1, 2)))))


def toy_generator(noise_dim: int = 16, width: int = 128, depth: int = 2) -> keras.Model:
    """noise (noise_dim,) → a point (2,): ``depth`` Dense ``width`` ReLU layers, then a linear Dense 2."""
    return keras.Sequential([keras.Input((noise_dim,)), *[keras.layers.Dense(width, activation="relu")
                                                          for _ in range(depth)],
                             keras.layers.Dense(2)], name="toy_generator")


def toy_discriminator(width: int = 128, depth: int = 2) -> keras.Model:
    """a point (2,) → one logit: ``depth`` Dense ``width`` ReLU layers, then Dense 1 (no sigmoid)."""
    return keras.Sequential([keras.Input((2,)), *[keras.layers.Dense(width, activation="relu") for _ in range(depth)],
                             keras.layers.Dense(1)], name="toy_discriminator")


@dataclasses.dataclass(frozen=True)
class ToySetting:
    """The hyperparameters of a toy run. ``loss`` is a name of :data:`gan_lab.losses.LOSSES`; ``gp_weight`` > 0
    adds the WGAN-GP gradient penalty (use it with ``loss="wgan"``); ``d_steps`` discriminator steps per
    generator step; Adam with ``(lr, beta1, beta2)`` for both networks."""

    loss: str = "bce"
    lr: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    d_steps: int = 1
    gp_weight: float = 0.0
    batch_size: int = 256
    noise_dim: int = 16
    width: int = 128
    seed: int = 0


@dataclasses.dataclass
class Snapshot:
    """What a toy GAN looks like at one step: ``real`` and ``fake`` points; the discriminator on a
    ``grid_size``² grid over [-LIMIT, LIMIT]² (``surface``: D(x) = σ(logit), or for a ``critic`` (WGAN) its
    score rescaled to [0, 1] over the grid, since only its differences matter); ``arrows``: −∇ₓ L_G at the
    first fake points, the direction the generator's loss pushes them; the modes covered."""

    step: int
    real: np.ndarray
    fake: np.ndarray
    surface: np.ndarray
    arrows: np.ndarray
    modes: int
    high_quality: float
    d_loss: float
    g_loss: float
    critic: bool = False


@dataclasses.dataclass
class ToyRun:
    """A finished toy run: the networks, the loss history, the snapshots, the training time (snapshots
    included) and the optimizers."""

    setting: ToySetting
    generator: keras.Model
    discriminator: keras.Model
    history: dict
    snapshots: list
    seconds: float
    d_optimizer: keras.optimizers.Optimizer
    g_optimizer: keras.optimizers.Optimizer

    def samples(self, n: int = 2000, seed: int = 1) -> np.ndarray:
        """(n, 2) points from the generator (uniform noise in [-1, 1], as in training)."""
        z = np.random.default_rng(seed).uniform(-1, 1, (n, self.setting.noise_dim)).astype(np.float32)
        return self.generator(z, training=False).numpy()

    def modes_covered(self, n: int = 2000) -> int:
        return modes_covered(self.samples(n))


def _grid(grid_size):
    ticks = np.linspace(-LIMIT, LIMIT, grid_size, dtype=np.float32)
    xx, yy = np.meshgrid(ticks, ticks)
    return np.stack([xx.ravel(), yy.ravel()], axis=1)


def snapshot(generator, discriminator, g_loss_fn, step: int, real, noise, grid_size: int = 60, n_arrows: int = 64,
             d_loss: float = float("nan"), g_loss: float = float("nan"), critic: bool = False) -> Snapshot:
    """Record a :class:`Snapshot` of the two networks (see there) for the fake points ``generator(noise)``."""
    fake = generator(noise, training=False)
    scores = discriminator(_grid(grid_size), training=False).numpy().reshape(grid_size, grid_size)
    if critic:
        surface = (scores - scores.min()) / max(float(scores.max() - scores.min()), 1e-12)
    else:
        surface = 1.0 / (1.0 + np.exp(-scores))
    x = tf.Variable(fake[:n_arrows])
    with tf.GradientTape() as tape:
        loss = g_loss_fn(discriminator(x, training=False))
    arrows = -tape.gradient(loss, x).numpy() * n_arrows  # the per-point gradient of the batch-mean loss
    fake = fake.numpy()
    _, hq = mode_counts(fake)
    return Snapshot(step, np.asarray(real), fake, surface, arrows, modes_covered(fake), hq, d_loss, g_loss, critic)


def train_toy(setting: ToySetting = ToySetting(), steps: int = 2000, snapshot_every: int = 500,
              n_show: int = 512, grid_size: int = 60, real_data=ring_data) -> ToyRun:
    """Train a toy GAN on :func:`ring_data` for ``steps`` generator steps; a :class:`Snapshot` at step 0 and
    every ``snapshot_every`` steps (and at the end). Fresh real points every step; fixed noise for the
    snapshots. Deterministic for a given ``setting.seed`` (weights from ``keras.utils.set_random_seed``,
    noise and penalty draws from :class:`gan_lab.gan.StepSeeds`).

    ``real_data``: the sampler of the real points, called as ``real_data(n, seed=...)`` → ``(n, 2)`` points,
    once for all the training batches (``seed=setting.seed``) and once for the points the snapshots show
    (``seed=setting.seed + 1``). Notebook 00 passes the learner's own sampler of the ring."""
    s = setting
    keras.utils.set_random_seed(s.seed)
    generator, discriminator = toy_generator(s.noise_dim, s.width), toy_discriminator(s.width)
    d_opt = keras.optimizers.Adam(s.lr, beta_1=s.beta1, beta_2=s.beta2)
    g_opt = keras.optimizers.Adam(s.lr, beta_1=s.beta1, beta_2=s.beta2)
    for opt, model in ((d_opt, discriminator), (g_opt, generator)):
        opt.build(model.trainable_variables)
    d_loss_fn, g_loss_fn = resolve_losses(s.loss)
    seeds = StepSeeds(s.seed, g_opt.iterations, s.d_steps)

    @tf.function
    def step(real):
        return gan_update(generator, discriminator, d_opt, g_opt, d_loss_fn, g_loss_fn, real, seeds, s.noise_dim,
                          s.d_steps, gp_weight=s.gp_weight)

    real_all = np.asarray(real_data(steps * s.batch_size, seed=s.seed), np.float32)
    show_real = np.asarray(real_data(n_show, seed=s.seed + 1), np.float32)
    show_noise = np.random.default_rng(s.seed + 2).uniform(-1, 1, (n_show, s.noise_dim)).astype(np.float32)
    history = {"step": [], "d_loss": [], "g_loss": []}
    critic = s.loss == "wgan"
    snaps = [snapshot(generator, discriminator, g_loss_fn, 0, show_real, show_noise, grid_size, critic=critic)]
    start = time.perf_counter()
    for i in range(steps):
        out = step(real_all[i * s.batch_size:(i + 1) * s.batch_size])
        d_loss, g_loss = float(out["d_loss"]), float(out["g_loss"])
        history["step"].append(i + 1)
        history["d_loss"].append(d_loss)
        history["g_loss"].append(g_loss)
        if (i + 1) % snapshot_every == 0 or i + 1 == steps:
            snaps.append(snapshot(generator, discriminator, g_loss_fn, i + 1, show_real, show_noise, grid_size,
                                  d_loss=d_loss, g_loss=g_loss, critic=critic))
    return ToyRun(s, generator, discriminator, history, snaps, time.perf_counter() - start, d_opt, g_opt)


def plot_snapshot(ax, snap: Snapshot, title: str | None = None, arrow_scale: float | None = None):
    """Draw one :class:`Snapshot` on a matplotlib ``ax``: D(x) as a background (dark: "fake", light: "real";
    the orange line is D(x) = ½, drawn for a classifier, not for a critic), real points green, fakes purple,
    the generator's gradient as blue arrows on the fakes (scaled per panel: the 90th percentile is drawn 0.5
    long; ``arrow_scale`` fixes the scale instead), the mode centres as black +."""
    ticks = np.linspace(-LIMIT, LIMIT, snap.surface.shape[0])
    ax.imshow(snap.surface, extent=(-LIMIT, LIMIT, -LIMIT, LIMIT), origin="lower", cmap="Greys_r", vmin=0, vmax=1,
              alpha=0.55, interpolation="bilinear")
    if not snap.critic and snap.surface.min() < 0.5 < snap.surface.max():
        ax.contour(ticks, ticks, snap.surface, levels=[0.5], colors="tab:orange", linewidths=1)
    ax.scatter(*snap.real.T, s=3, c="tab:green", alpha=0.5, label="real")
    ax.scatter(*snap.fake.T, s=3, c="tab:purple", alpha=0.6, label="generated")
    a = snap.arrows
    n = len(a)
    ax.quiver(*snap.fake[:n].T, *a.T, color="tab:blue", angles="xy", scale_units="xy", width=0.004,
              scale=arrow_scale or (np.percentile(np.linalg.norm(a, axis=1), 90) / 0.5 + 1e-12))
    ax.scatter(*mode_centers().T, marker="+", s=40, c="black", linewidths=1)
    ax.set(xlim=(-LIMIT, LIMIT), ylim=(-LIMIT, LIMIT), xticks=[], yticks=[], aspect="equal")
    ax.set_title(title or f"step {snap.step}: {snap.modes}/{MODES} modes", fontsize=9)


def plot_snapshots(snapshots, title: str | None = None, ncols: int | None = None, size: float = 2.6):
    """A figure with one panel per snapshot (see :func:`plot_snapshot`); returns the matplotlib Figure."""
    import matplotlib.pyplot as plt  # pyplot only when a figure is made
    ncols = ncols or len(snapshots)
    nrows = int(np.ceil(len(snapshots) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if title else 0)),
                             squeeze=False)
    for ax in axes.flat[len(snapshots):]:
        ax.axis("off")
    for ax, snap in zip(axes.flat, snapshots):
        plot_snapshot(ax, snap)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
