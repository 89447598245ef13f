"""Colour time to quality: 64×64 / 32×32 recipes on a folder of pictures (emoji-64), with and without DiffAugment.

Each variant trains in its own child process (so its peak memory is its own) through `gan_lab.train.train`
(the CLI's code path) and is scored with the offline random-feature metrics (`gan_lab.evaluation`,
`kid_random` first) whenever its training clock passes a mark, with the same fixed noise every time (scoring
excluded from the clock), and with the classifier two-sample test (``c2st``: a small CNN's held-out accuracy
at telling the samples from the reference pictures, 0.5 = it cannot; stricter than the random-feature scores,
which read both 600 s models of 2026-11-28 as close as real). All variants run one after the other in one invocation, so their ratios come from
one run on one machine state. Prints a table and the ratios, and writes under `--out`:

    colour_ttq-<data>-<variant>-<marks>.csv     one per variant (rows per mark; its own file, never another's)
    colour_ttq-<data>-<variant>-<marks>.png     its 100 final images
    colour_ttq-<data>-<variant>-<marks>-at<mark>s.png   with --grids-at-marks: its 100 samples at each mark
    colour_ttq-<data>-summary-<variants>.md     the table and ratios of this invocation (each variant against
                                                every one before it, every score, every mark)
    colour_ttq-<data>-summary-<variants>.png    quality vs training seconds

`--ratios-from SUMMARY_MD` trains nothing: it writes that ratio table for an earlier run (from its summary's
floor and the CSVs beside it) to <summary>-ratios.md.

A variant is a preset name, `+da` for DiffAugment (the paper's color,translation,cutout), e.g. `fast64+da`, and
`+bn` for the EMA generator's BatchNorm statistics recomputed before it draws (`ema_bn_samples` 512, as `fast64`).
The ratios compare each variant with every variant before it, so put the baselines first (issue 15's: the
untuned half-width DCGAN-64 and the keras.io recipe).

    GAN_LAB_DATA_DIR=../shared/data python benchmarks/colour_time_to_quality.py \
        --variants dcgan64_half keras_faces fast64 fast64+da --marks 60 120 300 600
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from gan_lab import evaluation  # noqa: E402
from gan_lab.data import dataset_label  # noqa: E402
from gan_lab.presets import parse_overrides  # noqa: E402
from colour_common import FOLDER_HELP, picture_folder  # noqa: E402  (benchmarks/ is on sys.path as a script)
from time_to_quality import run_one  # noqa: E402

DIFF_AUGMENT = "color,translation,cutout"
SCORES = ("kid_random", "fd_random", "c2st")


EXTRAS = {"da": {"diff_augment": DIFF_AUGMENT}, "bn": {"ema_bn_samples": 512}}


def variant_overrides(variant: str) -> tuple[str, dict]:
    """``PRESET[+da][+bn]`` → (preset name, its overrides): ``+da`` DiffAugment, ``+bn`` the EMA generator's
    BatchNorm statistics recomputed from 512 noise vectors (fast64's setting)."""
    name, *extras = variant.split("+")
    if any(extra not in EXTRAS for extra in extras) or len(set(extras)) < len(extras):
        raise SystemExit(f"variant {variant!r}: expected PRESET with any of +da, +bn (e.g. dcgan64_half+bn)")
    return name, {k: v for extra in extras for k, v in EXTRAS[extra].items()}


def child(variant: str, dataset: str, marks, n: int, overrides: dict, keep_grid=None, mark_grids=None) -> dict:
    """Train and score one variant in this process; its peak RSS is this process's."""
    name, extra = variant_overrides(variant)
    preset, rows, wall, _ = run_one(name, dataset, marks, n, {**overrides, **extra}, keep_grid, two_sample=True,
                                    mark_grids=mark_grids)
    for r in rows:
        r["images_per_s"] = round(r["step"] * preset.batch_size / max(r["train_s"], 1e-9), 1)
    return {"variant": variant, "rows": rows, "wall_s": round(wall, 1), "batch": preset.batch_size,
            "image_shape": list(preset.image_shape),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9+._-]+", "_", text)


def distance(score: str, value: float, floor: dict) -> float:
    """Distance to real: c2st minus 0.5 (chance), kid_random and fd_random minus their real-vs-real floor."""
    if score == "c2st":
        return max(value - 0.5, 1e-3)
    return max(value - floor[score], 1e-9)


def ratio_lines(results: list[dict], floor: dict) -> list[str]:
    """How many times closer to real each variant is than every variant before it, at every mark."""
    marks = [row["mark_s"] for row in results[0]["rows"]]
    lines = ["distance to real (kid_random and fd_random minus their floor, c2st minus 0.5) of the earlier variant "
             "divided by the later one's, at every mark (above 1: the later variant is closer to real):", "",
             "| variant | closer to real than | score | " + " | ".join(f"{m:g} s" for m in marks) + " |",
             "| --- | --- | --- | " + " | ".join("---" for _ in marks) + " |"]
    for i, ref in enumerate(results):
        for r in results[i + 1:]:
            for score in SCORES:
                cells = [distance(score, a[score], floor) / distance(score, b[score], floor)
                         for a, b in zip(ref["rows"], r["rows"])]
                lines.append(f"| {r['variant']} | {ref['variant']} | {score} | "
                             + " | ".join(f"{x:.2f}×" if round(x, 2) < 10 else f"{x:.0f}×" for x in cells) + " |")
    return lines


def read_summary(path: Path) -> tuple[list[dict], dict]:
    """The real floor and the variants of an earlier run's summary .md, with their rows from the CSVs beside it."""
    if not path.is_file():
        raise SystemExit(f"{path}: no such file; pass a summary .md this script wrote "
                         "(results/colour_ttq-*-summary-*.md)")
    text = path.read_text()
    floor_line = re.search(r"^real floor[^:]*:(.*)$", text, re.M)
    label_marks = re.match(r"colour_ttq-(.+)-summary-.+?-((?:[0-9.]+-)*[0-9.]+)$", path.stem)
    variants = list(dict.fromkeys(re.findall(r"^\| ([^ |]+) \| [0-9.]+ \| [0-9]+ \|", text, re.M)))
    if not (floor_line and label_marks and variants):
        raise SystemExit(f"{path}: expected a summary .md of this script "
                         "(colour_ttq-<data>-summary-<variants>-<marks>.md with its table and 'real floor' line)")
    floor = {k: float(v) for k, v in re.findall(r"(\w+) (-?[0-9.]+)", floor_line.group(1))}
    label, marks_tag = label_marks.groups()
    results = []
    for variant in variants:
        csv_path = path.with_name(f"colour_ttq-{label}-{slug(variant)}-{marks_tag}.csv")
        if not csv_path.is_file():
            raise SystemExit(f"{csv_path.name} is missing beside {path.name}: the ratios are computed from the "
                             "variants' CSVs of the same run; keep them in the same folder")
        with open(csv_path) as fh:
            rows = [{k: float(v) for k, v in row.items()} for row in csv.DictReader(fh)]
        results.append({"variant": variant, "rows": rows})
    return results, floor


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variants", nargs="+", default=["dcgan64_half", "keras_faces", "fast64", "fast64+da"])
    ap.add_argument("--data-dir", default=None, help=FOLDER_HELP)
    ap.add_argument("--marks", nargs="+", type=float, default=[60, 120, 300, 600])
    ap.add_argument("--n", type=int, default=690, help="samples scored at each mark (default 690: emoji-64's floor pool)")
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE", help="overrides for every variant")
    ap.add_argument("--ratios-from", metavar="SUMMARY_MD", help="train nothing: write the every-mark ratio table "
                    "of an earlier run's summary .md beside it (<summary>-ratios.md)")
    ap.add_argument("--grids-at-marks", action="store_true", help="also write each variant's 100 samples at every "
                    "mark (<variant png>-at<mark>s.png), to watch one noise grow up over a long run")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--grid", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.ratios_from:
        path = Path(args.ratios_from)
        lines = ratio_lines(*read_summary(path))
        target = path.with_name(path.stem + "-ratios.md")
        target.write_text(f"# ratios of {path.name}\n\n" + "\n".join(lines) + "\n")
        print("\n".join(lines) + f"\nwrote {target}")
        return
    folder, dataset = picture_folder(args.data_dir)
    overrides = parse_overrides(args.set)
    if args.child:
        mark_grids = str(Path(args.grid).with_suffix("")) if args.grids_at_marks else None
        print("RESULT " + json.dumps(child(args.child, dataset, args.marks, args.n, overrides, args.grid, mark_grids)))
        return

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    label, marks_tag = slug(dataset_label(dataset)), "-".join(f"{m:g}" for m in args.marks)
    results, load = [], os.getloadavg()
    print(f"{label}: {len(args.variants)} variants, marks {args.marks} s, n={args.n}; load average before "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)", flush=True)
    for variant in args.variants:
        cmd = [sys.executable, __file__, "--child", variant, "--data-dir", str(folder), "--n", str(args.n),
               "--marks", *map(str, args.marks), "--set", *args.set,
               "--grid", str(out / f"colour_ttq-{label}-{slug(variant)}-{marks_tag}.png")] \
            + ["--grids-at-marks"] * args.grids_at_marks
        p = subprocess.run(cmd, capture_output=True, text=True)
        line = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
        if p.returncode != 0 or not line:
            raise SystemExit(f"{variant} failed:\n{p.stderr[-3000:]}")
        r = json.loads(line[-1][len("RESULT "):])
        results.append(r)
        keys = list(r["rows"][0])
        path = out / f"colour_ttq-{label}-{slug(variant)}-{marks_tag}.csv"
        path.write_text(",".join(keys) + "\n" + "".join(",".join(str(row[k]) for k in keys) + "\n"
                                                         for row in r["rows"]))
        last = r["rows"][-1]
        print(f"{variant:<14} steps {last['step']:>6} img/s {last['images_per_s']:>7.1f} peak RSS "
              f"{r['peak_rss_mb']:>7.0f} MB  kid_random {last['kid_random']:.5f} fd_random {last['fd_random']:.3f} "
              f"c2st {last['c2st']:.3f} precision {last['precision']:.3f} recall {last['recall']:.3f} -> {path.name}",
              flush=True)

    shape = tuple(results[0]["image_shape"])
    floor = evaluation.real_floor(dataset, args.n, image_shape=shape, two_sample=True)
    lines = [f"# colour time to quality on {label}", "",
             f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; after: "
             + " ".join(f"{v:.2f}" for v in os.getloadavg()) + f"; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
             f"real floor (n={args.n}, {'×'.join(map(str, shape))}): kid_random {floor['kid_random']:.5f}, "
             f"fd_random {floor['fd_random']:.3f}, c2st {floor['c2st']:.3f}, precision {floor['precision']:.3f}, "
             f"recall {floor['recall']:.3f}",
             "", "| variant | mark s | steps | img/s | peak RSS MB | kid_random | fd_random | c2st | precision | recall "
                 "| coverage |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        for row in r["rows"]:
            lines.append(f"| {r['variant']} | {row['mark_s']:g} | {row['step']} | {row['images_per_s']} | "
                         f"{r['peak_rss_mb']:.0f} | {row['kid_random']:.5f} | {row['fd_random']:.3f} | {row['c2st']:.3f} | "
                         f"{row['precision']:.3f} | {row['recall']:.3f} | {row['coverage']:.3f} |")
    ratios = ratio_lines(results, floor)
    lines += ["", *ratios]
    summary = out / f"colour_ttq-{label}-summary-{slug('_'.join(args.variants))}-{marks_tag}.md"
    summary.write_text("\n".join(lines) + "\n")
    print("\n".join(ratios))
    plot(results, floor, summary.with_suffix(".png"))
    print(f"wrote {summary} and {summary.with_suffix('.png').name}")


def plot(results, floor, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    keys = ("kid_random", "fd_random", "c2st")
    fig, axes = plt.subplots(1, len(keys), figsize=(14, 3.8))
    for r in results:
        t = [row["train_s"] for row in r["rows"]]
        for ax, key in zip(axes, keys):
            ax.plot(t, [row[key] for row in r["rows"]], "o-", label=r["variant"])
    for ax, key in zip(axes, keys):
        ax.axhline(floor[key], color="k", ls="--", lw=1, label="real floor")
        ax.set_xlabel("training seconds (scoring excluded)")
        ax.set_ylabel(f"{key} (lower is better)")
        if key != "c2st":
            ax.set_yscale("symlog", linthresh=1e-3 if key == "kid_random" else 0.1)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


if __name__ == "__main__":
    main()
