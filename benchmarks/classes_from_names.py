"""A class folder for a conditional preset, from words in a flat folder's file names.

A conditional preset (`cgan64`, `cgan32`) reads its classes from sub-folders: one sub-folder per class. A flat
folder whose file names say what each picture is (emoji-64: ``u2764_heavy_black_heart.png``; Kaggle's dogs and
cats: ``cat.0.jpg``) can be sorted without copying a byte: this makes ``OUT/<word>/`` for each of ``--words``
and ``OUT/other/`` for the rest, and links every picture into the sub-folder of the first word its name holds
(in the order given: with ``face heart`` a "smiling face with heart-shaped eyes" is a face). Links are symbolic
links, or copies where the file system has none. The source folder is not changed.

    python benchmarks/classes_from_names.py ../shared/data/emoji-64 --words face heart --out /tmp/emoji-3
    gan-lab train --preset cgan64 --data-dir /tmp/emoji-3 --max-steps 3000 --out runs/cgan64-emoji-3
    gan-lab sample runs/cgan64-emoji-3 --label 1 --n 64 --out hearts.png   # classes in sorted order: face, heart, other
"""
from __future__ import annotations

import argparse
import os
import shutil
from collections import Counter
from pathlib import Path

from gan_lab.data import IMAGE_EXTENSIONS

OTHER = "other"


def class_of(name: str, words) -> str:
    """The first of ``words`` that ``name`` holds (case-insensitive), else ``"other"``."""
    name = name.lower()
    return next((w for w in words if w.lower() in name), OTHER)


def link_classes(folder, words, out) -> Counter:
    """Link every picture lying directly in ``folder`` into ``out/<class_of(its name)>/``; returns the count of
    each class. Refuses an ``out`` that already holds files (a class folder made with other words would mix)."""
    folder, out = Path(folder), Path(out)
    words = [w.strip() for w in words if w.strip()]
    if not words:
        raise ValueError("words = [] is invalid: expected at least one word, e.g. --words face heart")
    if OTHER in (w.lower() for w in words):
        raise ValueError(f"words holds {OTHER!r}, the class of the pictures no word names: choose other words")
    if not folder.is_dir():
        raise ValueError(f"folder {str(folder)!r} is not a folder: expected a flat folder of pictures")
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"out {str(out)!r} is not empty: expected a new or empty folder (remove it first)")
    pictures = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not pictures:
        raise ValueError(f"folder {str(folder)!r} holds no pictures directly ({', '.join(sorted(IMAGE_EXTENSIONS))})")
    counts = Counter()
    for picture in pictures:
        label = class_of(picture.name, words)
        target = out / label / picture.name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.symlink(picture.resolve(), target)
        except OSError:  # no symbolic links here (some Windows set-ups): copy
            shutil.copy2(picture, target)
        counts[label] += 1
    return counts


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", help="a flat folder of pictures whose names say what they are")
    ap.add_argument("--words", nargs="+", required=True, help="one class per word, the first word a name holds wins")
    ap.add_argument("--out", required=True, help="the class folder to make (new or empty)")
    args = ap.parse_args(argv)
    try:
        counts = link_classes(args.folder, args.words, args.out)
    except ValueError as err:
        ap.error(str(err))
    for label in sorted(counts):
        print(f"{label:>12s}  {counts[label]:6d} pictures")
    print(f"wrote {args.out}: {len(counts)} classes in sorted order, the label numbers of `gan-lab sample --label`")
    if len(counts) < 2:
        print("warning: one class only; a conditional preset needs at least two (other words?)")


if __name__ == "__main__":
    main()
