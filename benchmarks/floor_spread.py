"""How far apart two halves of the same real folder land on the offline scores: the floor's own spread.

`gan-lab evaluate` scores samples against a seeded half of a folder and prints the floor, the other half scored
the same way. That floor is one draw: another split of the same pictures gives another value. This script
draws `--splits` random splits of the folder into two halves of `--n` pictures and scores one half against
the other on kid_random, fd_random (the random-feature scores of `gan_lab.evaluation`) and, for the first
`--c2st-splits` splits, the classifier two-sample test. A difference between two models smaller than this
spread cannot be read as one being closer to real than the other.

    GAN_LAB_DATA_DIR=../shared/data python benchmarks/floor_spread.py \\
        --out benchmarks/results/floor_spread-emoji-64.txt
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from colour_common import FOLDER_HELP, picture_folder  # noqa: E402  (benchmarks/ is on sys.path as a script)
from gan_lab.data import load_dataset  # noqa: E402
from gan_lab.embeddings import random_features  # noqa: E402
from gan_lab.metrics import feature_stats, frechet_distance, kernel_distance  # noqa: E402
from gan_lab.two_sample import two_sample_accuracy  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=None, help=FOLDER_HELP)
    ap.add_argument("--image-size", type=int, default=64)
    ap.add_argument("--n", type=int, default=690, help="pictures in each half (default 690: emoji-64 halved)")
    ap.add_argument("--splits", type=int, default=12, help="random splits scored on kid_random and fd_random")
    ap.add_argument("--c2st-splits", type=int, default=6, help="how many of them are also scored on c2st (seed 0)")
    ap.add_argument("--out", default=None, help="also write the table to this file")
    args = ap.parse_args(argv)
    folder, dataset = picture_folder(args.data_dir)
    images, _ = load_dataset(dataset, image_size=args.image_size, channels=3, verbose=False)
    if 2 * args.n > len(images):
        raise SystemExit(f"--n {args.n} is too large: {folder} holds {len(images)} pictures, two halves of "
                         f"{args.n} need {2 * args.n}; pass --n {len(images) // 2} or less")
    x = images.astype(np.float32) / 255.0
    features = random_features(x)
    lines = [f"# benchmarks/floor_spread.py on {folder.name}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
             f"# {args.splits} random splits (numpy seeds 100-{99 + args.splits}) of the {len(x)} pictures into two "
             f"halves of {args.n} at {args.image_size}x{args.image_size}; one half scored against the other",
             f"{'split':>5} {'kid_random':>11} {'fd_random':>10} {'c2st s0':>8}"]
    print("\n".join(lines), flush=True)
    rows = []
    for split in range(args.splits):
        order = np.random.default_rng(100 + split).permutation(len(x))
        a, b = order[:args.n], order[args.n:2 * args.n]
        kid = kernel_distance(features[a], features[b], seed=0)[0]
        fd = frechet_distance(*feature_stats(features[a]), *feature_stats(features[b]), method="eigh")
        c2st = two_sample_accuracy(x[a], x[b], seed=0) if split < args.c2st_splits else float("nan")
        rows.append((kid, fd, c2st))
        lines.append(f"{split:>5} {kid:>11.5f} {fd:>10.3f} {c2st:>8.3f}")
        print(lines[-1], flush=True)
    lines.append("# over the splits: mean, standard deviation, min, max")
    for name, column in zip(("kid_random", "fd_random", "c2st s0"), np.array(rows).T):
        column = column[np.isfinite(column)]
        if not len(column):
            continue
        sd = column.std(ddof=1) if len(column) > 1 else float("nan")
        lines.append(f"{name:<11} mean {column.mean():.5f}  sd {sd:.5f}  "
                     f"min {column.min():.5f}  max {column.max():.5f}  (splits: {len(column)})")
        print(lines[-1], flush=True)
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
