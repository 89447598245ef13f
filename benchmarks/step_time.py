"""Time per training step of a preset's variants, measured in one process by alternating blocks of steps.

Each variant is the preset plus field overrides (JSON); all are built first, traced (`--warmup` steps), then timed
in turns, `--steps` steps per block, `--blocks` blocks each, so slow phases of a noisy machine fall on every variant
alike. Prints and appends to `--results` the median seconds per step of each variant and its ratio to the first:
the cost of a change at equal steps, to turn step marks into equal-time marks. The step is `GAN.train_step` as
`fit()` runs it (no callbacks, no input pipeline), on real batches of the data set.

    GAN_LAB_DATA_DIR=../shared/data python benchmarks/step_time.py --preset fast64 \
        --dataset folder:../shared/data/emoji-64 --variants '{}' '{"recon_weight": 1.0}'
"""
import argparse
import datetime
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from gan_lab.data import load_dataset, scale_images  # noqa: E402
from gan_lab.gan import build_gan  # noqa: E402
from gan_lab.presets import get_preset  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--preset", default="fast64")
ap.add_argument("--dataset", default=None, help="default: the preset's")
ap.add_argument("--variants", nargs="+", default=["{}"], help="JSON preset overrides, one per variant")
ap.add_argument("--steps", type=int, default=100, help="steps per block")
ap.add_argument("--blocks", type=int, default=5, help="blocks per variant")
ap.add_argument("--warmup", type=int, default=5)
ap.add_argument("--results", default="benchmarks/results/step_time.txt")
args = ap.parse_args()

presets = [get_preset(args.preset, **({"dataset": args.dataset} if args.dataset else {}), **json.loads(v)).validate()
           for v in args.variants]
first = presets[0]
for variant, preset in zip(args.variants, presets):  # every variant trains on the first one's batches
    changed = [k for k in ("dataset", "image_size", "channels", "batch_size", "output")
               if getattr(preset, k) != getattr(first, k)]
    if changed:
        ap.error(f"variant {variant} changes {', '.join(changed)}: every variant must train on the same batches "
                 "(time such variants in separate runs)")
images, _ = load_dataset(first.dataset, "train", image_size=first.image_size, channels=first.channels,
                         verbose=False)
images = scale_images(images[:20 * first.batch_size], first.output).reshape(-1, *first.image_shape)
batches = [tf.constant(images[i:i + first.batch_size]) for i in range(0, len(images), first.batch_size)]
steps = []
for preset in presets:
    step = tf.function(build_gan(preset).train_step)
    for i in range(args.warmup):
        step(batches[i % len(batches)])
    steps.append(step)
times = [[] for _ in steps]
for _ in range(args.blocks):
    for step, kept in zip(steps, times):
        start = time.perf_counter()
        for i in range(args.steps):
            out = step(batches[i % len(batches)])
        float(out["d_loss"])  # wait for the last step
        kept.append((time.perf_counter() - start) / args.steps)
medians = [float(np.median(t)) for t in times]
lines = [f"## {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC preset={args.preset} "
         f"dataset={first.dataset} blocks={args.blocks}x{args.steps} steps, medians"]
for variant, median, kept in zip(args.variants, medians, times):
    lines.append(f"  {variant:<40} {median:.4f} s/step  {median / medians[0]:.3f}x  "
                 f"(blocks {' '.join(f'{t:.4f}' for t in kept)})")
print("\n".join(lines))
with open(args.results, "a") as f:
    f.write("\n".join(lines) + "\n")
