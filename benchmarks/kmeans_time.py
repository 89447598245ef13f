"""Benchmark (not a test): how long the k-means labels of a self-conditioned preset take to compute here.

    GAN_LAB_DATA_DIR=../shared/data python benchmarks/kmeans_time.py                # MNIST, clusters=100
    GAN_LAB_DATA_DIR=../shared/data python benchmarks/kmeans_time.py --k 10 --class-clusters

This is the setup a `clusters` (or `class_clusters`) preset pays before its first step, once per data, k and
seed on a machine: gan_lab keeps the labels in the cache folder and in the run folder. Prints the seconds of
each repeat of :func:`gan_lab.clusters.cluster_labels` and appends them to benchmarks/results/kmeans_time.txt.
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GAN_LAB_DATA_DIR", str(ROOT.parent / "shared" / "data"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from gan_lab.clusters import cluster_labels  # noqa: E402
from gan_lab.data import load_dataset  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="time the k-means labels of a self-conditioned preset")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--k", type=int, default=100, help="clusters (per class with --class-clusters)")
    parser.add_argument("--class-clusters", action="store_true", help="cluster each class on its own")
    parser.add_argument("--images", type=int, default=0, help="use the first N training images (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "kmeans_time.txt"))
    args = parser.parse_args(argv)

    images, classes = load_dataset(args.dataset, "train", verbose=False)
    if args.images:
        images, classes = images[:args.images], None if classes is None else classes[:args.images]
    what = (f"{args.k} clusters per class" if args.class_clusters else f"{args.k} clusters") + \
        f" of {len(images):,} {args.dataset} images ({'×'.join(map(str, images.shape[1:]))}), seed {args.seed}"
    if args.class_clusters and classes is None:
        parser.error(f"--class-clusters needs class labels, and {args.dataset} has none (one folder of pictures)")
    seconds = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        cluster_labels(images, args.k, args.seed, classes=classes if args.class_clusters else None)
        seconds.append(time.perf_counter() - start)
    line = (f"k-means, {what}: {', '.join(f'{s:.2f}' for s in seconds)} s "
            f"({os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.2f} at the end, "
            f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC)")
    print(line)
    command = "python benchmarks/kmeans_time.py " + " ".join(argv if argv is not None else sys.argv[1:])
    with open(args.out, "a") as f:
        f.write(f"# {command.strip()}\n{line}\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
