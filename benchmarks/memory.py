"""Peak memory (RSS) of a real training run, as a user would start it from the command line.

Runs `python -m gan_lab train --preset P --max-seconds S` in a child process for each preset and reports
the child's peak resident set size (getrusage RUSAGE_CHILDREN, Linux: kilobytes), plus the steps it made.

    python benchmarks/memory.py --presets fast tf_tutorial_dcgan --seconds 60
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", nargs="+", default=["fast", "tf_tutorial_dcgan"])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:  # child mode: one preset, print JSON
        print(json.dumps(measure(args.one, args.seconds)))
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
