"""A class folder for a conditional preset, from words in a flat folder's file names.

A conditional preset (`cgan64`, `cgan32`) reads its classes from sub-folders: one sub-folder per class. A flat
folder whose file names say what each picture is (emoji-64: ``u2764_heavy_black_heart.png``; Kaggle's dogs and
cats: ``cat.0.jpg``) can be sorted without copying a byte: this makes ``OUT/<word>/`` for each of ``--words``
and ``OUT/other/`` for the rest, and links every picture into the sub-folder of the first word its name holds
as a whole word or its plural (in the order given: with ``face heart`` a "smiling face with heart-shaped eyes" is
a face, "two hearts" a heart; "clockwise" holds no clock), with ``gan_lab.data.classes_from_names`` (in a
notebook, call that). The source folder is not changed.

    python benchmarks/classes_from_names.py ../shared/data/emoji-64 --words face heart --out /tmp/emoji-3
    gan-lab train --preset cgan64 --data-dir /tmp/emoji-3 --max-steps 3000 --out runs/cgan64-emoji-3
    gan-lab sample runs/cgan64-emoji-3 --label heart --n 64 --out hearts.png   # or --label 1: face, heart, other
"""
from __future__ import annotations

import argparse

from gan_lab.data import classes_from_names


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", help="a flat folder of pictures whose names say what they are")
    ap.add_argument("--words", nargs="+", required=True, help="one class per word; the first a name holds as a whole word (or plural) wins")
    ap.add_argument("--out", required=True, help="the class folder to make (new or empty)")
    args = ap.parse_args(argv)
    try:
        counts = classes_from_names(args.folder, args.words, args.out)
    except ValueError as err:
        ap.error(str(err))
    for label in sorted(counts):
        print(f"{label:>12s}  {counts[label]:6d} pictures")
    print(f"wrote {args.out}: {len(counts)} classes in sorted order, the label numbers of `gan-lab sample --label`")
    if len(counts) < 2:
        print("warning: one class only; a conditional preset needs at least two (other words?)")


if __name__ == "__main__":
    main()
