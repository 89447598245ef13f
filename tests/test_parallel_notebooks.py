"""`pytest` runs in two processes (pytest-xdist); a notebook's cells must still run in order in one kernel."""
import os
import subprocess
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]


def test_the_cells_of_a_notebook_run_in_one_process_in_order(tmp_path):
    # Each cell needs the one before it: split over two processes (xdist's plain load balancing), cells fail.
    cells = ["step = 0"] + [f"assert step == {k - 1}, step\nstep = {k}" for k in range(1, 12)]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "chain.ipynb")
    # -p conftest: the repository's root conftest.py (on PYTHONPATH), which groups the cells, as a plugin
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    p = subprocess.run([sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "--nbval-lax",
                        "-n", "2", "--dist", "loadgroup", "-v", "chain.ipynb"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-3000:]
    workers = {line.split()[0] for line in p.stdout.splitlines() if line.startswith("[gw") and "PASSED" in line}
    assert "12 passed" in p.stdout and len(workers) == 1, p.stdout[-3000:]
