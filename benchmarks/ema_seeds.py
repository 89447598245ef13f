"""EMA of the generator's weights vs the raw generator, over several seeds (notebook 06's EMA section).

For each seed, trains PRESET for a number of steps (a step budget, so machine load does not change the result)
and scores the EMA generator and the raw generator of the same run on the same noise with
`gan_lab.evaluation.evaluate`. Prints one row per seed and generator, then the mean and how many seeds each
metric improved with EMA; writes the rows to `ema_seeds-<preset>-<dataset>-<steps>.csv` and the printed output
to the `.txt` of the same name in `--out`.

    python benchmarks/ema_seeds.py --preset fast_unconditional --steps 2300 --seeds 0 1 2 3 4 --n 2000
"""
from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from gan_lab import evaluation  # noqa: E402
from gan_lab.presets import get_preset, parse_overrides  # noqa: E402
from gan_lab.train import train  # noqa: E402

KEYS = evaluation.METRIC_KEYS
NOISE_SEED = 123


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="fast_unconditional")
    ap.add_argument("--dataset", default="mnist")
    ap.add_argument("--steps", type=int, default=2300)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    ap.add_argument("--n", type=int, default=2000, help="samples scored per generator")
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE", help="preset overrides")
    args = ap.parse_args(argv)
    base = get_preset(args.preset, dataset=args.dataset, checkpoint_every=0, checkpoint_seconds=1e9,
                      sample_every=10 ** 6, sample_unit="step", **parse_overrides(args.set))
    if not base.ema_decay:
        raise SystemExit(f"preset {args.preset!r} has no EMA (ema_decay = 0): nothing to compare")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"ema_seeds-{args.preset}-{args.dataset}-{args.steps}.csv"
    log = open(path.with_suffix(".txt"), "w")

    def say(text=""):  # print, and keep the line in the .txt
        print(text, flush=True)
        log.write(text + "\n")

    say(f"{args.preset} on {args.dataset}, ema_decay {base.ema_decay}, {args.steps} steps, n={args.n}, "
          f"started {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    say(f"{'seed':>4} {'generator':>9} " + " ".join(f"{k:>9}" for k in KEYS))
    rows = []
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as tmp:
            result = train(base.replace(seed=seed), Path(tmp) / "run", max_steps=args.steps, verbose=0, log=None)
        for name, generator in (("ema", result.gan.ema_generator), ("raw", result.gan.generator)):
            scores = evaluation.evaluate(generator, args.dataset, n=args.n, output=base.output, seed=NOISE_SEED)
            rows.append({"seed": seed, "generator": name, **{k: scores[k] for k in KEYS}})
            say(f"{seed:>4} {name:>9} " + " ".join(f"{scores[k]:>9.3g}" for k in KEYS))
    say("\nmean over seeds, and seeds where the EMA generator is better:")
    for k in KEYS:
        ema = np.array([r[k] for r in rows if r["generator"] == "ema"])
        raw = np.array([r[k] for r in rows if r["generator"] == "raw"])
        better = (ema > raw) if evaluation.HIGHER_IS_BETTER[k] else (ema < raw)
        say(f"  {k:>9}: EMA {ema.mean():.3g}, raw {raw.mean():.3g}; EMA better in {better.sum()} of {len(ema)}")
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["seed", "generator", *KEYS])
        w.writeheader()
        w.writerows(rows)
    say(f"wrote {path} and {path.with_suffix('.txt').name}")
    log.close()


if __name__ == "__main__":
    main()
