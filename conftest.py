"""Test-session defaults (root conftest, so notebook kernels started by nbval inherit them too):

- GAN_LAB_DATA_DIR: ../shared/data beside the repository, where the real MNIST/Fashion-MNIST files live;
- GAN_LAB_QUICK=1: notebooks train briefly (set GAN_LAB_QUICK=0 to run them in full mode);
- TF_CPP_MIN_LOG_LEVEL=2: quiet TensorFlow start-up logs;
- PYTHONPATH starts with this repository, so notebook kernels (started in notebooks/) and subprocesses import
  the gan_lab under test, not another installed copy (an editable install of some other checkout, say).
  tests/test_packaging.py removes it again for the wheel it installs.
"""
import os
from pathlib import Path

import pytest

_REPO = Path(__file__).resolve().parent
os.environ.setdefault("GAN_LAB_DATA_DIR", str(_REPO.parent / "shared" / "data"))
os.environ.setdefault("GAN_LAB_QUICK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
_paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
if str(_REPO) not in _paths:
    os.environ["PYTHONPATH"] = os.pathsep.join([str(_REPO), *_paths])

# The learner notebooks raise NotImplementedError by design: nbval runs the solution notebooks only;
# tests/test_learner_notebooks.py executes the learner ones and checks each exercise's message.
collect_ignore_glob = ["notebooks/learner/*"]


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items):
    """`pytest` runs in two processes (`-n 2 --dist loadgroup` in pyproject.toml). A notebook's cells share one
    kernel and run in order, so all of them go to one process: they form an xdist group named after the file."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.xdist_group(item.path.name))
