"""Static checks of the committed notebooks (no kernel, no training: fast).

Running them is `GAN_LAB_QUICK=1 pytest --nbval-lax notebooks`; these tests catch what that run cannot:
cells compared by nbval that were committed without outputs (so nothing is compared), committed errors,
oversized notebooks, direct dataset downloads, and a README table that forgets a notebook.
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
MAX_BYTES = 2 * 1024 * 1024
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"


def _read(path):
    return nbformat.read(path, as_version=4)


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_notebooks_exist_and_are_numbered():
    names = [p.name for p in NOTEBOOKS]
    assert len(names) >= 4, f"expected the numbered notebooks in {NOTEBOOKS_DIR}, found {names}"
    numbers = [int(n[:2]) for n in names]
    assert numbers == list(range(len(numbers))), f"notebooks must be numbered 00, 01, ... without gaps: {names}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_valid_and_small(path):
    nbformat.validate(_read(path))
    size = path.stat().st_size
    assert size < MAX_BYTES, f"{path.name} is {size / 1e6:.2f} MB; keep notebooks under 2 MB (smaller figures)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_works_everywhere(path):
    first = _code_cells(_read(path))[0].source
    for needed in ("DIST_NAME", "REPO_URL", "GAN_LAB_QUICK", "import gan_lab", "GAN_LAB_DATA_DIR"):
        assert needed in first, f"{path.name}: the first code cell should contain {needed!r} (the common setup cell)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_badge(path):
    first_md = next(c.source for c in _read(path).cells if c.cell_type == "markdown")
    assert "colab.research.google.com" in first_md and path.name in first_md, \
        f"{path.name}: the first markdown cell should hold an 'Open in Colab' badge pointing at this notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_runtime_notes(path):
    """A markdown cell before the setup cell: which runtime, how long on a CPU and a GPU, where the data come from."""
    cells = _read(path).cells
    setup = next(i for i, c in enumerate(cells) if c.cell_type == "code")
    notes = [c.source for c in cells[:setup] if c.cell_type == "markdown" and "Running in Colab" in c.source]
    assert notes, f"{path.name}: add a 'Running in Colab' markdown cell before the setup cell"
    for needed in ("Runtime", "CPU", "GPU", "minute", "not measured", "keras.datasets"):
        assert needed in notes[0], f"{path.name}: the Colab notes should mention {needed!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_data_through_gan_lab(path):
    for cell in _code_cells(_read(path)):
        assert not re.search(r"keras\.datasets|\.load_data\(", cell.source), \
            f"{path.name}: load data with gan_lab.data.load_dataset, not keras.datasets:\n{cell.source}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_outputs(path):
    nb = _read(path)
    for i, cell in enumerate(_code_cells(nb)):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"{path.name}: code cell {i} was committed with an error: {errors[0].get('ename')}"
        if CHECK_MARK in cell.source:
            assert cell.execution_count is not None and cell.outputs, \
                f"{path.name}: code cell {i} is marked {CHECK_MARK} but has no committed output to compare"
            streams = {o.get("name") for o in cell.outputs if o.output_type == "stream"}
            assert "stderr" not in streams, \
                f"{path.name}: code cell {i} is compared by nbval but wrote to stderr (warnings differ between machines)"


def test_readme_lists_every_notebook():
    """The notebook table (notebooks/README_section.md, or README.md once pasted) has a row per notebook."""
    repo = NOTEBOOKS_DIR.parent
    texts = [p.read_text() for p in (NOTEBOOKS_DIR / "README_section.md", repo / "README.md") if p.exists()]
    texts = [t for t in texts if "colab.research.google.com" in t]
    if not texts:
        pytest.skip("no README table of the notebooks yet")
    for path in NOTEBOOKS:
        assert f"notebooks/{path.name}" in texts[0], f"the README table has no row / Colab badge for {path.name}"


_spec = importlib.util.spec_from_file_location("strip_log_lines", NOTEBOOKS_DIR.parent / "scripts" / "strip_log_lines.py")
strip_log_lines = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(strip_log_lines)
TF_LOG_LINE = strip_log_lines.TF_LOG_LINE


def test_strip_log_lines_removes_only_log_lines():
    log = ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
           "I0000 00:00:1795808655.082228    7639 port.cc:153] oneDNN custom operations are on.\n")
    nb = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "stream", "name": "stderr", "text": log},
        {"output_type": "stream", "name": "stdout", "text": ["epoch 0 iter 0: D 1.4\n", log, "done\n"]},
        {"output_type": "display_data", "data": {"text/plain": "<Figure>"}, "metadata": {}}]},
        {"cell_type": "markdown", "source": log}]}
    assert strip_log_lines.strip_notebook(nb) == 4
    outputs = nb["cells"][0]["outputs"]
    assert [o["output_type"] for o in outputs] == ["stream", "display_data"]
    assert outputs[0]["text"] == ["epoch 0 iter 0: D 1.4\n", "done\n"]
    assert nb["cells"][1]["source"] == log


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_tensorflow_log_lines_in_outputs(path):
    for i, cell in enumerate(_code_cells(_read(path))):
        for out in cell.outputs:
            text = out.get("text", "") if out.output_type == "stream" else ""
            assert not TF_LOG_LINE.search(text), \
                f"{path.name}: code cell {i} has absl/TensorFlow log lines in its saved output: {text[:200]!r}"
