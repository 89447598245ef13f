"""What a generator's samples lie nearest to, by the names of a folder's pictures.

In a folder whose file names say what each picture is (emoji-64: ``u2764_heavy_black_heart.png``) the nearest
training picture of a sample (between pixels, ``gan_lab.nearest``, as ``gan-lab nearest``) names what the sample
lies closest to. For each word of ``--words`` this prints the share of the folder's pictures whose name holds it
and the share of samples whose nearest picture's name does (a name counts for the first of the words it holds;
``other``: none), and writes a grid of up to 24 samples whose nearest picture holds ``--show``, each beside that
picture: does a sample near a heart draw a heart, or only its colours?

    GAN_LAB_DATA_DIR=../shared/data python benchmarks/nearest_names.py RUN --n 2000 --show heart \\
        --out benchmarks/results/nearest-names-emoji-64.txt
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections import Counter
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from gan_lab.nearest import nearest_training  # noqa: E402
from gan_lab.plots import save_grid  # noqa: E402
from gan_lab.runs import load_generator  # noqa: E402

WORDS = ("heart", "face", "hand", "clock", "arrow", "square", "circle", "sign", "moon")
SHOWN = 24


def first_word(name: str, words) -> str:
    """The first of ``words`` that ``name`` holds, else ``"other"``."""
    return next((w for w in words if w in name), "other")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="a run folder (preset.json + generator.keras) trained on a folder of pictures")
    ap.add_argument("--n", type=int, default=2000, help="samples drawn (default 2000, noise seed 0)")
    ap.add_argument("--words", nargs="+", default=list(WORDS), help=f"words of the names (default {' '.join(WORDS)})")
    ap.add_argument("--show", default="heart", help="grid of the samples whose nearest picture holds this word")
    ap.add_argument("--out", required=True, help="the table (.txt); the grid goes beside it (<stem>-<show>.png)")
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error(f"--n {args.n}: expected a number of samples >= 1")
    preset, generator = load_generator(args.run)
    found = nearest_training(generator, preset.dataset, preset.output, n=args.n, rows=args.n, k=1)
    x, train, names, nearest = found.samples, found.train, found.names, found.neighbours
    folder = Counter(first_word(name, args.words) for name in names)
    samples = Counter(first_word(names[i], args.words) for i in nearest[:, 0])
    lines = [f"$ python benchmarks/nearest_names.py {shlex.join(sys.argv[1:] if argv is None else argv)}",
             f"{args.n} samples of {Path(args.run).name} ({preset.name}, seed 0 noise); their nearest of the "
             f"{len(train)} training pictures between pixels", "",
             "| word | share of the folder's pictures | share of the samples nearest one |", "| --- | --- | --- |"]
    lines += [f"| {w} | {folder[w] / len(names):.3f} | {samples[w] / args.n:.3f} |" for w in (*args.words, "other")]
    shown = [j for j in range(args.n) if args.show in names[nearest[j, 0]]][:SHOWN]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if shown:
        tiles = np.stack([t for j in shown for t in (x[j], train[nearest[j, 0]] / 255.0)])
        grid = save_grid(tiles, out.with_name(f"{out.stem}-{args.show}.png"), ncols=8)
        lines += ["", f"{grid.name}: the first {len(shown)} samples nearest a picture named *{args.show}*, each "
                      "followed by that picture"]
    else:
        lines += ["", f"no sample lies nearest a picture named *{args.show}*"]
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
