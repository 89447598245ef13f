"""Time to quality: train presets for a wall-clock budget and score samples at time marks.

For each (preset, dataset) pair, trains with `gan_lab.train.train` (the CLI's code path) and, when the
training clock passes each mark, draws `--n` samples from the generator used for sampling (the EMA copy when
the preset has one) and scores them with `gan_lab.evaluation.QualityCallback` (the same fixed noise at every
mark). Sampling and scoring time is excluded from the training clock (the training clock counts from the
first step: tracing included, as a learner's wall clock would). Each row says whether the preset is
conditional (given the class labels) or unconditional; the summary gives each preset's FCD as a ratio of the
first preset's of the same task at the same mark (compare like with like).

Writes `ttq-<datasets>-<presets>-<marks>[-<overrides>].{txt,csv,png}` in `--out`: the printed output, the rows
and a quality-vs-time plot (a run of other presets, data, marks or overrides never overwrites another's files).

    python benchmarks/time_to_quality.py --presets fast_unconditional_plain fast_unconditional \
        --datasets mnist fashion_mnist --marks 60 180 600 --out benchmarks/results
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

import keras  # noqa: E402

from gan_lab import evaluation, plots, sampling  # noqa: E402
from gan_lab.presets import get_preset, parse_overrides  # noqa: E402
from gan_lab.train import train  # noqa: E402

KEYS = evaluation.METRIC_KEYS
NOISE_SEED = 123


def run_one(name, dataset, marks, n, overrides, keep_grid=None, two_sample=False, mark_grids=None):
    """Train ``name`` until the training clock passes the last mark; one row per mark (the metric keys follow the
    data: :func:`gan_lab.evaluation.metric_keys`; ``two_sample`` adds the colour metrics' ``c2st``).
    ``mark_grids``: also write 100 samples at every mark to ``<mark_grids>-at<mark>s.png`` (the scored noise's
    first 100, so the grids of one run show the same noise growing up; drawn while the clock is stopped)."""
    preset = get_preset(name, dataset=dataset, checkpoint_every=0, checkpoint_seconds=1e9,
                        sample_every=10 ** 6, sample_unit="step", epochs=10 ** 4, **overrides)
    pending = sorted(marks)

    def grid_at_mark(row):
        path = f"{mark_grids}-at{pending.pop(0):g}s.png"
        plots.save_grid(sampling.sample(scorer.model.sampler, 100, seed=NOISE_SEED, output=preset.output), path)

    scorer = evaluation.QualityCallback(dataset=dataset, out_dir=None, at_seconds=marks, stop_after_marks=True,
                                        n=n, output=preset.output, seed=NOISE_SEED, final=False, verbose=False,
                                        two_sample=two_sample, on_score=grid_at_mark if mark_grids else None)
    start = _FirstStep()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        train(preset, Path(tmp) / "run", images=None, verbose=0, callbacks=[scorer, start], log=lambda *a: None)
        if keep_grid is not None:  # the run's 100 final images, kept beside the results
            shutil.copy(Path(tmp) / "run" / "final_grid.png", keep_grid)
    wall = time.perf_counter() - t0
    rows = [{"mark_s": mark, "train_s": round(row["seconds"], 1), "step": row["step"],
             **{k: row[k] for k in scorer.keys}} for mark, row in zip(sorted(marks), scorer.rows)]
    return preset, rows, wall, start.t - t0


class _FirstStep(keras.callbacks.Callback):
    """Records when training begins: the time before it is setup (data, k-means clusters, models)."""

    def on_train_begin(self, logs=None):
        self.t = time.perf_counter()


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for key in sorted({(r["preset"], r["dataset"]) for r in rows}):
        sel = [r for r in rows if (r["preset"], r["dataset"]) == key]
        label = f"{key[0]} ({key[1]}, {sel[0]['task']})"
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


def task(preset) -> str:
    return "conditional" if preset.conditional else "unconditional"


def ratios(rows, names) -> list[str]:
    """Lines giving each preset's FCD as a multiple of the first listed preset of the same task and data."""
    out = []
    for dataset in sorted({r["dataset"] for r in rows}):
        for kind in ("unconditional", "conditional"):
            sel = [r for r in rows if r["dataset"] == dataset and r["task"] == kind]
            order = [n for n in names if any(r["preset"] == n for r in sel)]
            if len(order) < 2:
                continue
            base = {r["mark_s"]: r for r in sel if r["preset"] == order[0]}
            for name in order[1:]:
                for r in sel:
                    if r["preset"] == name and r["mark_s"] in base:
                        b = base[r["mark_s"]]
                        out.append(f"{dataset} {kind} at {r['mark_s']:.0f} s: {name} FCD {r['fcd']:.3g} = "
                                   f"{r['fcd'] / b['fcd']:.2f} x {order[0]}'s {b['fcd']:.3g}; score {r['score']:.3g} "
                                   f"vs {b['score']:.3g}; modes {r['modes']} vs {b['modes']}")
    return out


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
    stem = "-".join(["ttq", "_".join(args.datasets), "_".join(args.presets), "_".join(f"{m:g}" for m in args.marks)]
                    + (["_".join(args.set)] if args.set else []))
    log = open(out / f"{stem}.txt", "w")

    def say(text=""):
        print(text, flush=True)
        log.write(text + "\n")
        log.flush()

    say(f"python benchmarks/time_to_quality.py {' '.join(sys.argv[1:] if argv is None else argv)}")
    say(f"started {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average {os.getloadavg()[0]:.2f}")
    all_rows = []
    for dataset in args.datasets:
        floor = evaluation.real_floor(dataset, n=args.n)
        say(f"\n{dataset}: real-data floor (n={args.n}): " + ", ".join(f"{k} {floor[k]:.3g}" for k in KEYS))
        for name in args.presets:
            preset, rows, wall, setup = run_one(name, dataset, args.marks, args.n, overrides)
            say(f"{name} ({task(preset)}) on {dataset} (batch {preset.batch_size}, precision {preset.precision}, "
                f"{wall:.0f} s wall incl. scoring; load average {os.getloadavg()[0]:.2f} at the end)")
            say(f"  setup before the first step (not in train_s): {setup:.1f} s (data, "
                + (f"{preset.clusters} k-means clusters, " if preset.clusters else "") + "models)")
            say(f"  {'mark':>5} {'train_s':>7} {'step':>6} {'img/s':>6} " + " ".join(f"{k:>9}" for k in KEYS))
            for r in rows:
                r.update(preset=name, dataset=dataset, task=task(preset))
                ips = r["step"] * preset.batch_size / max(r["train_s"], 1e-9)
                say(f"  {r['mark_s']:>5.0f} {r['train_s']:>7.1f} {r['step']:>6} {ips:>6.0f} "
                    + " ".join(f"{r[k]:>9.3g}" for k in KEYS))
            all_rows += rows
    say("\nratios (same run, same task):")
    for line in ratios(all_rows, args.presets):
        say("  " + line)
    fields = ["preset", "task", "dataset", "mark_s", "train_s", "step", *KEYS]
    with open(out / f"{stem}.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(all_rows)
    plot(all_rows, out / f"{stem}.png")
    say(f"\nwrote {stem}.txt, .csv and .png in {out}")
    log.close()


if __name__ == "__main__":
    main()
