"""The truncation trick on saved colour generators: noise ψ·z instead of z, scored at several ψ.

BigGAN (Brock et al. 2019, §3.1) trades variety for fidelity by drawing the noise from a truncated distribution:
values beyond a threshold are drawn again. gan_lab's generators take uniform noise in [-1, 1], where drawing
again every value outside [-ψ, ψ] gives uniform noise in [-ψ, ψ], that is ψ·z. This script draws the same
noise for every ψ (``uniform_noise(n, noise_dim, 123)``, the colour benchmark's noise), scores each set
against the folder with the offline random-feature metrics and the two-sample test (``gan_lab.evaluation``,
as ``gan-lab evaluate --c2st``), and keeps the first 100 pictures of each ψ as a grid beside the table.

    GAN_LAB_DATA_DIR=../shared/data python benchmarks/truncation.py runs/fast64-s1 --psi 1 0.8 0.6 0.4 \\
        --out benchmarks/results/truncation-emoji-64.txt
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from colour_common import FOLDER_HELP, NOISE_SEED, draw_and_score, picture_folder  # noqa: E402  (benchmarks/ on sys.path)
from gan_lab.plots import save_grid  # noqa: E402
from gan_lab.runs import load_generator  # noqa: E402
from gan_lab.sampling import noise_dim_of, uniform_noise  # noqa: E402

KEYS = ("c2st", "kid_random", "fd_random", "precision", "recall", "density", "coverage")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", help="run folders (preset.json + generator.keras)")
    ap.add_argument("--psi", nargs="+", type=float, default=[1.0, 0.8, 0.6, 0.4], help="truncations, 0 < ψ ≤ 1")
    ap.add_argument("--data-dir", default=None, help=FOLDER_HELP)
    ap.add_argument("--n", type=int, default=690, help="pictures scored per ψ (default 690: emoji-64's floor pool)")
    ap.add_argument("--out", required=True, help="the table (.txt); the grids go beside it")
    args = ap.parse_args(argv)
    if not all(0 < psi <= 1 for psi in args.psi):
        ap.error(f"--psi {args.psi}: every ψ must be in (0, 1]")
    folder, dataset = picture_folder(args.data_dir)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"truncation ψ: noise ψ·z, z = uniform_noise({args.n}, noise_dim, {NOISE_SEED}); scored against "
             f"{folder.name} (gan_lab.evaluation, two_sample=True)", "",
             "| run | ψ | " + " | ".join(KEYS) + " | grid |", "| --- | --- | " + " | ".join("---" for _ in KEYS) + " | --- |"]
    for run in args.runs:
        preset, generator = load_generator(run)
        z = uniform_noise(args.n, noise_dim_of(generator), NOISE_SEED)
        for psi in args.psi:
            pictures, r = draw_and_score(generator, psi * z, dataset, preset.output)
            grid = out.with_name(f"{out.stem}-{Path(run).name}-psi{psi:g}.png")
            save_grid(pictures[:100], grid, ncols=10)
            lines.append(f"| {Path(run).name} | {psi:g} | " + " | ".join(f"{r[k]:.5f}" if k == "kid_random" else
                                                                        f"{r[k]:.3f}" for k in KEYS) + f" | {grid.name} |")
            print(lines[-1], flush=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
