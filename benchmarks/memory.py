"""Peak memory (RSS) of a real training run, as a user would start it from the command line.

Runs `python -m gan_lab train --preset P --max-seconds S` in a child process for each preset and reports
the child's peak resident set size (getrusage RUSAGE_CHILDREN, Linux: kilobytes), plus the steps it made.

    python benchmarks/memory.py --presets fast tf_tutorial_dcgan --seconds 60

`--draw RUN_DIR` trains nothing: it draws `--n` pictures from the run's saved generator as `gan-lab sample`
does, once per `--batches` value (`auto`: :func:`gan_lab.sampling.batch_size_for`; a number: that many per
call), each in its own process, and reports that process's peak RSS (TensorFlow itself included) and seconds.

    python benchmarks/memory.py --draw runs/keras_faces --n 1000 --batches auto 500
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time


def measure(preset: str, seconds: float, dataset: str = "mnist") -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        p = subprocess.run([sys.executable, "-m", "gan_lab", "train", "--preset", preset, "--dataset", dataset,
                            "--max-seconds", str(seconds), "--quiet", "--out", os.path.join(tmp, "run")],
                           capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
        wall = time.perf_counter() - t0
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if p.returncode != 0:
            raise RuntimeError(p.stderr[-2000:])
        state = json.load(open(os.path.join(tmp, "run", "run_state.json")))
    # ru_maxrss of children is the max over all children so far: run each preset in its own process
    return {"preset": preset, "peak_rss_mb": peak_kb / 1024, "earlier_max_mb": before / 1024,
            "steps": state["step"], "train_s": state["seconds"], "wall_s": wall}


def draw(run_dir: str, n: int, batch: str) -> dict:
    """Draw n pictures from a run's generator in this process (batch: "auto" or a number); its peak RSS."""
    from gan_lab.runs import load_generator
    from gan_lab.sampling import batch_size_for, sample

    preset, generator = load_generator(run_dir)
    size = batch_size_for(generator) if batch == "auto" else int(batch)
    t0 = time.perf_counter()
    pictures = sample(generator, n, seed=0, output=preset.output, batch_size=size)
    return {"batch": batch, "per_call": size, "pictures": len(pictures), "seconds": time.perf_counter() - t0,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", nargs="+", default=["fast", "tf_tutorial_dcgan"])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--draw", metavar="RUN_DIR", help="measure drawing pictures from this run instead of training")
    ap.add_argument("--n", type=int, default=1000, help="--draw: pictures drawn (default 1000)")
    ap.add_argument("--batches", nargs="+", default=["auto", "500"], help="--draw: pictures per call (default auto 500)")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--one-batch", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:  # child mode: one preset, print JSON
        print(json.dumps(measure(args.one, args.seconds)))
        return
    if args.one_batch:  # child mode: one drawing, print JSON
        print(json.dumps(draw(args.draw, args.n, args.one_batch)))
        return
    if args.draw:
        print(f"drawing {args.n} pictures from {args.draw}\n{'batch':<6} {'per call':>8} {'peak RSS MB':>11} {'seconds':>8}")
        for batch in args.batches:
            out = subprocess.run([sys.executable, __file__, "--draw", args.draw, "--n", str(args.n), "--one-batch", batch],
                                 capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
            if out.returncode != 0:
                raise SystemExit(f"drawing with batch {batch} failed: {out.stderr[-2000:]}")
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{batch:<6} {r['per_call']:>8} {r['peak_rss_mb']:>11.0f} {r['seconds']:>8.1f}")
        return
    print(f"{'preset':<20} {'peak RSS MB':>11} {'steps':>6} {'train s':>8} {'wall s':>7}")
    for name in args.presets:
        # a fresh measuring process per preset so RUSAGE_CHILDREN's maximum belongs to that preset alone
        out = subprocess.run([sys.executable, __file__, "--one", name, "--seconds", str(args.seconds)],
                             capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{name:<20} failed: {out.stderr[-500:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{name:<20} {r['peak_rss_mb']:>11.0f} {r['steps']:>6} {r['train_s']:>8.1f} {r['wall_s']:>7.1f}")


if __name__ == "__main__":
    main()
