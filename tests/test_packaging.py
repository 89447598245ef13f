"""Colab-shaped test: gan_lab from its wheel, in a fresh virtual environment, in a folder with no repository.

Builds the wheel from a copy of the source tree (``pip wheel --no-deps --no-build-isolation``: offline, with
the setuptools already installed), installs it with ``--no-deps`` into a ``venv --system-site-packages``
(which reuses the installed TensorFlow, so nothing is downloaded), then, from an empty temporary folder and
without PYTHONPATH:

- lists the wheel: the checks' fixtures and the classifier weights are in it, and the metadata is ours;
- the venv's interpreter imports gan_lab from the venv's site-packages (the system site-packages may hold an
  editable gan_lab pointing at some checkout: that one must not win) and loads the packaged fixtures;
- runs notebook 01 there under nbval in quick mode (GAN_LAB_QUICK=1), data through GAN_LAB_DATA_DIR;
- runs ``gan-lab train --preset cs231n_dense --max-steps 20`` with the venv's own ``gan-lab`` script.
"""
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "01_gan_basics_mnist.ipynb"
IGNORE = shutil.ignore_patterns(".git", "runs", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
                                ".ipynb_checkpoints")


def clean_env(**extra):
    """The environment of a learner's machine: no PYTHONPATH pointing into a checkout, no fixture override."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GAN_LAB_FIXTURES", "KERAS_BACKEND")}
    env.update(GAN_LAB_DATA_DIR=str(Path(os.environ["GAN_LAB_DATA_DIR"]).resolve()), TF_CPP_MIN_LOG_LEVEL="2",
               MPLBACKEND="Agg", PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return env


def run(args, cwd, timeout=600, **env):
    start = time.perf_counter()
    out = subprocess.run([str(a) for a in args], cwd=cwd, env=clean_env(**env), capture_output=True, text=True,
                         timeout=timeout)
    print(f"{Path(str(args[0])).name} {args[1]} {args[2] if len(args) > 2 and len(str(args[2])) < 30 else ''}: "
          f"{time.perf_counter() - start:.1f} s")
    assert out.returncode == 0, f"{args} failed ({out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(wheel path, venv folder, an empty work folder with no repository around it)."""
    root = tmp_path_factory.mktemp("packaging")
    source = root / "source"
    shutil.copytree(REPO, source, ignore=IGNORE)  # building writes build/ and *.egg-info: not into the checkout
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", root / "dist",
         source], cwd=root)
    (wheel,) = (root / "dist").glob("*.whl")
    venv = root / "venv"
    run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv], cwd=root)
    # The venv has no pip of its own; the system's (seen through --system-site-packages) installs into the venv.
    run([venv / "bin" / "python", "-m", "pip", "install", "--no-deps", "-q", wheel], cwd=root)
    work = root / "work"
    work.mkdir()
    return wheel, venv, work


def test_wheel_holds_the_fixtures_weights_and_our_metadata(installed):
    wheel, _, _ = installed
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = zf.read(f"{dist_info}/METADATA").decode()
        entry_points = zf.read(f"{dist_info}/entry_points.txt").decode()
    assert "gan_lab/fixtures/gan-checks-tf.npz" in names
    assert {"gan_lab/weights/mnist_classifier.npz", "gan_lab/weights/fashion_mnist_classifier.npz"} <= names
    assert "gan_lab/__init__.py" in names and "gan_lab/_backend.py" in names
    assert not [n for n in names if n.startswith(("tests/", "notebooks/", "unit-testing-data/", "scripts/"))]
    assert wheel.name.startswith("gan_lab_tf-") and "Name: gan-lab-tf" in metadata
    assert "Project-URL: Repository, https://github.com/" in metadata and ".example" not in metadata
    assert "gan-lab = gan_lab.cli:main" in entry_points


def test_venv_imports_the_wheel_and_its_fixtures(installed):
    _, venv, work = installed
    probe = (
        "import json, sys, gan_lab\n"
        "from gan_lab import checks\n"
        "f = checks.load_fixtures()\n"
        "print(json.dumps({'file': gan_lab.__file__, 'prefix': sys.prefix, 'keys': sorted(f),\n"
        "                  'd_loss_true': float(f['d_loss_true'])}))\n")
    result = json.loads(run([venv / "bin" / "python", "-c", probe], cwd=work).stdout.strip().splitlines()[-1])
    site = Path(result["prefix"]) / "lib"
    assert Path(result["file"]).is_relative_to(site) and "site-packages" in result["file"], result
    assert Path(result["prefix"]) == venv
    import numpy as np
    with np.load(REPO / "unit-testing-data" / "gan-checks-tf.npz", allow_pickle=False) as committed:
        assert set(result["keys"]) == set(committed.files)
        assert result["d_loss_true"] == float(committed["d_loss_true"])


def test_notebook_01_runs_from_the_wheel(installed):
    _, venv, work = installed
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # One more cell, in this copy only: the kernel used the venv's gan_lab and the packaged fixtures.
    nb.cells.append(nbformat.v4.new_code_cell(
        "import os, sys\n"
        "import gan_lab\n"
        "assert gan_lab.__file__.startswith(sys.prefix + os.sep) and 'site-packages' in gan_lab.__file__, "
        "(gan_lab.__file__, sys.prefix)\n"
        "assert 'GAN_LAB_FIXTURES' not in os.environ\n"
        f"assert sys.prefix == {str(venv)!r}, sys.prefix"))
    nbformat.write(nb, work / NOTEBOOK.name)
    out = run([venv / "bin" / "python", "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q",
               NOTEBOOK.name], cwd=work, GAN_LAB_QUICK="1")
    assert " passed" in out.stdout and "failed" not in out.stdout


def test_cli_trains_from_the_wheel(installed):
    _, venv, work = installed
    run([venv / "bin" / "gan-lab", "train", "--preset", "cs231n_dense", "--max-steps", "20", "--out", "RUN"],
        cwd=work)
    state = json.loads((work / "RUN" / "run_state.json").read_text())
    assert state["step"] == 20 and state["preset"] == "cs231n_dense", state
    for name in ("preset.json", "history.csv", "generator.keras", "final_grid.png"):
        assert (work / "RUN" / name).is_file(), name
