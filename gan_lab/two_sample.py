"""Classifier two-sample test: can a small network, trained for it, tell generated pictures from real ones?

Lopez-Paz & Oquab 2017, "Revisiting Classifier Two-Sample Tests" (https://arxiv.org/abs/1610.06545, section 5
evaluates GANs this way): train a binary classifier on half of the real and half of the generated pictures,
and measure its accuracy on the other halves. If the two sets come from the same distribution no classifier
can beat chance on held-out pictures (accuracy 0.5, up to noise); the further apart they are, the nearer 1.0.

gan_lab's classifier: the pictures at ``size`` × ``size`` (default: as they are), three 4×4 stride-2
convolutions (16, 32, 64 channels, LeakyReLU 0.2), global average pooling, one logit; Adam 1e-3, batches of
64, :data:`EPOCHS` epochs; weights, batch order and the split all seeded (no global random state is touched).
The score is the held-out accuracy averaged over two folds (the halves swapped), so every picture is tested
once. It needs no download and no pretrained features, and it is trained on the very pictures it judges: it
keeps seeing differences (texture, edges, artefacts) where the random-feature KID of
:mod:`gan_lab.evaluation` already reads "as close as real" (see the README's emoji-64 measurements).
Its values depend on the classifier, its training and the number of pictures: compare scores computed with
the same settings and the same real pictures only.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

EPOCHS = 20
BATCH = 64
CHANNELS = (16, 32, 64)


def _classifier(image_shape, seed: int) -> keras.Model:
    init = lambda k: keras.initializers.GlorotUniform(seed=seed * 100 + k)  # noqa: E731
    x = inputs = keras.Input(image_shape)
    for k, channels in enumerate(CHANNELS):
        x = keras.layers.Conv2D(channels, 4, strides=2, padding="same", kernel_initializer=init(k))(x)
        x = keras.layers.LeakyReLU(0.2)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(1, kernel_initializer=init(len(CHANNELS)), dtype="float32")(x))


def _fit_and_test(x_train, y_train, x_test, y_test, seed: int, epochs: int) -> float:
    model = _classifier(x_train.shape[1:], seed)
    optimizer = keras.optimizers.Adam(1e-3)
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function(reduce_retracing=True)
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))

    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(x_train))
        for start in range(0, len(order), BATCH):
            batch = order[start:start + BATCH]
            step(tf.constant(x_train[batch]), tf.constant(y_train[batch]))
    logits = np.concatenate([model(x_test[i:i + 500], training=False).numpy()[:, 0]
                             for i in range(0, len(x_test), 500)])
    return float(np.mean((logits > 0) == (y_test[:, 0] > 0.5)))


def two_sample_accuracy(real, fake, size: int | None = None, epochs: int = EPOCHS, seed: int = 0) -> float:
    """Held-out accuracy of a classifier trained to tell ``fake`` pictures from ``real`` ones (0.5: it cannot;
    1.0: it always can). See the module docstring for the test and its classifier.

    Args:
        real, fake: float pictures in [0, 1], (N, H, W, C) or (N, H, W) for grayscale, the same H, W, C; at
            least 4 of each. The larger set is cut to the smaller one's size (a seeded subset).
        size: resize both to ``size`` × ``size`` first (antialiased); None keeps them as they are.
        epochs, seed: the classifier's training.
    """
    real, fake = (np.asarray(v, np.float32) for v in (real, fake))
    real, fake = (v[..., None] if v.ndim == 3 else v for v in (real, fake))
    if real.ndim != 4 or real.shape[1:] != fake.shape[1:]:
        raise ValueError(f"two_sample_accuracy needs two sets of pictures of one shape (N, H, W[, C]), got "
                         f"{real.shape} and {fake.shape}")
    n = min(len(real), len(fake))
    if n < 4:
        raise ValueError(f"two_sample_accuracy needs at least 4 real and 4 generated pictures, got {len(real)} "
                         f"and {len(fake)}")
    rng = np.random.default_rng(seed)
    real, fake = real[rng.permutation(len(real))[:n]], fake[rng.permutation(len(fake))[:n]]
    if size is not None and real.shape[1:3] != (size, size):
        real, fake = (tf.image.resize(v, (size, size), antialias=True).numpy() for v in (real, fake))
    x = np.concatenate([real, fake]) * 2.0 - 1.0
    y = np.concatenate([np.ones(n), np.zeros(n)]).astype(np.float32)[:, None]
    fold = np.tile(np.arange(n) % 2, 2)  # each fold holds half of the real and half of the generated pictures
    accuracies = [_fit_and_test(x[fold != k], y[fold != k], x[fold == k], y[fold == k], seed * 2 + k, epochs)
                  for k in (0, 1)]
    return float(np.mean(accuracies))
