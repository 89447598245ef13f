"""DiffAugment: differentiable augmentation of the images the discriminator sees.

Zhao, Liu, Lin, Zhu & Han 2020, "Differentiable Augmentation for Data-Efficient GAN Training"
(https://arxiv.org/abs/2006.10738). With few training images the discriminator memorizes them and the
generator stops learning. DiffAugment applies the same family of random transformations T to *both* the real
and the generated images before the discriminator, in the discriminator's and the generator's updates:

    L_D = E_x[f(−D(T(x)))] + E_z[f(D(T(G(z))))],      L_G = E_z[f(−D(T(G(z))))]

Every T is differentiable in its input, so the generator's gradient flows through the augmentation; and since
fakes are augmented like reals, the generator is not pushed to draw augmented images. The policy is a
comma-separated list of operations, applied in order, each drawing its parameters per image:

=============  ================================================================================================
``color``      brightness x + (u − ½); saturation (x − x̄_c)·2u + x̄_c (x̄_c: the pixel's channel mean);
               contrast (x − x̄)·(u + ½) + x̄ (x̄: the image mean); u ~ U[0, 1) drawn for each (image, op)
``translation`` shift by whole pixels, t_y, t_x ~ U{−⌊S/8 + ½⌋, ..., ⌊S/8 + ½⌋} (ratio 1/8), zero padding
``cutout``     a square of side ⌊S/2 + ½⌋ (ratio 1/2) centred at a uniform position is set to 0
=============  ================================================================================================

These are the paper's operations and settings (its ``DiffAugment_tf.py``), for images in [−1, 1] (0 is mid
grey). The paper's recommended policy with little data is ``"color,translation,cutout"``.

The random numbers here are *stateless*: :func:`diff_augment` takes a seed pair, and gan_lab's train step
passes one derived from the global step (:class:`gan_lab.gan.StepSeeds`), so a resumed run augments exactly as
the uninterrupted run would have.
"""
from __future__ import annotations

import tensorflow as tf

OPS = ("color", "translation", "cutout")
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def parse_policy(policy) -> tuple[str, ...]:
    """``"color, translation,cutout"`` → ``("color", "translation", "cutout")``; ``""`` → ``()`` (off).
    Unknown or repeated operations raise ValueError naming them."""
    names = tuple(p.strip().lower() for p in str(policy or "").split(",") if p.strip())
    unknown = [n for n in names if n not in OPS]
    if unknown:
        raise ValueError(f"unknown DiffAugment operation(s) {', '.join(map(repr, unknown))}: expected a comma-"
                         f"separated list of {', '.join(OPS)} (e.g. color,translation,cutout), or '' for none")
    if len(set(names)) != len(names):
        raise ValueError(f"DiffAugment policy {policy!r} repeats an operation: list each of {', '.join(OPS)} once")
    return names


def _uniform(seed, batch, dtype, minval=0.0, maxval=1.0):
    return tf.cast(tf.random.stateless_uniform([batch, 1, 1, 1], seed=seed, minval=minval, maxval=maxval), dtype)


def rand_color(x, seeds):
    """Brightness, saturation and contrast, each with its own per-image draw (three seeds)."""
    batch = tf.shape(x)[0]
    x = x + (_uniform(seeds[0], batch, x.dtype) - 0.5)
    mean = tf.reduce_mean(x, axis=3, keepdims=True)
    x = (x - mean) * (_uniform(seeds[1], batch, x.dtype) * 2.0) + mean
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    return (x - mean) * (_uniform(seeds[2], batch, x.dtype) + 0.5) + mean


def rand_translation(x, seed, ratio: float = TRANSLATION_RATIO):
    """Shift each image by its own whole-pixel offset (up to ``ratio`` of its side), filling with zeros."""
    batch, h, w = tf.shape(x)[0], tf.shape(x)[1], tf.shape(x)[2]
    shift_h = tf.cast(tf.cast(h, tf.float32) * ratio + 0.5, tf.int32)
    shift_w = tf.cast(tf.cast(w, tf.float32) * ratio + 0.5, tf.int32)
    seed_h, seed_w = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    ty = tf.random.stateless_uniform([batch, 1], seed=seed_h, minval=-shift_h, maxval=shift_h + 1, dtype=tf.int32)
    tx = tf.random.stateless_uniform([batch, 1], seed=seed_w, minval=-shift_w, maxval=shift_w + 1, dtype=tf.int32)
    padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])  # row/column 0 and h+1 are the zero fill
    rows = tf.clip_by_value(tf.range(h)[None, :] + ty + 1, 0, h + 1)
    cols = tf.clip_by_value(tf.range(w)[None, :] + tx + 1, 0, w + 1)
    x = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(x, cols, axis=2, batch_dims=1)


def rand_cutout(x, seed, ratio: float = CUTOUT_RATIO):
    """Zero a square of side ``ratio`` × the image side at a uniform position, per image."""
    batch, h, w = tf.shape(x)[0], tf.shape(x)[1], tf.shape(x)[2]
    size_h = tf.cast(tf.cast(h, tf.float32) * ratio + 0.5, tf.int32)
    size_w = tf.cast(tf.cast(w, tf.float32) * ratio + 0.5, tf.int32)
    seed_h, seed_w = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    oy = tf.random.stateless_uniform([batch, 1], seed=seed_h, minval=0, maxval=h + (1 - size_h % 2), dtype=tf.int32)
    ox = tf.random.stateless_uniform([batch, 1], seed=seed_w, minval=0, maxval=w + (1 - size_w % 2), dtype=tf.int32)
    top, left = oy - size_h // 2, ox - size_w // 2
    in_rows = (tf.range(h)[None, :] >= top) & (tf.range(h)[None, :] < top + size_h)   # (batch, h)
    in_cols = (tf.range(w)[None, :] >= left) & (tf.range(w)[None, :] < left + size_w)  # (batch, w)
    hole = in_rows[:, :, None] & in_cols[:, None, :]
    return x * tf.cast(~hole, x.dtype)[..., None]


def diff_augment(x, policy, seed):
    """``x`` (B, H, W, C) augmented by ``policy`` (a string or :func:`parse_policy`'s tuple) with per-image draws
    from the stateless ``seed`` (a pair of integers): the same seed gives the same augmentation."""
    ops = parse_policy(policy) if isinstance(policy, str) else tuple(policy)
    if not ops:
        return x
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 5)
    for op in ops:
        if op == "color":
            x = rand_color(x, (seeds[0], seeds[1], seeds[2]))
        elif op == "translation":
            x = rand_translation(x, seeds[3])
        else:
            x = rand_cutout(x, seeds[4])
    return x


def make_augment(policy):
    """``augment(x, seed)`` for :func:`gan_lab.gan.gan_update`, or None when ``policy`` is empty (off)."""
    ops = parse_policy(policy)
    if not ops:
        return None

    def augment(x, seed):
        return diff_augment(x, ops, seed)
    return augment
