"""Quality at equal numbers of steps: train a preset (with overrides) and score 5,000 samples at step marks.

Comparing recipes at equal steps makes the comparison independent of machine load; time them afterwards
with time_to_quality.py. Prints one JSON line per mark.

    python benchmarks/quality_at_steps.py fast_unconditional 1000,2000,3000 width=32 ema_decay=0.995
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from gan_lab import evaluation  # noqa: E402
from gan_lab.data import load_dataset, to_unit_range  # noqa: E402
from gan_lab.models import is_conditional  # noqa: E402
from gan_lab.presets import get_preset, parse_overrides  # noqa: E402
from gan_lab.runs import train  # noqa: E402
from gan_lab.train import generate_images  # noqa: E402


class StepScorer(keras.callbacks.Callback):
    def __init__(self, marks, preset, n=5000):
        super().__init__()
        self.marks, self.preset, self.n = list(marks), preset, n
        self.noise = np.random.default_rng(5).uniform(-1, 1, (n, preset.noise_dim)).astype("float32")

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.g_optimizer.iterations.numpy())
        if self.marks and step >= self.marks[0]:
            self.marks.pop(0)
            t = time.perf_counter()
            x = to_unit_range(generate_images(self.model.sampler, self.noise, np.arange(self.n) % 10),
                              self.preset.output)
            r = evaluation.evaluate(x, dataset=self.preset.dataset, n=self.n)
            r.update(step=step, images=step * self.preset.batch_size, eval_s=round(time.perf_counter() - t, 1))
            print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}), flush=True)
            if not self.marks:
                self.model.stop_training = True


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2:
        print(__doc__)
        return 2
    name, marks = argv[0], [int(m) for m in argv[1].split(",")]
    base = get_preset(name)
    overrides = parse_overrides(argv[2:])
    preset = base.replace(checkpoint_every=0, checkpoint_seconds=1e9, sample_every=10 ** 6, sample_unit="step",
                          epochs=10 ** 4, **overrides)
    images, labels = load_dataset(preset.dataset)
    data = (images, labels) if is_conditional(preset.architecture) else images
    print(f"{name} {overrides}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        train(preset, os.path.join(tmp, "run"), images=data, verbose=0, callbacks=[StepScorer(marks, preset)],
              log=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
