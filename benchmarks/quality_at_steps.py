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

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from gan_lab import evaluation  # noqa: E402
from gan_lab.data import load_dataset  # noqa: E402
from gan_lab.presets import get_preset, parse_overrides  # noqa: E402
from gan_lab.train import train  # noqa: E402

N_SAMPLES = 5000
NOISE_SEED = 5


def print_row(row, batch_size):
    """One JSON line per mark: the metrics, the step, the images seen and the scoring time."""
    r = {k: row[k] for k in evaluation.METRIC_KEYS}
    r.update(step=row["step"], images=row["step"] * batch_size, eval_s=round(row["eval_seconds"], 1))
    print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}), flush=True)


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
    data = (images, labels) if preset.conditional else images
    print(f"{name} {overrides}", flush=True)
    scorer = evaluation.QualityCallback(dataset=preset.dataset, out_dir=None, at_steps=marks, stop_after_marks=True,
                                        n=N_SAMPLES, output=preset.output, seed=NOISE_SEED, final=False,
                                        verbose=False, on_score=lambda row: print_row(row, preset.batch_size))
    with tempfile.TemporaryDirectory() as tmp:
        train(preset, os.path.join(tmp, "run"), images=data, verbose=0, callbacks=[scorer], log=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
