"""Validate the classifier two-sample test (``c2st``) on a folder of pictures (emoji-64), beside kid_random.

Scores, against the reference half of the folder (as ``gan-lab evaluate`` does): the other half (the floor),
the other half blurred (Gaussian σ 3 px) and with its pixels shuffled within each picture, uniform noise, and
the saved generators of any run folders given (``--runs``; a file ``gen-<step>.keras`` beside ``generator.keras``
is scored too, labelled with its step). Each c2st is computed with two classifier seeds, so their spread shows
the test's own noise. Prints a table and writes it to ``--out``.

    GAN_LAB_DATA_DIR=../shared/data python benchmarks/two_sample_validation.py --runs runs/a runs/b \\
        --out benchmarks/results/two_sample_validation.txt
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageFilter  # noqa: E402

from colour_common import FOLDER_HELP, picture_folder  # noqa: E402  (benchmarks/ is on sys.path as a script)
from gan_lab.evaluation import evaluate, picture_reference  # noqa: E402
from gan_lab.runs import Run  # noqa: E402
from gan_lab.sampling import sample  # noqa: E402
from gan_lab.two_sample import two_sample_accuracy  # noqa: E402


def _blurred(x, sigma=3.0):
    """PIL's Gaussian blur, as the random-feature validation (tests/test_colour_metrics.py, README table) uses."""
    blur = ImageFilter.GaussianBlur(sigma)
    return np.stack([np.asarray(Image.fromarray(np.round(p * 255).astype(np.uint8)).filter(blur), np.float32) / 255.0
                     for p in x])


def _shuffled(x, seed=0):
    rng = np.random.default_rng(seed)
    flat = x.reshape(len(x), -1, x.shape[-1]).copy()
    for row in flat:
        rng.shuffle(row)
    return flat.reshape(x.shape)


def _generators(run_dirs):
    """(label, generator, output) for every saved generator of the given run folders."""
    for run_dir in map(Path, run_dirs):
        preset = Run(run_dir).read_preset()
        files = sorted(run_dir.glob("gen-*.keras"), key=lambda p: int(p.stem.split("-")[1])) \
            or [run_dir / "generator.keras"]
        for path in files:
            yield f"{run_dir.name} {path.stem}", keras.models.load_model(path), preset.output


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=None, help=FOLDER_HELP)
    ap.add_argument("--runs", nargs="*", default=[], help="run folders whose generators are scored too")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1], help="classifier seeds of the c2st")
    ap.add_argument("--n", type=int, default=None, help="pictures per set (default: all of the floor pool, 690)")
    ap.add_argument("--out", default=None, help="also write the table to this file")
    args = ap.parse_args(argv)
    folder, dataset = picture_folder(args.data_dir)
    ref = picture_reference(dataset, (64, 64, 3))
    n = min(args.n or len(ref.pool), len(ref.pool))
    real, pool = ref.images[:n].astype(np.float32) / 255.0, ref.pool[:n].astype(np.float32) / 255.0
    sets = [("real (the other half: the floor)", lambda: pool), ("real, blurred (Gaussian σ 3 px)", lambda: _blurred(pool)),
            ("real, pixels shuffled within each picture", lambda: _shuffled(pool)),
            ("uniform noise", lambda: np.random.default_rng(1).uniform(0, 1, pool.shape).astype(np.float32))]
    sets += [(label, lambda g=g, o=o: sample(g, n, seed=0, output=o)) for label, g, o in _generators(args.runs)]
    lines = [f"# benchmarks/two_sample_validation.py on {folder.name}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
             f"# {n} pictures per set against the {len(real)} reference pictures at 64x64; c2st with classifier seeds "
             f"{args.seeds}", f"{'set':<44} {'kid_random':>10} " + " ".join(f"c2st s{s}" for s in args.seeds)]
    print("\n".join(lines), flush=True)
    for label, make in sets:
        x = make()
        kid = evaluate(x, dataset, n=None, value_range="unit")["kid_random"]
        c2st = [two_sample_accuracy(real, x, seed=s) for s in args.seeds]
        lines.append(f"{label:<44} {kid:>10.5f} " + " ".join(f"{v:>7.3f}" for v in c2st))
        print(lines[-1], flush=True)
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
