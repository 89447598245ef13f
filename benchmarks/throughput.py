"""Training throughput (images/s): gan_lab's own training vs a plain tf.function loop, measured in one run.

For each preset:
  - plain:   the same generator/discriminator/optimizers/losses, `for batch in dataset: step(batch)` with one
             hand-written tf.function (no Keras fit, no callbacks) — the no-framework-overhead reference;
  - gan_lab: `gan_lab.train.train(...)` exactly as the CLI runs it (Keras fit, history.csv, grids,
             checkpoints, divergence guard, signal handling).
Both skip `--warmup` steps (tracing) and time the next `--steps`. The ratio gan_lab/plain is the figure to
watch (>= 1.0 means no framework overhead). Also prints the machine's matmul peak (fp32) measured here and the
fraction of it each preset's step reaches (FLOPs of one update counted layer by layer, forward and backward,
by gan_lab.flops: multiply-adds of Dense/Conv/ConvT only, and only the gradients each half of the update needs),
and the fraction of the rate the model's own layers reach when each runs alone ("kernel peak": every
Dense/Conv/ConvT layer of G and D at the preset's batch size and precision, forward plus input and weight
gradients, best of 3; the fairer yardstick, since small convolutions do not reach the big-matmul rate).

    python benchmarks/throughput.py --presets tf_tutorial_dcgan fast --steps 60
    python benchmarks/throughput.py --presets fast --set precision=mixed_bfloat16   # bf16 mixed precision
    python benchmarks/throughput.py --presets fast --xla        # adds the plain loop compiled with XLA
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from gan_lab.data import load_dataset, training_batches  # noqa: E402
from gan_lab.flops import counted_layers, layer_flops, preset_models, preset_update_flops  # noqa: E402
from gan_lab.gan import StepSeeds, gan_update  # noqa: E402
from gan_lab.losses import get_loss  # noqa: E402
from gan_lab.models import cluster_of_noise, preset_pair, with_code_head  # noqa: E402
from gan_lab.presets import get_preset, parse_overrides, resolve_precision  # noqa: E402
from gan_lab.train import train  # noqa: E402


def matmul_peak(n=2048, reps=10, dtype=tf.float32, trials=3) -> float:
    """Best of ``trials`` timings of ``reps`` n×n matmuls, in GFLOP/s."""
    a = tf.cast(tf.random.normal((n, n)), dtype)
    b = tf.cast(tf.random.normal((n, n)), dtype)
    f = tf.function(lambda: tf.matmul(a, b))
    f().numpy()
    best = 0.0
    for _ in range(trials):
        t0 = time.perf_counter()
        for _ in range(reps):
            f().numpy()
        best = max(best, 2 * n ** 3 * reps / (time.perf_counter() - t0) / 1e9)
    return best


def kernel_peak(preset, reps=20, trials=3) -> float:
    """GFLOP/s of the preset's counted layers, each run alone on a batch (forward, input and weight gradients):
    the sum of their FLOPs over the sum of their best times."""
    keras.config.set_dtype_policy(resolve_precision(preset.precision))
    try:
        generator, discriminator = preset_models(preset)
    finally:
        keras.config.set_dtype_policy("float32")
    total_flops, total_seconds = 0, 0.0
    for layer in counted_layers(generator) + counted_layers(discriminator):
        x = tf.cast(tf.random.normal((preset.batch_size, *layer.input.shape[1:])), layer.compute_dtype)

        @tf.function
        def forward_backward(x, layer=layer):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = tf.reduce_sum(tf.cast(layer(x), tf.float32))
            return tape.gradient(y, [x] + layer.trainable_variables)

        forward_backward(x)[0].numpy()
        best = float("inf")
        for _ in range(trials):
            t0 = time.perf_counter()
            for _ in range(reps):
                out = forward_backward(x)
            out[0].numpy()
            best = min(best, (time.perf_counter() - t0) / reps)
        total_flops += 3 * layer_flops(layer) * preset.batch_size
        total_seconds += best
    return total_flops / total_seconds / 1e9


def plain_loop(preset, images, warmup, steps, jit_compile=False) -> float:
    keras.utils.set_random_seed(preset.seed)
    keras.config.set_dtype_policy(resolve_precision(preset.precision))
    g, d = preset_pair(preset)
    head = with_code_head(d, preset.info_codes) if preset.info_codes else None
    label_of_noise = (functools.partial(cluster_of_noise, frequencies=g.get_layer("cluster").frequencies)
                      if preset.clusters or preset.class_clusters else None)  # G picks its cluster from the noise
    keras.config.set_dtype_policy("float32")
    d_opt = keras.optimizers.Adam(preset.d_lr, beta_1=preset.d_beta1)
    g_opt = keras.optimizers.Adam(preset.g_lr, beta_1=preset.g_beta1)
    d_loss, g_loss = get_loss(preset.loss)
    seeds = StepSeeds(preset.seed, g_opt.iterations, preset.d_steps)

    @tf.function(jit_compile=jit_compile)
    def step(real, labels):
        return gan_update(g, d, d_opt, g_opt, d_loss, g_loss, real, seeds, preset.noise_dim, preset.d_steps,
                          labels=labels if preset.label_architecture else None, code_head=head,
                          label_of_noise=label_of_noise,
                          info_weight=preset.info_weight)

    ds = training_batches(images, preset.batch_size, output=preset.output, labels=np.zeros(len(images), np.int64))
    it = iter(ds)
    for _ in range(warmup):
        step(*next(it))["d_loss"].numpy()
    t0 = time.perf_counter()
    for _ in range(steps):
        out = step(*next(it))
    out["d_loss"].numpy()
    return steps * preset.batch_size / (time.perf_counter() - t0)


class _Timer(keras.callbacks.Callback):
    def __init__(self, warmup, steps):
        super().__init__()
        self.warmup, self.steps, self.t0, self.t1, self.n = warmup, steps, None, None, 0

    def on_train_batch_end(self, batch, logs=None):
        self.n += 1
        if self.n == self.warmup:
            self.t0 = time.perf_counter()
        elif self.n == self.warmup + self.steps:
            self.t1 = time.perf_counter()


def gan_lab_train(preset, images, labels, warmup, steps) -> float:
    timer = _Timer(warmup, steps)
    preset = preset.replace(sample_every=10 ** 6, sample_unit="step")
    if preset.conditional:
        images = (images, labels)
    with tempfile.TemporaryDirectory() as tmp:
        train(preset, os.path.join(tmp, "run"), max_steps=warmup + steps, images=images, verbose=0,
              callbacks=[timer], log=lambda *a: None)
    return steps * preset.batch_size / (timer.t1 - timer.t0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", nargs="+", default=["tf_tutorial_dcgan", "cs231n_dcgan", "cs231n_dense"])
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=2, help="alternate plain/gan_lab this many times; best of each")
    ap.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                    help="preset overrides for every preset, e.g. precision=mixed_bfloat16")
    ap.add_argument("--peak-size", type=int, default=2048, metavar="N",
                    help="the matmul peak times N×N matrices (default 2048; smaller is quicker and lower)")
    ap.add_argument("--xla", action="store_true",
                    help="also time the plain loop compiled with XLA (tf.function(jit_compile=True))")
    args = ap.parse_args(argv)
    if args.peak_size < 1:
        ap.error(f"--peak-size {args.peak_size} is invalid: expected the side of the square matrices, at least 1 "
                 "(default 2048)")
    overrides = parse_overrides(args.set)

    images, labels = load_dataset("mnist", "train")
    peak = matmul_peak(args.peak_size)
    print(f"tensorflow {tf.__version__}, keras {keras.__version__}, {os.cpu_count()} CPU cores, "
          f"intra-op threads {tf.config.threading.get_intra_op_parallelism_threads() or 'default'}")
    bf16_peak = matmul_peak(args.peak_size, dtype=tf.bfloat16)
    print(f"matmul peak ({args.peak_size}x{args.peak_size}, best of 3): fp32 {peak:.0f} GFLOP/s, "
          f"bf16 {bf16_peak:.0f} GFLOP/s")
    if overrides:
        print("preset overrides:", ", ".join(f"{k}={v}" for k, v in overrides.items()))
    print(f"{'preset':<20} {'batch':>5} {'plain img/s':>12} {'gan_lab img/s':>14} {'ratio':>6} "
          f"{'GFLOP/step':>10} {'GFLOP/s':>8} {'% matmul peak':>13} {'kernel peak GFLOP/s':>19} {'% kernel peak':>13}"
          + (f" {'plain XLA img/s':>16}" if args.xla else ""))
    for name in args.presets:
        preset = get_preset(name, **overrides)
        plain, ours, xla = [], [], []
        for _ in range(args.repeats):
            plain.append(plain_loop(preset, images, args.warmup, args.steps))
            ours.append(gan_lab_train(preset, images, labels, args.warmup, args.steps))
            if args.xla:
                xla.append(plain_loop(preset, images, args.warmup, args.steps, jit_compile=True))
        p, o = max(plain), max(ours)
        gflop = preset_update_flops(preset)["total"] / 1e9
        achieved = gflop * o / preset.batch_size
        kernels = kernel_peak(preset)
        matmul = bf16_peak if resolve_precision(preset.precision) == "mixed_bfloat16" else peak
        print(f"{name:<20} {preset.batch_size:>5} {p:>12.0f} {o:>14.0f} {o / p:>6.2f} {gflop:>10.2f} "
              f"{achieved:>8.0f} {100 * achieved / matmul:>12.0f}% {kernels:>19.0f} {100 * achieved / kernels:>12.0f}%"
              + (f" {max(xla):>16.0f}" if args.xla else ""))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
