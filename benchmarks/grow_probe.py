"""A ProGAN-style first stage at 32×32 for `fast64` (Karras et al. 2018, growing; a probe, not a preset field).

Stage 1 trains the generator up to its 32×32 RGB sum (the skip generator's picture before its 64×64 layer; tanh,
then nearest-upsampled to 64×64 so that the discriminator's average pool gives it back exactly) against the
discriminator's half-size branch alone (`multiscale_d`): neither 64×64 layer runs. Stage 2 trains `fast64` as the
CLI does (`gan_lab.gan.build_gan`, `gan_lab.data.training_batches`), its EMA generator restarted from the
stage-1 weights. With `--steps32 0` it is `fast64` itself. Prints the seconds of each stage and the offline
scores of the EMA generator (as `benchmarks/truncation.py` at ψ = 1: 690 samples of `uniform_noise(690, 100,
123)`, `two_sample=True`), and writes its 100 first samples as a grid.

    GAN_LAB_DATA_DIR=../shared/data taskset -c 0 python benchmarks/grow_probe.py --seed 1 --steps32 2000 \\
        --steps64 2927 --out runs/grow-s1
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from colour_common import add_probe_arguments, probe_fast64, report_probe  # noqa: E402  (benchmarks/ on sys.path)
from gan_lab.data import training_batches  # noqa: E402
from gan_lab.gan import GAN  # noqa: E402


def stage_one(gan: GAN, preset) -> GAN:
    """The compiled 32×32 GAN sharing ``gan``'s layers: G to its 32×32 RGB sum, D's half-size branch."""
    g, d = gan.generator, gan.discriminator
    rgb32 = next(layer for layer in g.layers
                 if isinstance(layer, keras.layers.Add) and tuple(layer.output.shape[1:3]) == (32, 32))
    picture = keras.layers.Activation("tanh", dtype="float32")(rgb32.output)
    g32 = keras.Model(g.input, keras.layers.UpSampling2D(2, dtype="float32")(picture), name="g32")
    half = next(layer for layer in d.layers if layer.name.startswith("half_logit"))
    d32 = keras.Model(d.input, half.output, name="d32")
    small = GAN(g32, d32, noise_dim=gan.noise_dim, seed=preset.seed + 1000)
    small.compile(d_optimizer=keras.optimizers.Adam(preset.d_lr, beta_1=preset.d_beta1, beta_2=preset.d_beta2),
                  g_optimizer=keras.optimizers.Adam(preset.g_lr, beta_1=preset.g_beta1, beta_2=preset.g_beta2),
                  loss=preset.loss)
    return small


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps32", type=int, required=True, help="updates of the 32×32 stage")
    ap.add_argument("--steps64", type=int, required=True, help="updates of fast64 after it")
    add_probe_arguments(ap, "folder for gen.keras and grid.png")
    args = ap.parse_args(argv)
    dataset, preset, gan, images = probe_fast64(args)
    t0 = time.perf_counter()
    if args.steps32:
        stage_one(gan, preset).fit(training_batches(images, preset.batch_size, "tanh", args.seed + 1000),
                                      epochs=1, steps_per_epoch=args.steps32, verbose=0)
    t1 = time.perf_counter()
    gan.ema_generator.set_weights(gan.generator.get_weights())
    gan.fit(training_batches(images, preset.batch_size, "tanh", args.seed), epochs=1, steps_per_epoch=args.steps64,
            verbose=0)
    t2 = time.perf_counter()
    report_probe(gan, preset, dataset, args, save_generator=True, steps32=args.steps32, steps64=args.steps64,
                 stage32_s=round(t1 - t0, 1), stage64_s=round(t2 - t1, 1))


if __name__ == "__main__":
    main()
