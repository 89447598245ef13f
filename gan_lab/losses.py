"""GAN losses as pure functions of the discriminator's outputs.

Every function takes the discriminator's (critic's) raw outputs — *logits* for the cross-entropy losses,
unbounded *scores* for LSGAN, WGAN and hinge — as ``tf.Tensor`` or numpy arrays of any shape, and returns a
scalar ``tf.Tensor``. Means are over all elements, so ``(N,)`` and ``(N, 1)`` outputs give the same value.

Dtypes: the computation is done in float32, unless an input is float64, in which case it is done in float64
(the learner checks compare to float64 references with a relative error below 1e-8). float16 / bfloat16
inputs (mixed precision) are upcast to float32, as Keras recommends for losses.

Notation: ``D(x) = sigmoid(logits)``; ``BCE(l, t) = -t log sigmoid(l) - (1 - t) log(1 - sigmoid(l))``, computed
stably from logits with ``tf.nn.sigmoid_cross_entropy_with_logits`` (``= softplus(l) - t * l``), never as
``log`` of a probability.

The registry :data:`LOSSES` / :func:`get_loss` maps a name to a ``(d_loss_fn, g_loss_fn)`` pair whose
functions are called as ``d_loss_fn(real_out, fake_out)`` and ``g_loss_fn(fake_out)``.
"""
from __future__ import annotations

import numbers

import tensorflow as tf

from gan_lab.ops import quadrant

__all__ = [
    "discriminator_loss", "generator_loss", "minimax_generator_loss",
    "ls_discriminator_loss", "ls_generator_loss",
    "wasserstein_critic_loss", "wasserstein_generator_loss",
    "hinge_discriminator_loss", "hinge_generator_loss",
    "LOSSES", "get_loss",
]


def _as_float(*xs):
    """Convert to tensors of one float dtype: float64 if any input is float64, float32 otherwise."""
    ts = [tf.convert_to_tensor(x) for x in xs]
    dtype = tf.float64 if any(t.dtype == tf.float64 for t in ts) else tf.float32
    return [tf.cast(t, dtype) for t in ts]


def _const(value, dtype):
    """``value`` as a tensor of ``dtype``; a Python number goes straight to ``dtype`` (``tf.cast(0.1, tf.float64)``
    would round it through float32 first)."""
    if isinstance(value, numbers.Real):
        return tf.constant(value, dtype=dtype)
    return tf.cast(value, dtype)


def _bce(logits, targets):
    """Elementwise binary cross-entropy of ``sigmoid(logits)`` against ``targets`` (stable form)."""
    targets = tf.broadcast_to(_const(targets, logits.dtype), tf.shape(logits))
    return tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits)


def _check_prob(name, value, upper_inclusive):
    if isinstance(value, numbers.Real):
        ok = 0.0 <= value <= 1.0 if upper_inclusive else 0.0 <= value < 1.0
        if not ok:
            interval = "[0, 1]" if upper_inclusive else "[0, 1)"
            raise ValueError(f"{name} must be in {interval}, got {value!r}")


def _flip_mask(logits, flip_prob, seed, stream):
    """Boolean mask, True where a target is flipped (probability ``flip_prob`` each)."""
    shape = tf.shape(logits)
    if seed is None:
        u = tf.random.uniform(shape, dtype=logits.dtype)
    elif isinstance(seed, numbers.Integral):
        u = tf.random.stateless_uniform(shape, seed=(int(seed), stream), dtype=logits.dtype)
    else:  # a stateless seed pair (a tensor, e.g. from the train step's StepSeeds)
        pair = tf.cast(seed, tf.int64) + tf.constant([stream, 0], tf.int64)
        u = tf.random.stateless_uniform(shape, seed=pair, dtype=logits.dtype)
    return u < _const(flip_prob, logits.dtype)


def discriminator_loss(logits_real, logits_fake, label_smoothing=0.0, flip_prob=0.0, seed=None):
    """Discriminator loss of the original GAN (Goodfellow et al. 2014, "Generative Adversarial Nets").

    The discriminator maximizes ``E[log D(x)] + E[log(1 - D(G(z)))]``; as a loss to minimize::

        L_D = mean(BCE(logits_real, 1)) + mean(BCE(logits_fake, 0))
            = -mean(log D(x)) - mean(log(1 - D(G(z))))

    a *sum of two means* (not the mean over the concatenated batch, which would be half of it).

    Args:
        logits_real: discriminator logits on real images, any shape.
        logits_fake: discriminator logits on generated images, any shape.
        label_smoothing: one-sided label smoothing (Salimans et al. 2016, "Improved Techniques for Training
            GANs", §3.4): positive targets become ``1 - label_smoothing`` (e.g. 0.1 → 0.9); negative targets
            stay 0. In ``[0, 1)``; default 0.
        flip_prob: label flipping (a "GAN hack", Chintala et al. "ganhacks"): each target is flipped
            (1 ↔ 0) independently with this probability before smoothing is applied to the targets that are
            then positive. In ``[0, 1]``; default 0 = the exact formula, no randomness.
        seed: used only when ``flip_prob > 0``. ``None``: ``tf.random.uniform`` (fresh flips every call).
            An int: stateless flips, seeds ``(seed, 0)`` for the real batch and ``(seed, 1)`` for the fake
            one — deterministic, so pass a step-dependent seed in a training loop. A seed pair (tensor of
            two ints, as the train step passes): stateless flips from that pair.

    Returns:
        Scalar ``tf.Tensor`` (float64 if an input is float64, else float32).
    """
    _check_prob("label_smoothing", label_smoothing, upper_inclusive=False)
    _check_prob("flip_prob", flip_prob, upper_inclusive=True)
    logits_real, logits_fake = _as_float(logits_real, logits_fake)
    positive = 1.0 - _const(label_smoothing, logits_real.dtype)
    zero = tf.zeros([], logits_real.dtype)
    if isinstance(flip_prob, numbers.Real) and flip_prob == 0:
        real_targets, fake_targets = positive, zero
    else:
        real_targets = tf.where(_flip_mask(logits_real, flip_prob, seed, 0), zero, positive)
        fake_targets = tf.where(_flip_mask(logits_fake, flip_prob, seed, 1), positive, zero)
    return (tf.reduce_mean(_bce(logits_real, real_targets))
            + tf.reduce_mean(_bce(logits_fake, fake_targets)))


def generator_loss(logits_fake):
    """Non-saturating generator loss (Goodfellow et al. 2014, "Generative Adversarial Nets", §3).

    Instead of minimizing ``log(1 - D(G(z)))``, whose gradient vanishes when D confidently rejects the
    samples early in training, the generator maximizes ``log D(G(z))``::

        L_G = mean(BCE(logits_fake, 1)) = -mean(log D(G(z)))

    Args:
        logits_fake: discriminator logits on generated images, any shape.

    Returns:
        Scalar ``tf.Tensor``.
    """
    (logits_fake,) = _as_float(logits_fake)
    return tf.reduce_mean(_bce(logits_fake, 1.0))


def minimax_generator_loss(logits_fake):
    """Original (saturating) minimax generator loss (Goodfellow et al. 2014, "Generative Adversarial Nets", eq. 1).

    The generator minimizes the discriminator's value function term ``E[log(1 - D(G(z)))]``::

        L_G = mean(log(1 - D(G(z)))) = -mean(BCE(logits_fake, 0)) = -mean(softplus(logits_fake))

    It is negative and saturates (tiny gradients) when ``D(G(z))`` is near 0; kept to show why the
    non-saturating :func:`generator_loss` is used in practice.

    Args:
        logits_fake: discriminator logits on generated images, any shape.

    Returns:
        Scalar ``tf.Tensor``.
    """
    (logits_fake,) = _as_float(logits_fake)
    return -tf.reduce_mean(_bce(logits_fake, 0.0))


def ls_discriminator_loss(scores_real, scores_fake):
    """Least-squares discriminator loss (Mao et al. 2017, "Least Squares Generative Adversarial Networks").

    With targets ``b = 1`` for real and ``a = 0`` for fake (the 0-1 coding of the paper)::

        L_D = 0.5 * mean((D(x) - 1)^2) + 0.5 * mean(D(G(z))^2)

    where ``D`` outputs unbounded scores (no sigmoid).

    Args:
        scores_real: discriminator scores on real images, any shape.
        scores_fake: discriminator scores on generated images, any shape.

    Returns:
        Scalar ``tf.Tensor``.
    """
    scores_real, scores_fake = _as_float(scores_real, scores_fake)
    return (0.5 * tf.reduce_mean(tf.square(scores_real - 1.0))
            + 0.5 * tf.reduce_mean(tf.square(scores_fake)))


def ls_generator_loss(scores_fake):
    """Least-squares generator loss (Mao et al. 2017, "Least Squares Generative Adversarial Networks").

    With target ``c = 1`` (the generator wants D to score its samples as real)::

        L_G = 0.5 * mean((D(G(z)) - 1)^2)

    Args:
        scores_fake: discriminator scores on generated images, any shape.

    Returns:
        Scalar ``tf.Tensor``.
    """
    (scores_fake,) = _as_float(scores_fake)
    return 0.5 * tf.reduce_mean(tf.square(scores_fake - 1.0))


def wasserstein_critic_loss(scores_real, scores_fake):
    """Wasserstein critic loss (Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN").

    The critic maximizes ``E[f(x)] - E[f(G(z))]`` (an estimate of the Earth-Mover distance when ``f`` is
    1-Lipschitz: weight clipping in WGAN, a gradient penalty in WGAN-GP); as a loss::

        L_critic = mean(f(G(z))) - mean(f(x))

    Args:
        scores_real: critic scores on real images, any shape.
        scores_fake: critic scores on generated images, any shape.

    Returns:
        Scalar ``tf.Tensor``. The Lipschitz constraint is not part of this function.
    """
    scores_real, scores_fake = _as_float(scores_real, scores_fake)
    return tf.reduce_mean(scores_fake) - tf.reduce_mean(scores_real)


def wasserstein_generator_loss(scores_fake):
    """Wasserstein generator loss (Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN").

    ::

        L_G = -mean(f(G(z)))

    Args:
        scores_fake: critic scores on generated images, any shape.

    Returns:
        Scalar ``tf.Tensor``.
    """
    (scores_fake,) = _as_float(scores_fake)
    return -tf.reduce_mean(scores_fake)


def hinge_discriminator_loss(scores_real, scores_fake):
    """Hinge discriminator loss (Lim & Ye 2017, "Geometric GAN"; Miyato et al. 2018, "Spectral Normalization
    for Generative Adversarial Networks").

    ::

        L_D = mean(relu(1 - D(x))) + mean(relu(1 + D(G(z))))

    Args:
        scores_real: discriminator scores on real images, any shape.
        scores_fake: discriminator scores on generated images, any shape.

    Returns:
        Scalar ``tf.Tensor``.
    """
    scores_real, scores_fake = _as_float(scores_real, scores_fake)
    return (tf.reduce_mean(tf.nn.relu(1.0 - scores_real))
            + tf.reduce_mean(tf.nn.relu(1.0 + scores_fake)))


def hinge_generator_loss(scores_fake):
    """Hinge-GAN generator loss (Lim & Ye 2017, "Geometric GAN"; Miyato et al. 2018, "Spectral Normalization
    for Generative Adversarial Networks").

    ::

        L_G = -mean(D(G(z)))

    The same formula as :func:`wasserstein_generator_loss`, which computes it.
    """
    return wasserstein_generator_loss(scores_fake)


#: name -> ``(d_loss_fn, g_loss_fn)``; ``d_loss_fn(real_out, fake_out)``, ``g_loss_fn(fake_out)``.
LOSSES = {
    "bce": (discriminator_loss, generator_loss),
    "minimax": (discriminator_loss, minimax_generator_loss),
    "lsgan": (ls_discriminator_loss, ls_generator_loss),
    "hinge": (hinge_discriminator_loss, hinge_generator_loss),
    "wgan": (wasserstein_critic_loss, wasserstein_generator_loss),
}


#: The discriminator has *won outright* when its loss stays below this level: it sorts every real and every
#: fake image with full confidence, and with the saturating losses the generator's gradient vanishes
#: (Goodfellow et al. 2014, §3; Arjovsky & Bottou 2017). Each loss has its own scale:
DISCRIMINATOR_WON_BELOW = {
    "bce": 1e-3,       # -mean log D(x) - mean log(1 - D(G(z))) < 1e-3: every probability within ~0.1 % of its target
    "minimax": 1e-3,   # the same discriminator loss as bce
    "lsgan": 1e-6,     # ½ mean (D(x) - 1)² + ½ mean D(G(z))² < 1e-6: every score within ~0.001 of its target
    "hinge": 1e-3,     # mean relu(1 - D(x)) + mean relu(1 + D(G(z))) < 1e-3: (nearly) every margin met
    "wgan": None,      # mean f(G(z)) - mean f(x) estimates minus a distance: negative by design, no "won" level
}


def get_loss(name):
    """Return the ``(d_loss_fn, g_loss_fn)`` pair registered as ``name`` in :data:`LOSSES` (case-insensitive).

    Raises:
        ValueError: for an unknown name, listing the known ones.
    """
    key = str(name).strip().lower()
    if key not in LOSSES:
        raise ValueError(f"unknown loss {name!r}: expected one of {', '.join(LOSSES)}")
    return LOSSES[key]


def info_code_loss(codes, code_logits):
    """InfoGAN's mutual-information term for a categorical code (Chen et al. 2016, "InfoGAN: Interpretable
    Representation Learning by Information Maximizing Generative Adversarial Nets", eq. 5).

    The generator draws ``x = G(z, c)`` with a code ``c`` uniform over ``k`` categories; an auxiliary head
    ``Q(c | x)`` (sharing the discriminator's layers) predicts it. The variational lower bound on the mutual
    information is ``L_I = E[log Q(c | x)] + H(c)``; ``H(c) = log k`` is a constant, so maximizing ``L_I`` is
    minimizing the cross-entropy

        L = −mean_i log softmax(code_logits_i)[c_i]

    which both the discriminator (through ``Q``) and the generator minimize, weighted by λ (1 in the paper for
    discrete codes). ``codes``: (N,) or (N, 1) integer categories; ``code_logits``: (N, k) raw scores.
    """
    (code_logits,) = _as_float(code_logits)
    codes = tf.reshape(tf.cast(codes, tf.int32), [-1])
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=codes, logits=code_logits))


def gradient_penalty(critic, real, fake, alpha=None, seed=None):
    """WGAN-GP gradient penalty (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs", eq. 3).

    ``x̂ = α·x + (1 − α)·x̃`` with one α ~ U[0, 1] per example (broadcast over every pixel dimension), and

        GP = E_x̂[(‖∇_x̂ D(x̂)‖₂ − 1)²]

    where the norm runs over all non-batch dimensions of the image. ``critic`` is a callable image → scores
    (use ``lambda x: D([x, labels])`` for a conditional critic). ``alpha`` may be given (shape (N,) or
    broadcastable); otherwise it is drawn (``seed``: a stateless seed pair). Multiply by λ (10 in the paper)
    and add to the critic's loss.
    """
    real = tf.convert_to_tensor(real)
    fake = tf.cast(tf.convert_to_tensor(fake), real.dtype)
    n = tf.shape(real)[0]
    shape = tf.concat([[-1], tf.ones([tf.rank(real) - 1], tf.int32)], axis=0)  # (N, 1, 1, 1): broadcast
    if alpha is None:
        alpha = (tf.random.stateless_uniform([n], seed=seed, dtype=real.dtype) if seed is not None
                 else tf.random.uniform([n], dtype=real.dtype))
    alpha = tf.reshape(tf.cast(alpha, real.dtype), shape)
    interpolated = alpha * real + (1.0 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(interpolated)
        scores = critic(interpolated)
    grads = tape.gradient(scores, interpolated)
    axes = tf.range(1, tf.rank(grads))
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=axes) + 1e-12)
    return tf.reduce_mean(tf.square(norms - 1.0))


def r1_penalty(critic, real):
    """R1 gradient penalty (Mescheder et al. 2018, "Which Training Methods for GANs do actually Converge?",
    eq. 9): the squared norm of the discriminator's gradient on real data,

        R1 = E_x[‖∇_x D(x)‖₂²]

    where the norm runs over all non-batch dimensions of the image. ``critic`` is a callable image → scores (the
    raw outputs, logits for the BCE losses). Multiply by γ/2 and add to the discriminator's loss: it pushes D to
    be flat on the data, which the paper shows makes GAN training converge locally.
    """
    real = tf.convert_to_tensor(real)
    with tf.GradientTape() as tape:
        tape.watch(real)
        scores = critic(real)
    grads = tape.gradient(scores, real)
    if grads.dtype.size < 4:  # bf16 / float16 compute: square and sum in float32
        grads = tf.cast(grads, tf.float32)
    return tf.reduce_mean(tf.reduce_sum(tf.square(grads), axis=tf.range(1, tf.rank(grads))))


def mode_seeking_loss(images_1, images_2, noise_1, noise_2, eps=1e-5):
    """The mode-seeking term of MSGAN (Mao et al. 2019, "Mode Seeking Generative Adversarial Networks for Diverse
    Image Synthesis", eq. 3): two pictures drawn for the same class from noise ``noise_1`` and ``noise_2`` should
    differ as their noise does, so the generator maximizes

        d_I(G(c, z1), G(c, z2)) / d_z(z1, z2),   d: the mean absolute difference (the paper's code),

    and minimizes its reciprocal, returned here: ``1 / (ratio + eps)``. A generator that ignores its noise for a
    class (every sample the same picture) makes the ratio 0 and this term large. Pairs are row by row. Multiply
    by λ (1 in the paper) and add to the generator's loss.
    """
    images_1, images_2, noise_1, noise_2 = _as_float(images_1, images_2, noise_1, noise_2)
    ratio = tf.reduce_mean(tf.abs(images_1 - images_2)) / tf.reduce_mean(tf.abs(noise_1 - noise_2))
    return 1.0 / (ratio + eps)


def reconstruction_loss(real, whole, part, quarters):
    """The reconstruction loss of a self-supervised discriminator (Liu et al. 2021, "Towards Faster and
    Stabilized GAN Training for High-fidelity Few-shot Image Synthesis" (FastGAN), §3.2, eq. 4): decoders on
    the discriminator's features must redraw the real images it judged, so D has to keep a description of the
    whole picture in its features instead of the few cues that tell real from fake today (the paper's
    remedy for D overfitting a small data set):

        L_recons = E_x[ d(whole, T(x)) + d(part, T(quarter_q(x))) ]

    ``whole``: the decoder's picture from D's coarse (8×8) features; ``part``: the decoder's picture from
    quarter ``quarters`` (:func:`gan_lab.ops.quadrant`, one per image) of D's 16×16 features; T resizes the
    target (the real image or its quarter) to the decoders' size (averaging f×f pixels to shrink it f times,
    repeating each pixel to enlarge it). The paper's distance d is
    LPIPS (a VGG network's features, which need downloaded weights); here d is the mean squared pixel
    difference. ``real``: (N, H, W, C) in the decoders' range; returns a float32 scalar.
    """
    real, whole, part = _as_float(real, whole, part)
    size = whole.shape[1:3]

    def target(x):
        f = x.shape[1] // size[0]
        if f > 1:
            return tf.reduce_mean(tf.reshape(x, [-1, size[0], f, size[1], f, x.shape[-1]]), axis=[2, 4])
        f = size[0] // x.shape[1]
        return tf.repeat(tf.repeat(x, f, axis=1), f, axis=2) if f > 1 else x

    return (tf.reduce_mean(tf.square(whole - target(real)))
            + tf.reduce_mean(tf.square(part - target(quadrant(real, quarters)))))
