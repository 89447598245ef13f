"""Time to quality: train presets for a wall-clock budget and score samples at time marks.

For each (preset, dataset) pair, trains with `gan_lab.train.train` (the CLI's code path) and, when the
training clock passes each mark, draws `--n` samples from the generator used for sampling (the EMA copy when
the preset has one) and scores them with `gan_lab.evaluation.QualityCallback` (the same fixed noise at every
mark). Sampling and scoring time is excluded from the training clock (the training clock counts from the
first step: tracing included, as a learner's wall clock would). Prints a table, writes `time_to_quality.csv`
and a quality-vs-time plot.

    python benchmarks/time_to_quality.py --presets tf_tutorial_dcgan fast --datasets mnist \
        --marks 30 60 120 180 --out benchmarks/results
"""
from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from gan_lab import evaluation  # noqa: E402
from gan_lab.presets import get_preset, parse_overrides  # noqa: E402
from gan_lab.train import train  # noqa: E402

KEYS = evaluation.METRIC_KEYS
NOISE_SEED = 123


def run_one(name, dataset, marks, n, overrides, keep_grid=None):
    """Train ``name`` until the training clock passes the last mark; one row per mark (the metric keys follow the
    data: :func:`gan_lab.evaluation.metric_keys`)."""
    preset = get_preset(name, dataset=dataset, checkpoint_every=0, checkpoint_seconds=1e9,
                        sample_every=10 ** 6, sample_unit="step", epochs=10 ** 4, **overrides)
    scorer = evaluation.QualityCallback(dataset=dataset, out_dir=None, at_seconds=marks, stop_after_marks=True,
                                        n=n, output=preset.output, seed=NOISE_SEED, final=False, verbose=False)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        train(preset, Path(tmp) / "run", images=None, verbose=0, callbacks=[scorer], log=lambda *a: None)
        if keep_grid is not None:  # the run's 100 final images, kept beside the results
            shutil.copy(Path(tmp) / "run" / "final_grid.png", keep_grid)
    wall = time.perf_counter() - t0
    rows = [{"mark_s": mark, "train_s": round(row["seconds"], 1), "step": row["step"],
             **{k: row[k] for k in scorer.keys}} for mark, row in zip(sorted(marks), scorer.rows)]
    return preset, rows, wall


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for key in sorted({(r["preset"], r["dataset"]) for r in rows}):
        sel = [r for r in rows if (r["preset"], r["dataset"]) == key]
        label = f"{key[0]} ({key[1]})"
        axes[0].plot([r["train_s"] for r in sel], [r["score"] for r in sel], "o-", label=label)
        axes[1].plot([r["train_s"] for r in sel], [r["fcd"] for r in sel], "o-", label=label)
    axes[0].set_ylabel("classifier score (higher is better)")
    axes[1].set_ylabel("FCD (lower is better)")
    axes[1].set_yscale("log")
    for ax in axes:
        ax.set_xlabel("training seconds (2-core CPU)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", nargs="+", default=["tf_tutorial_dcgan", "fast"])
    ap.add_argument("--datasets", nargs="+", default=["mnist"])
    ap.add_argument("--marks", nargs="+", type=float, default=[30, 60, 120, 180])
    ap.add_argument("--n", type=int, default=5000, help="samples scored at each mark")
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE", help="preset overrides, e.g. g_lr=1e-3")
    args = ap.parse_args(argv)

    overrides = parse_overrides(args.set)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    all_rows = []
    for dataset in args.datasets:
        floor = evaluation.real_floor(dataset, n=args.n)
        print(f"\n{dataset}: real-data floor (n={args.n}): " + ", ".join(f"{k} {floor[k]:.3g}" for k in KEYS))
        for name in args.presets:
            preset, rows, wall = run_one(name, dataset, args.marks, args.n, overrides)
            print(f"{name} on {dataset} (batch {preset.batch_size}, {wall:.0f} s wall incl. scoring)")
            print(f"  {'mark':>5} {'train_s':>7} {'step':>6} {'img/s':>6} " + " ".join(f"{k:>9}" for k in KEYS))
            for r in rows:
                r.update(preset=name, dataset=dataset)
                ips = r["step"] * preset.batch_size / max(r["train_s"], 1e-9)
                print(f"  {r['mark_s']:>5.0f} {r['train_s']:>7.1f} {r['step']:>6} {ips:>6.0f} "
                      + " ".join(f"{r[k]:>9.3g}" for k in KEYS))
            sys.stdout.flush()
            all_rows += rows
    fields = ["preset", "dataset", "mark_s", "train_s", "step", *KEYS]
    with open(out / "time_to_quality.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(all_rows)
    plot(all_rows, out / "time_to_quality.png")
    print(f"\nwrote {out / 'time_to_quality.csv'} and {out / 'time_to_quality.png'}")


if __name__ == "__main__":
    main()
