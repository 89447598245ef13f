"""Benchmark (not a test): how long gan_lab.evaluation takes on this machine.

    GAN_LAB_DATA_DIR=../shared/data python benchmarks/eval_speed.py                 # MNIST, n=10000
    GAN_LAB_DATA_DIR=../shared/data python benchmarks/eval_speed.py --dataset fashion_mnist --repeats 3

Reports: the one-off cost of the real reference (test-split features, mean/covariance, k-NN radii; cached
per process), the classifier's forward throughput, the time to evaluate n samples (classifier features plus
all eight metrics, with a breakdown) and the real-data floor's computation time. Aim: < 30 s for 10,000
samples on 2 CPU cores.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GAN_LAB_DATA_DIR", str(ROOT.parent / "shared" / "data"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _row(label: str, seconds: float, note: str = "", digits: int = 2) -> None:
    print(f"  {label:<50s}{seconds:8.{digits}f} s{('   ' + note) if note else ''}")


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="time gan_lab.evaluation.evaluate")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats of evaluate (best and mean shown)")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    import numpy as np

    from gan_lab import classifier, evaluation, metrics
    from gan_lab.data import load_dataset
    t_import = time.perf_counter() - t0
    try:
        import tensorflow as tf
        threads = f"intra-op {tf.config.threading.get_intra_op_parallelism_threads() or 'default'}"
    except Exception:  # pragma: no cover
        threads = "?"

    print(f"gan_lab.evaluation benchmark: dataset {args.dataset}, n={args.n}, {os.cpu_count()} CPU cores ({threads})")
    _row("import gan_lab.evaluation (TensorFlow/Keras)", t_import)
    _, t = _timed(classifier.load_classifier, args.dataset)
    _row("build classifier + load weights (.npz)", t)
    _, t = _timed(evaluation.real_reference, args.dataset)
    _row("real reference, once per process", t, "(10,000 test images: load, features, mean/cov, k-NN radii)")

    train, _ = load_dataset(args.dataset, "train")
    rng = np.random.default_rng(1)
    fake = train[rng.choice(len(train), size=args.n, replace=False)]  # stand-in for generated images
    unit = fake.astype(np.float32) / 255.0

    classifier.classify(unit[:1000], args.dataset)  # warm-up (tf.function trace)
    times = [_timed(classifier.classify, unit, args.dataset)[1] for _ in range(args.repeats)]
    best = min(times)
    _row(f"classifier forward, {args.n} images", best,
         f"({args.n / best:,.0f} images/s, best of {args.repeats})")

    ref = evaluation.real_reference(args.dataset)
    feats, probs = classifier.classify(unit, args.dataset)
    mu, sigma = metrics.feature_stats(feats)
    _, t_fcd = _timed(metrics.frechet_distance, ref.mu, ref.sigma, mu, sigma)
    _, t_score = _timed(lambda: (metrics.classifier_score(probs), metrics.mode_stats(probs)))
    _, t_manifold = _timed(metrics.manifold_metrics, ref.features, feats, ref.radii)
    print(f"    metrics alone: FCD {t_fcd:.2f} s, score+modes {t_score:.3f} s, "
          f"precision/recall/density/coverage {t_manifold:.2f} s (chunked k-NN)")

    runs = []
    for _ in range(args.repeats):
        result, t = _timed(evaluation.evaluate, fake, args.dataset, n=args.n)
        runs.append(t)
    _row(f"evaluate({args.n} samples): features + all metrics", min(runs),
         f"best; {sum(runs) / len(runs):.2f} s mean of {args.repeats} (aim < 30 s)")

    floor, t_floor = _timed(evaluation.real_floor, args.dataset, args.n)
    _row(f"real_floor({args.dataset!r}, {args.n}), first call", t_floor, "(includes loading the train split)")
    _, t_cached = _timed(evaluation.real_floor, args.dataset, args.n)
    _row("real_floor again (cached)", t_cached, digits=4)
    print()
    print(evaluation.format_table(result, floor))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
