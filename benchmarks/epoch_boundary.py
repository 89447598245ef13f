"""The epoch-boundary stall: how long Keras's `fit` waits when one epoch's tf.data iterator is replaced by the next.

`fit` makes a new iterator over the training `tf.data.Dataset` every epoch. With tf.data's autotuning on (its
default), destroying the old iterator waits for the autotune thread, which sleeps between optimization
rounds, to exit. gan_lab's pipelines (`gan_lab.data.make_dataset`, `training_batches`) turn autotuning off.
This script trains `--preset` for `--epochs` short epochs of in-memory MNIST through `fit`, once with
gan_lab's pipeline and once with the same pipeline with autotuning switched back on, and prints the slowest
step, the median step and the steps at epoch boundaries of each (wall time between the ends of consecutive
batches, read by a callback).

    GAN_LAB_DATA_DIR=../shared/data python benchmarks/epoch_boundary.py > benchmarks/results/epoch_boundary.txt
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from gan_lab.data import load_dataset, make_dataset  # noqa: E402
from gan_lab.gan import build_gan  # noqa: E402
from gan_lab.presets import get_preset  # noqa: E402


class StepTimes(keras.callbacks.Callback):
    """Seconds between the ends of consecutive batches, and which batches opened an epoch."""

    def __init__(self):
        super().__init__()
        self.last, self.seconds, self.first_of_epoch = None, [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.first_of_epoch.append(len(self.seconds))

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if self.last is not None:
            self.seconds.append(now - self.last)
        self.last = now


def run(preset, images, autotune: bool, epochs: int) -> StepTimes:
    ds = make_dataset(images, preset.batch_size, output=preset.output, seed=0)
    if autotune:
        options = tf.data.Options()
        options.autotune.enabled = True
        ds = ds.with_options(options)
    gan = build_gan(preset)
    times = StepTimes()
    gan.fit(ds, epochs=epochs, verbose=0, callbacks=[times])
    return times


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="fast_unconditional_plain")
    ap.add_argument("--images", type=int, default=6400, help="training images (an epoch is images / batch steps)")
    ap.add_argument("--epochs", type=int, default=4)
    args = ap.parse_args(argv)
    preset = get_preset(args.preset)
    images = load_dataset("mnist", "train")[0][:args.images]
    print(f"{args.preset}, batch {preset.batch_size}, {args.images // preset.batch_size} steps per epoch, "
          f"{args.epochs} epochs through fit; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"load average {os.getloadavg()[0]:.2f}")
    for autotune in (False, True):
        times = run(preset, images, autotune, args.epochs)
        s = np.array(times.seconds)
        # the interval that ends with the first batch of epoch e (e >= 1) spans the boundary
        boundary = [s[i] for i in times.first_of_epoch[1:] if i < len(s)]
        label = "autotune on (tf.data default)" if autotune else "autotune off (gan_lab)"
        print(f"{label:<30} median step {np.median(s):.3f} s, slowest {s.max():.2f} s, steps across epoch "
              f"boundaries: " + ", ".join(f"{b:.2f} s" for b in boundary), flush=True)


if __name__ == "__main__":
    main()
