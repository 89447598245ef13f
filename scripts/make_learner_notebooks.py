#!/usr/bin/env python
"""Write the learner notebooks (``notebooks/learner/NN_*.ipynb``) from the solution notebooks (``notebooks/``).

One source of truth: a solution notebook marks each exercise region inside a code cell::

    def sample_noise(batch_size, dim):
        "Uniform random noise in [-1, 1] ..."
        ### BEGIN SOLUTION sample_noise
        return tf.random.uniform([batch_size, dim], minval=-1.0, maxval=1.0)
        ### END SOLUTION

The learner version replaces each region by ``raise NotImplementedError("exercise sample_noise: ...")`` at the
region's indentation (signature, docstring and hints stay), tags the cell ``exercise``, clears every output,
and points the Colab badge at the learner copy. Everything else is the solution notebook's, byte for byte.
Notebooks without regions get no learner version.

Usage::

    python scripts/make_learner_notebooks.py           # (re)write notebooks/learner/
    python scripts/make_learner_notebooks.py --check   # exit 1 if a learner notebook is missing or stale

``tests/test_learner_notebooks.py`` runs ``--check`` and executes the learner notebooks.
"""
from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "notebooks"
LEARNER = SOLUTIONS / "learner"
REGION = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION (?P<name>\w+)\n(?P<body>.*?)^[ \t]*### END SOLUTION\n?",
                    re.MULTILINE | re.DOTALL)
TAG = "exercise"


def message(name):
    return f"exercise {name}: your code goes here (see the docstring and the hints)"


def exercises(source):
    """The names of the exercise regions in a cell's source, in order."""
    return [m.group("name") for m in REGION.finditer(source)]


def learner_source(source):
    return REGION.sub(lambda m: f'{m.group("indent")}raise NotImplementedError("{message(m.group("name"))}")\n',
                      source)


def learner_notebook(nb, filename):
    """The learner version of a solution notebook (a dict), or None if it has no exercise."""
    nb = copy.deepcopy(nb)
    found = False
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        if exercises(source):
            found = True
            cell["source"] = learner_source(source).splitlines(keepends=True)
            tags = cell.setdefault("metadata", {}).setdefault("tags", [])
            if TAG not in tags:
                tags.append(TAG)
        cell["outputs"], cell["execution_count"] = [], None
    if not found:
        return None
    first_md = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    text = "".join(first_md["source"]).replace(f"/notebooks/{filename}", f"/notebooks/learner/{filename}")
    first_md["source"] = text.splitlines(keepends=True)
    return nb


def dumps(nb):
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def planned(solutions=SOLUTIONS, learner=LEARNER):
    """``{learner_path: text}`` for every solution notebook with exercises."""
    out = {}
    for path in sorted(Path(solutions).glob("[0-9][0-9]_*.ipynb")):
        nb = learner_notebook(json.loads(path.read_text(encoding="utf-8")), path.name)
        if nb is not None:
            out[Path(learner) / path.name] = dumps(nb)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a learner notebook differs")
    args = parser.parse_args(argv)
    wanted = planned()
    stale = [p for p, text in wanted.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    extra = [p for p in LEARNER.glob("*.ipynb") if p not in wanted]
    if args.check:
        for p in stale + extra:
            print(f"out of date: {p.relative_to(ROOT)}")
        if stale or extra:
            print("run: python scripts/make_learner_notebooks.py", file=sys.stderr)
            return 1
        return 0
    LEARNER.mkdir(parents=True, exist_ok=True)
    for p in stale:
        p.write_text(wanted[p], encoding="utf-8")
        print(f"wrote {p.relative_to(ROOT)}")
    for p in extra:
        p.unlink()
        print(f"removed {p.relative_to(ROOT)} (its solution notebook has no exercise)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
