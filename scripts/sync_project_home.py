#!/usr/bin/env python
"""Rewrite what depends on the project's home and name from the one place that sets them, pyproject.toml.

The settings (edit them there, nowhere else):

- ``[project] name`` — the distribution name on the package index (the import name stays ``gan_lab``);
- ``[project.urls] Repository`` — the project's GitHub repository (Colab opens notebooks from GitHub).

What this script writes from them:

- every notebook's "Open in Colab" badge (first markdown cell) and the README's badges:
  ``https://colab.research.google.com/github/<owner>/<repo>/blob/<BRANCH>/notebooks/<file>``;
- every notebook's setup cell (first code cell), from :data:`SETUP_CELL` down to its ``print`` line
  (:data:`SETUP_END`). Lines
  after that line are the notebook's own and are kept. Cell outputs are never touched;
- the README's install block, between ``<!-- project-home:install -->`` and ``<!-- /project-home -->``.

Usage::

    python scripts/sync_project_home.py           # rewrite what differs, list the files changed
    python scripts/sync_project_home.py --check   # change nothing; exit 1 and list what differs

``tests/test_project_home.py`` runs ``--check``. Notebooks are read and written as plain JSON, the way
nbformat writes them (indent 1, sorted keys, UTF-8, final newline), so a rewrite changes only the edited cells.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
BRANCH = "main"  # the branch the Colab badges open
COLAB_URL = re.compile(r"https://colab\.research\.google\.com/github/[^\s)\"']*?/notebooks/(?P<file>[\w.-]+\.ipynb)")
INSTALL_BEGIN, INSTALL_END = "<!-- project-home:install -->", "<!-- /project-home -->"
SETUP_END = 'print(f"gan_lab {gan_lab.__version__}, QUICK={QUICK}")'

SETUP_CELL = '''# Setup: run this cell first. It works locally, in CI and in Colab.
import os
import sys

DIST_NAME = "{dist}"  # gan_lab's name on the package index (you import it as gan_lab)
REPO_URL = "{repo_url}"  # the project's home (both set in pyproject.toml)
QUICK = os.environ.get("GAN_LAB_QUICK", "0") == "1"  # GAN_LAB_QUICK=1: short training (CI); default: a real run
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TensorFlow's C++ log lines out of the outputs

import importlib.util
if importlib.util.find_spec("gan_lab") is None:  # Colab, or a fresh environment: install gan_lab first
    import glob
    import subprocess
    from pathlib import Path
    _here = Path.cwd().resolve()  # inside a clone of the repository? then install that checkout
    _checkout = next((p for p in (_here, *_here.parents)
                      if (p / "pyproject.toml").is_file() and (p / "gan_lab" / "__init__.py").is_file()), None)
    _wheel = sorted(glob.glob(DIST_NAME.replace("-", "_") + "-*.whl"))[-1:]  # else a wheel uploaded here
    if _checkout:
        sys.path.insert(0, str(_checkout))
    _source = ["-e", str(_checkout)] if _checkout else _wheel or [DIST_NAME]  # else the package index
    if subprocess.run([sys.executable, "-m", "pip", "install", "-q", *_source]).returncode != 0:
        class SetupError(Exception):
            def _render_traceback_(self):  # Jupyter and Colab show this message instead of a traceback
                return [f"SetupError: {{self}}"]
        raise SetupError(
            f"pip could not install gan_lab from {{' '.join(_source)}}. Upload the wheel "
            f"({{DIST_NAME.replace('-', '_')}}-<version>-py3-none-any.whl) next to this notebook and run this "
            f"cell again, or run `pip install {{DIST_NAME}}` (or `pip install git+{{REPO_URL}}`) and restart.")
    importlib.invalidate_caches()
import gan_lab

# Data: gan_lab's loader looks in $GAN_LAB_DATA_DIR, then the Keras cache, ..., and downloads as a last
# resort (that is what happens in Colab). Jupyter and nbval run this notebook from notebooks/ (the learner
# copy from notebooks/learner/), but a relative GAN_LAB_DATA_DIR (CI sets ../shared/data) is meant from the
# repository root: resolve it there.
_data_dir = os.environ.get("GAN_LAB_DATA_DIR", "")
if _data_dir and not os.path.isabs(_data_dir) and not os.path.isdir(_data_dir):
    for _up in ("..", os.path.join("..", "..")):  # from notebooks/, from notebooks/learner/
        if os.path.isdir(os.path.join(_up, _data_dir)):
            os.environ["GAN_LAB_DATA_DIR"] = os.path.abspath(os.path.join(_up, _data_dir))
            break

'''  # str.format fields: dist, repo_url; the cell ends with SETUP_END

def install_block(s):
    """The README's install commands (a fenced bash block, comments aligned)."""
    rows = [(f"pip install {s['dist']}", "from the package index (you import it as gan_lab)"),
            (f"pip install {s['wheel_prefix']}-{s['version']}-py3-none-any.whl",
             "from a wheel (make one in a checkout: pip wheel --no-deps . -w dist)"),
            (f"git clone {s['repo_url']} && cd {s['repo_name']}", "from a checkout ..."),
            ('pip install -e ".[dev]"', "... with the test tools (jupyter, pytest, pytest-xdist, nbval)")]
    width = max(len(cmd) for cmd, _ in rows) + 2
    return "\n".join(["```bash", *(f"{cmd:<{width}}# {note}" for cmd, note in rows), "```"])


def settings(root=ROOT):
    """The project's settings from ``root/pyproject.toml``: dist name, version, repository URL."""
    with open(Path(root) / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    repo_url = project.get("urls", {}).get("Repository", "")
    match = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+?)/?", repo_url)
    if not match:
        raise SystemExit(f"pyproject.toml: [project.urls] Repository must be https://github.com/OWNER/REPO "
                         f"(Colab opens notebooks from GitHub), not {repo_url!r}")
    owner, repo = match.groups()
    return {"dist": project["name"], "version": project["version"], "repo_url": f"https://github.com/{owner}/{repo}",
            "owner": owner, "repo_name": repo, "wheel_prefix": re.sub(r"[-_.]+", "_", project["name"]).lower()}


def colab_url(s, notebook_file):
    return f"https://colab.research.google.com/github/{s['owner']}/{s['repo_name']}/blob/{BRANCH}/notebooks/{notebook_file}"


def with_badges(text, s):
    """``text`` with every Colab notebook link pointing at the repository's copy of that notebook."""
    return COLAB_URL.sub(lambda m: colab_url(s, m.group("file")), text)


def setup_cell(source, s):
    """A setup cell's source with the common part regenerated and its notebook-specific tail kept."""
    common = SETUP_CELL.format(**s) + SETUP_END
    if SETUP_END not in source:
        return common
    return common + source.split(SETUP_END, 1)[1]


def _lines(text):
    return text.splitlines(keepends=True)


def sync_notebook(path, s):
    """The notebook's new JSON text (only the badge and setup cells edited)."""
    raw = path.read_text(encoding="utf-8")
    nb = json.loads(raw)
    cells = nb["cells"]
    first_md = next(c for c in cells if c["cell_type"] == "markdown")
    first_md["source"] = _lines(with_badges("".join(first_md["source"]), s))
    first_code = next(c for c in cells if c["cell_type"] == "code")
    first_code["source"] = _lines(setup_cell("".join(first_code["source"]), s))
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def sync_readme(path, s):
    text = with_badges(path.read_text(encoding="utf-8"), s)
    if INSTALL_BEGIN in text and INSTALL_END in text:
        head, rest = text.split(INSTALL_BEGIN, 1)
        tail = rest.split(INSTALL_END, 1)[1]
        text = f"{head}{INSTALL_BEGIN}\n{install_block(s)}\n{INSTALL_END}{tail}"
    return text


def planned_changes(root=ROOT):
    """``{path: new_text}`` for every file whose text would change."""
    root = Path(root)
    s = settings(root)
    new = {p: sync_notebook(p, s) for p in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))}
    new[root / "README.md"] = sync_readme(root / "README.md", s)
    return {p: text for p, text in new.items() if p.read_text(encoding="utf-8") != text}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is out of date")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this script's)")
    args = parser.parse_args(argv)
    changes = planned_changes(args.root)
    for path, text in changes.items():
        if args.check:
            print(f"out of date: {path.relative_to(args.root)}")
        else:
            path.write_text(text, encoding="utf-8")
            print(f"rewrote {path.relative_to(args.root)}")
    if args.check and changes:
        print("run: python scripts/sync_project_home.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
