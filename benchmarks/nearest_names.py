"""What a generator's samples lie nearest to, by the names of a folder's pictures.

In a folder whose file names say what each picture is (emoji-64: ``u2764_heavy_black_heart.png``) the nearest
training picture of a sample (between pixels, ``gan_lab.nearest``, as ``gan-lab nearest``) names what the sample
lies closest to. For each word of ``--words`` this prints the share of the folder's pictures whose name holds it
and the share of samples whose nearest picture's name does (a name counts for the first of the words it holds,
as a whole word or its plural, ``gan_lab.data.name_class``; ``other``: none), and writes a grid of up to 24
samples whose nearest picture holds ``--show``, each beside that picture: does a sample near a heart draw a
heart, or only its colours?

A conditional run (``cgan64`` on a class folder, `benchmarks/classes_from_names.py`) draws its classes in turn;
the table then has a column per class (the shares among that class's samples), and the grid shows the samples of
the class named ``--show`` (when there is one), each beside its nearest picture: asked for a heart, does it draw one?
A second table gives each class's spread: the mean distance between two of its samples beside the mean distance
between two of its training pictures (pixels in [0, 1], as ``gan-lab nearest``). A class whose samples are all one
picture has a spread near 0 however real each looks.

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

from gan_lab.data import class_names, name_class  # noqa: E402
from gan_lab.nearest import nearest_training  # noqa: E402
from gan_lab.plots import save_grid  # noqa: E402
from gan_lab.runs import load_generator  # noqa: E402
from gan_lab.sampling import is_conditional  # noqa: E402

WORDS = ("heart", "face", "hand", "clock", "arrow", "square", "circle", "sign", "moon")
SHOWN = 24


def mean_distance(pictures) -> str:
    """The mean Euclidean distance between two different pictures of ``pictures`` (any shape), to 2 decimals;
    "-" for fewer than two."""
    rows = np.asarray(pictures, np.float64).reshape(len(pictures), -1)
    if len(rows) < 2:
        return "-"
    squares = (rows ** 2).sum(1)
    gram = np.maximum(squares[:, None] + squares[None, :] - 2 * rows @ rows.T, 0.0)
    return f"{np.sqrt(gram).sum() / (len(rows) * (len(rows) - 1)):.2f}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="a run folder (preset.json + generator.keras) trained on a folder of pictures")
    ap.add_argument("--n", type=int, default=2000, help="samples drawn (default 2000, noise seed 0)")
    ap.add_argument("--words", nargs="+", default=list(WORDS), help=f"words of the names (default {' '.join(WORDS)})")
    ap.add_argument("--show", default="heart",
                    help="grid of the samples whose nearest picture is of this word (one of --words, or other)")
    ap.add_argument("--out", required=True, help="the table (.txt); the grid goes beside it (<stem>-<show>.png)")
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error(f"--n {args.n}: expected a number of samples >= 1")
    preset, generator = load_generator(args.run)
    found = nearest_training(generator, preset.dataset, preset.output, n=args.n, rows=args.n, k=1)
    x, train, names, nearest = found.samples, found.train, found.names, found.neighbours
    folder = Counter(name_class(name, args.words) for name in names)
    groups = {"samples": list(range(args.n))}
    if is_conditional(generator):  # nearest_training draws the classes in turn: sample j is class j % classes
        classes = class_names(preset.dataset)
        groups = {f"class {c} samples": list(range(i, args.n, len(classes))) for i, c in enumerate(classes)}
    shares = {g: Counter(name_class(names[nearest[j, 0]], args.words) for j in js) for g, js in groups.items()}
    lines = [f"$ python benchmarks/nearest_names.py {shlex.join(sys.argv[1:] if argv is None else argv)}",
             f"{args.n} samples of {Path(args.run).name} ({preset.name}, seed 0 noise); their nearest of the "
             f"{len(train)} training pictures between pixels", "",
             "| word | share of the folder's pictures | " + " | ".join(f"share of the {g} nearest one" for g in groups)
             + " |", "| --- " * (2 + len(groups)) + "|"]
    lines += [f"| {w} | {folder[w] / len(names):.3f} | "
              + " | ".join(f"{shares[g][w] / len(js):.3f}" for g, js in groups.items()) + " |"
              for w in (*args.words, "other")]
    if is_conditional(generator):
        lines += ["", "| class | mean distance between two of its samples | between two of its training pictures |",
                  "| --- | --- | --- |"]
        for c in classes:
            real = [i for i, name in enumerate(names) if Path(name).parts[0] == c]
            lines.append(f"| {c} | {mean_distance(x[groups[f'class {c} samples']])} | "
                         f"{mean_distance(train[real] / 255.0)} |")
    asked = groups.get(f"class {args.show} samples")
    shown = (asked or [j for j in range(args.n)
                       if name_class(names[nearest[j, 0]], [*args.words, args.show]) == args.show])[:SHOWN]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if shown:
        tiles = np.stack([t for j in shown for t in (x[j], train[nearest[j, 0]] / 255.0)])
        grid = save_grid(tiles, out.with_name(f"{out.stem}-{args.show}.png"), ncols=8)
        which = f"of class {args.show}" if asked else f"nearest a picture named *{args.show}*"
        lines += ["", f"{grid.name}: the first {len(shown)} samples {which}, each followed by its nearest picture"]
    else:
        lines += ["", f"no sample lies nearest a picture named *{args.show}*"]
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
