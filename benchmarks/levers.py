"""Levers tried on a recipe (issues 17 and 15): train one variant to step (or second) marks, score EMA and raw G.

Variants are `--preset` plus preset overrides (`--set '{"info_codes": 10}'`) plus `--knobs` for the levers
that are not preset fields (prototypes kept here, not in gan_lab, because they did not help enough):
  gw, dw       generator / discriminator width of the `xs` architecture (`--set '{"architecture": "xs"}'`)
  g7, g14      an extra 3×3 conv at 7×7 / 14×14 in G;  d3, d7: an extra conv in D (to 4×4 / at 7×7)
  mbstd        minibatch standard deviation feature in D (Karras et al. 2018)
  dropout      dropout before D's logit
  r1           R1 penalty on real images (Mescheder et al. 2018) in the `info` prototype's own train step (for
               every other variant use the preset fields: `--set '{"r1_weight": 0.1, "r1_every": 16}'`)
  ms, mbstd, g32conv
               the colour prototypes (`--set '{"architecture": "dcgan_lever"}'`, the DCGAN-64 of `dcgan_any` plus):
               ms: a second discriminator on the picture average-pooled to half size, its logit beside the full
               one's (D outputs two logits; the losses average them: the multi-scale D of Wang et al. 2018; now
               the preset field `multiscale_d`, which the prototype needs off, as `skip_g`:
               `"multiscale_d": false, "skip_g": false`);
               mbstd: the minibatch standard deviation feature before D's logit (now the preset field
               `minibatch_std`); g32conv: an extra 3×3 conv (BN, ReLU) in G before its last upsampling
  lecam, lecam_decay
               LeCam regularization (Tseng et al. 2021) on D's loss: lecam·(mean(relu(D(x) − ā_fake)²) +
               mean(relu(ā_real − D(G(z)))²)), ā the EMAs (decay lecam_decay, 0.99) of D's mean outputs
  mirror       train on the folder plus its left-right mirror images (StyleGAN2-ADA's --mirror)
  blur, blur_steps
               every picture D sees (real and fake, in both updates) blurred by a Gaussian of σ_t = blur·max(0,
               1 − t/blur_steps) pixels at update t (StyleGAN3's blur of D's inputs at the start, Karras et al.
               2021; reflected borders; blur_steps default 1,000): a coarse-to-fine curriculum
  dnobn        on `dcgan_any`: D without BatchNorm, a bias on every conv (SNGAN's D, with `spectral_norm`)
  gtop         on `dcgan_any`: the generator's start×start map gtop times wider (its cheapest layer)
  emas         a list of k: more EMA copies of G beside the preset's, decay_t = (1 + t) / (1 + k + t) uncapped
               (k = 9 is the preset's warm-up, which stays below the 0.999 cap until step 8,990; k = 3 averages
               over three times as many steps, k = 1 over all of them), saved at the marks as gen-STEP-kK.keras
               (with the preset's ema_bn_samples, their BatchNorm statistics recomputed first, as the preset's EMA's)
  lr_isqrt     both learning rates lr · min(1, sqrt(lr_isqrt / t)) at update t (inverse square-root decay, no
               step budget needed); the block gains the rates of the last update
  info, info_w, qhidden
               the first InfoGAN prototype (`--set '{"architecture": "info"}'`, info >= 10: samples are drawn
               with codes 0-9 in turn): a label-embedding generator
               fed a uniform code, a Q head on D (optionally with a hidden layer); superseded by the
               `info_codes` preset field
Scores `--n` samples at each step mark (`gan_lab.evaluation`: the classifier metrics on MNIST/Fashion, the
random-feature ones, kid_random first, on colour folders such as `--dataset folder:../shared/data/emoji-64`) and appends
one block per run to `--results`. Step marks, not seconds, so runs can share the machine (issue 17's results
ran two at a time, each pinned to one core with `taskset -c 0` / `-c 1`; issue 15's colour ones four at a
time, two per core; `t` is that run's training time, comparable only between runs that shared the machine
the same way).

    GAN_LAB_DATA_DIR=../shared/data taskset -c 0 python benchmarks/levers.py --name info10 \
        --set '{"info_codes": 10}' --raw --steps 1100 3400

Any preset works, conditional ones too (scored with balanced labels): the conditional rows of issue 17 are in
`results/conditional_levers.txt` (`--preset fast --set '{"class_clusters": 10}' --results ...`).
"""
import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras
import numpy as np
import tensorflow as tf
from keras import layers

from gan_lab import evaluation, gan as gan_mod, models
from gan_lab.models import MinibatchStd
from gan_lab.presets import get_preset
from gan_lab.sampling import recompute_batchnorm_statistics
from gan_lab.train import train

ap = argparse.ArgumentParser()
ap.add_argument("--name", required=True)
ap.add_argument("--preset", default="fast_unconditional_plain")
ap.add_argument("--dataset", default="mnist")
ap.add_argument("--set", default="{}")
ap.add_argument("--knobs", default="{}")
ap.add_argument("--steps", nargs="+", type=int, default=[700, 2000, 6000])
ap.add_argument("--seconds", nargs="+", type=float, default=None)
ap.add_argument("--n", type=int, default=2000)
ap.add_argument("--raw", action="store_true", help="also score the raw generator")
ap.add_argument("--results", default="benchmarks/results/unconditional_levers.txt")
ap.add_argument("--out", default=None, help="keep the run folder here, with the (EMA) generator of every step "
                "mark as gen-<step>.keras, for benchmarks/two_sample_validation.py")
args = ap.parse_args()
K = json.loads(args.knobs)
S = json.loads(args.set)


def lrelu(x):
    return layers.LeakyReLU(negative_slope=0.2)(x)


def xs_generator(noise_dim=64, width=64):
    gw = K.get("gw", width)
    z = keras.Input((noise_dim,))
    x = layers.Dense(7 * 7 * 2 * gw, use_bias=False)(z)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Reshape((7, 7, 2 * gw))(x)
    if K.get("g7"):
        x = layers.Conv2D(2 * gw, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    x = layers.Conv2DTranspose(gw, 4, strides=2, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    if K.get("g14"):
        x = layers.Conv2D(gw, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    img = layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh")(x)
    return keras.Model(z, img)


def d_features(width):
    """The small discriminator's two convolutions (width ``dw``), then the minibatch-std feature if asked."""
    dw = K.get("dw", width)
    x_in = keras.Input((28, 28, 1))
    x = lrelu(layers.Conv2D(dw, 4, strides=2, padding="same")(x_in))
    x = lrelu(layers.Conv2D(2 * dw, 4, strides=2, padding="same")(x))
    return x_in, MinibatchStd()(x) if K.get("mbstd") else x


def xs_discriminator(width=64):
    dw = K.get("dw", width)
    x_in, x = d_features(width)
    if K.get("d3"):
        x = lrelu(layers.Conv2D(4 * dw, 3, strides=2, padding="same")(x))
    if K.get("d7"):
        x = lrelu(layers.Conv2D(2 * dw, 3, padding="same")(x))
    x = layers.Flatten()(x)
    if K.get("dropout"):
        x = layers.Dropout(K["dropout"])(x)
    return keras.Model(x_in, layers.Dense(1)(x))


models.register_architecture("xs", xs_generator, xs_discriminator)


def lever_generator(noise_dim=100, image_shape=(64, 64, 3), width=32, output="tanh"):
    """models.dcgan_generator, with an extra 3×3 conv before the last upsampling when asked (g32conv)."""
    g = models.dcgan_generator(noise_dim, image_shape, width, output)
    if not K.get("g32conv"):
        return g
    x = g.layers[-3].output  # the last ReLU before the RGB transposed convolution
    x = layers.Conv2D(x.shape[-1], 3, padding="same", use_bias=False,
                      kernel_initializer=models._dcgan_init())(x)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    img = layers.Conv2DTranspose(image_shape[-1], 4, strides=2, padding="same",
                                 kernel_initializer=models._dcgan_init())(x)
    return keras.Model(g.inputs, layers.Activation(output, dtype="float32")(img))


def _lever_logit(x, doublings, width, mbstd):
    for i in range(doublings):
        x = layers.Conv2D(width * 2 ** i, 4, strides=2, padding="same", use_bias=i == 0,
                          kernel_initializer=models._dcgan_init())(x)
        if i:
            x = layers.BatchNormalization()(x)
        x = lrelu(x)
    if mbstd:
        x = MinibatchStd()(x)
    return layers.Dense(1, kernel_initializer=models._dcgan_init())(layers.Flatten()(x))


def lever_discriminator(image_shape=(64, 64, 3), width=32, minibatch_std=False):
    """models.dcgan_discriminator, with the mbstd feature (the knob, or the preset's minibatch_std) and a half-size
    second discriminator (ms) when asked."""
    size = image_shape[0]
    doublings = models.dcgan_layout(size)[1]
    mbstd = minibatch_std or K.get("mbstd")
    x_in = keras.Input(tuple(image_shape))
    logit = _lever_logit(x_in, doublings, width, mbstd)
    if K.get("ms"):
        logit = layers.Concatenate()([logit, _lever_logit(layers.AveragePooling2D(2)(x_in), doublings - 1, width,
                                                          mbstd)])
    return keras.Model(x_in, logit)


models.register_architecture("dcgan_lever", lever_generator, lever_discriminator)


if K.get("dnobn"):
    # SNGAN's discriminator (Miyato et al. 2018): spectral norm and no BatchNorm; every conv gets a bias.
    def _features_nobn(x, doublings, width, minibatch_std=False, prefix=""):
        for i in range(doublings):
            x = layers.Conv2D(width * 2 ** i, 4, strides=2, padding="same", kernel_initializer=models._dcgan_init())(x)
            x = models._lrelu(0.2)(x)
        if minibatch_std:
            x = models.MinibatchStd(name=prefix + "minibatch_std")(x)
        return layers.Flatten()(x)

    models._dcgan_discriminator_features = _features_nobn

if K.get("gtop"):
    # the generator's start×start map gtop times wider (the cheap end of G): dcgan_any's generator body built with
    # this stand-in for keras.layers, whose Dense and Reshape (one of each in the body) are gtop times wider
    class _WideTop:
        def __getattr__(self, name):
            return getattr(layers, name)

        @staticmethod
        def Dense(units, **kw):
            return layers.Dense(units * K["gtop"], **kw)

        @staticmethod
        def Reshape(shape, **kw):
            return layers.Reshape((*shape[:-1], shape[-1] * K["gtop"]), **kw)

    _body = models._dcgan_generator_body

    def _body_wide_top(*a, **kw):
        models.layers = _WideTop()
        try:
            return _body(*a, **kw)
        finally:
            models.layers = layers

    models._dcgan_generator_body = _body_wide_top

R1 = float(K.get("r1", 0.0))


LECAM = float(K.get("lecam", 0.0))
if LECAM:
    # LeCam regularization (Tseng et al. 2021, the relu form of the official code): D's loss gains
    # lambda * (mean(relu(D(real) - ema_fake)^2) + mean(relu(ema_real - D(fake))^2)), EMAs (decay 0.99) of the
    # mean outputs. Prototype: a wrapper of the D loss; its EMA state is not checkpointed.
    _orig_resolve = gan_mod.resolve_losses
    _ema = {}

    def _lecam_resolve(*a, **k):
        d_fn, g_fn = _orig_resolve(*a, **k)
        _ema["real"] = tf.Variable(0.0, trainable=False)
        _ema["fake"] = tf.Variable(0.0, trainable=False)
        decay = float(K.get("lecam_decay", 0.99))

        def d_lecam(real_out, fake_out, **kw):
            r = _ema["real"].assign(decay * _ema["real"] + (1 - decay) * tf.stop_gradient(tf.reduce_mean(real_out)))
            f = _ema["fake"].assign(decay * _ema["fake"] + (1 - decay) * tf.stop_gradient(tf.reduce_mean(fake_out)))
            reg = tf.reduce_mean(tf.square(tf.nn.relu(real_out - f))) + tf.reduce_mean(tf.square(tf.nn.relu(r - fake_out)))
            return d_fn(real_out, fake_out, **kw) + LECAM * reg

        return d_lecam, g_fn

    gan_mod.resolve_losses = _lecam_resolve


BLUR = float(K.get("blur", 0.0))
if BLUR:
    BLUR_STEPS = float(K.get("blur_steps", 1000))
    LAST_SIGMA = tf.Variable(-1.0, trainable=False)  # the σ the train step last used (reported in the block)

    def _blur(x, step):
        """x (N, H, W, C) blurred by a Gaussian of σ = BLUR·max(0, 1 − step/BLUR_STEPS) (separable, reflected)."""
        r = int(np.ceil(3 * BLUR))
        sigma = BLUR * tf.maximum(0.0, 1.0 - tf.cast(step, tf.float32) / BLUR_STEPS)
        LAST_SIGMA.assign(sigma)
        taps = tf.range(-r, r + 1, dtype=tf.float32)
        w = tf.exp(-0.5 * tf.square(taps / tf.maximum(sigma, 1e-3)))
        w = w / tf.reduce_sum(w)
        dtype, c = x.dtype, x.shape[-1]
        y = tf.pad(tf.cast(x, tf.float32), [[0, 0], [r, r], [r, r], [0, 0]], mode="REFLECT")
        for kernel in (tf.reshape(w, [1, -1, 1, 1]), tf.reshape(w, [-1, 1, 1, 1])):
            y = tf.nn.depthwise_conv2d(y, tf.tile(kernel, [1, 1, c, 1]), [1, 1, 1, 1], "VALID")
        return tf.cast(y, dtype)

    class _BlurredD:
        """The discriminator called on blurred pictures; everything else (variables, inputs) is the discriminator's."""

        def __init__(self, discriminator, step):
            self._d, self._step = discriminator, step

        def __getattr__(self, name):
            return getattr(self._d, name)

        def __call__(self, x, **kw):
            return self._d(_blur(x, self._step), **kw)

    _plain_update = gan_mod.gan_update

    def _blur_update(generator, discriminator, d_optimizer, g_optimizer, d_loss_fn, g_loss_fn, real, seeds, *a, **kw):
        return _plain_update(generator, _BlurredD(discriminator, seeds.step_variable), d_optimizer, g_optimizer,
                             d_loss_fn, g_loss_fn, real, seeds, *a, **kw)

    gan_mod.gan_update = _blur_update


INFO = int(K.get("info", 0))
if INFO:
    LAM = float(K.get("info_w", 1.0))

    def info_discriminator(width=64):
        x_in, x = d_features(width)
        h = layers.Flatten()(x)
        logit = layers.Dense(1)(h)
        if K.get("qhidden"):
            hq = lrelu(layers.Dense(K["qhidden"])(h))
        else:
            hq = h
        q = layers.Dense(INFO)(hq)
        return keras.Model(x_in, layers.Concatenate()([logit, q]))

    def info_generator(noise_dim=64, width=64):
        return models.small_conditional_generator(noise_dim=noise_dim, width=K.get("gw", width), num_classes=INFO)

    models.register_architecture("info", info_generator, info_discriminator)
    from gan_lab.distribute import loggable

    def info_train_step(self, data):
        real = data[0] if isinstance(data, (tuple, list)) else data
        real = tf.reshape(real, [-1, 28, 28, 1])
        batch = tf.shape(real)[0]
        f32 = lambda t: tf.cast(t, tf.float32)
        seeds = self.seeds

        def fake_batch(k):
            c = seeds.labels(batch, k, INFO)
            z = seeds.noise(batch, k, self.noise_dim)
            return self.generator([z, c], training=True), c

        def qloss(c, out):
            return tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(tf.reshape(c, [-1]), out[:, 1:], from_logits=True))

        with tf.GradientTape() as tape:
            fake, c = fake_batch(0)
            if R1:
                with tf.GradientTape() as inner:
                    inner.watch(real)
                    ro = f32(self.discriminator(real, training=True))
                    rsum = tf.reduce_sum(ro[:, 0])
                gr = inner.gradient(rsum, real)
                pen = tf.reduce_mean(tf.reduce_sum(tf.square(tf.cast(gr, tf.float32)), axis=[1, 2, 3]))
            else:
                ro = f32(self.discriminator(real, training=True))
                pen = 0.0
            fo = f32(self.discriminator(fake, training=True))
            d_loss = self.d_loss_fn(ro[:, :1], fo[:, :1])
            ql = qloss(c, fo)
            total = d_loss + LAM * ql + 0.5 * R1 * pen
        v = self.discriminator.trainable_variables
        self.d_optimizer.apply_gradients(zip(tape.gradient(total, v), v))
        with tf.GradientTape() as tape:
            fake, c = fake_batch(1)
            fo = f32(self.discriminator(fake, training=True))
            g_loss = self.g_loss_fn(fo[:, :1])
            gq = qloss(c, fo)
            total = g_loss + LAM * gq
        v = self.generator.trainable_variables
        self.g_optimizer.apply_gradients(zip(tape.gradient(total, v), v))
        if self.ema_generator is not None:
            self._update_ema()
        return loggable({"d_loss": d_loss, "g_loss": g_loss, "q_loss": gq})

    gan_mod.GAN.train_step = info_train_step

preset = get_preset(args.preset, dataset=args.dataset, checkpoint_every=0, checkpoint_seconds=1e9,
                    sample_every=10 ** 6, sample_unit="step", epochs=10 ** 4, **S)
cbs = []
if args.seconds:
    q = evaluation.QualityCallback(dataset=args.dataset, out_dir=None, at_seconds=args.seconds,
                                   stop_after_marks=True, n=args.n, output=preset.output, seed=123, final=False,
                                   verbose=False)
else:
    q = evaluation.QualityCallback(dataset=args.dataset, out_dir=None, at_steps=args.steps, stop_after_marks=True,
                                   n=args.n, output=preset.output, seed=123, final=False, verbose=False)
cbs.append(q)
holder = {}


class Keep(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        holder["gan"] = self.model


cbs.append(Keep())


class SaveAtMarks(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.step = 0

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step in args.steps:
            holder["gan"].sampler.save(Path(args.out) / f"gen-{self.step}.keras")


if args.out:
    cbs.append(SaveAtMarks())


class ExtraEMAs(keras.callbacks.Callback):
    """knob emas [k, ...]: more EMA copies of G, decay_t = (1 + t) / (1 + k + t) (k = 9 is GAN's warm-up
    decay, which stays below its 0.999 cap until step 8,990), uncapped, each saved at the marks as gen-STEP-kK."""

    def on_train_begin(self, logs=None):
        g = self.model.generator
        self.copies = {}
        for k in K["emas"]:
            c = keras.models.clone_model(g)
            c.set_weights(g.get_weights())
            self.copies[k] = c
        self.step = 0

        @tf.function
        def update(t):
            for k, c in self.copies.items():
                d = (1.0 + t) / (1.0 + k + t)
                for e, w in zip(c.weights, g.weights):
                    e.assign(d * e + (1.0 - d) * tf.cast(w, e.dtype))
        self.update = update

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        self.update(tf.cast(self.model.g_optimizer.iterations, tf.float32))
        if self.step in args.steps and args.out:
            for k, c in self.copies.items():
                if preset.ema_bn_samples:  # as GAN.sampler does for the preset's EMA generator
                    recompute_batchnorm_statistics(c, preset.ema_bn_samples, seed=self.model.seed)
                c.save(Path(args.out) / f"gen-{self.step}-k{k}.keras")


if K.get("emas"):
    cbs.append(ExtraEMAs())


class InverseSqrtLR(keras.callbacks.Callback):
    """knob lr_isqrt S0: both learning rates lr_t = lr · min(1, sqrt(S0 / t)) at update t."""

    def on_train_batch_begin(self, batch, logs=None):
        t = int(self.model.g_optimizer.iterations.numpy()) + 1
        f = min(1.0, (float(K["lr_isqrt"]) / t) ** 0.5)
        self.model.g_optimizer.learning_rate = preset.g_lr * f
        self.model.d_optimizer.learning_rate = preset.d_lr * f
        self.last = (t, preset.g_lr * f, preset.d_lr * f)


if K.get("lr_isqrt"):
    decay = InverseSqrtLR()
    cbs.append(decay)
t0 = time.time()
with tempfile.TemporaryDirectory() as tmp:
    images = None
    if K.get("mirror"):  # the folder plus its left-right mirror images (StyleGAN2-ADA's --mirror), real only
        from gan_lab.data import load_dataset
        x, _ = load_dataset(preset.dataset, "train", image_size=preset.image_size, channels=preset.channels,
                            verbose=False)
        images = np.concatenate([x, x[:, :, ::-1]])
    res = train(preset, Path(args.out or Path(tmp) / "run"), verbose=0, callbacks=cbs, log=lambda *a: None,
                images=images)
wall = time.time() - t0
keys = [k for k in evaluation.metric_keys(preset.dataset, preset.image_shape) if k in q.rows[0]]
lines = [f"## {args.name} preset={args.preset} ds={args.dataset} set={S} knobs={K} wall={wall:.0f}s"]
for r in q.rows:
    lines.append(f"  step {r['step']:6d} t {r['seconds']:7.1f} " + " ".join(f"{k} {r[k]:.3g}" for k in keys))
if args.raw and holder["gan"].ema_generator is not None:
    g = holder["gan"]
    raw = evaluation.evaluate(g.generator, args.dataset, n=args.n, output=preset.output, seed=123)
    lines.append("  RAW generator:      " + " ".join(f"{k} {raw[k]:.3g}" for k in keys))
if K.get("lr_isqrt"):
    lines.append("  learning rates of update {}: g {:.6g} d {:.6g}".format(*decay.last))
if BLUR:
    lines.append(f"  blur sigma of the last update: {float(LAST_SIGMA.numpy()):.6g}")
print("\n".join(lines))
with open(args.results, "a") as f:
    f.write("\n".join(lines) + "\n")
