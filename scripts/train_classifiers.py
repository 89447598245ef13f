"""Train the domain classifiers that gan_lab.metrics uses, and write their weights into the package.

    GAN_LAB_DATA_DIR=../shared/data python scripts/train_classifiers.py            # both datasets
    python scripts/train_classifiers.py --dataset fashion_mnist --epochs 12 --seed 1234

Each classifier is trained with a fixed seed on the training split only; the test accuracy is printed
(and stored in the .npz as metadata). Weights go to gan_lab/weights/<dataset>_classifier.npz as a plain
.npz of float32 arrays (no pickle). Takes a few minutes on 2 CPU cores.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gan_lab import classifier  # noqa: E402
from gan_lab.data import DATASETS, normalize_name  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="all", help="mnist, fashion_mnist or all (default)")
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"epochs (default per dataset: {classifier.DEFAULT_EPOCHS})")
    parser.add_argument("--seed", type=int, default=classifier.DEFAULT_SEED)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--data-dir", default=None, help="folder holding mnist/ and fashion-mnist/")
    parser.add_argument("--out-dir", default=str(classifier.WEIGHTS_DIR),
                        help="where to write <dataset>_classifier.npz (default: inside the package)")
    args = parser.parse_args(argv)

    names = DATASETS if args.dataset == "all" else (normalize_name(args.dataset),)
    rows = []
    for name in names:
        print(f"== training the {name} classifier (seed {args.seed}) ==", flush=True)
        model, info = classifier.train_classifier(name, epochs=args.epochs, seed=args.seed,
                                                  batch_size=args.batch_size, data_dir=args.data_dir)
        path = classifier.save_classifier(model, Path(args.out_dir) / f"{name}_classifier.npz", **info)
        size_kb = path.stat().st_size / 1024
        print(f"{name}: test accuracy {info['test_accuracy']:.4f} after {info['epochs']} epochs "
              f"({info['train_seconds']:.0f} s); wrote {path} ({size_kb:.0f} KB)", flush=True)
        rows.append((name, info))
    print("\nsummary")
    for name, info in rows:
        print(f"  {name:14s} test accuracy {100 * info['test_accuracy']:.2f}%  "
              f"(seed {info['seed']}, {info['epochs']} epochs, {info['train_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
