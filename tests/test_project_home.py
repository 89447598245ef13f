"""The project's home and name come from one place, pyproject.toml, through scripts/sync_project_home.py.

Checked here: the settings themselves, that the badges / setup cells / README agree with them, that changing
the setting and running the script moves everything (and nothing else), and the setup cell's three ways of
installing gan_lab (checkout, uploaded wheel, package index) and its message when installing fails.
"""
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "sync_project_home.py"
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def load_script():
    spec = importlib.util.spec_from_file_location("sync_project_home", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sync = load_script()
SETTINGS = sync.settings(REPO)


def setup_source(path):
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    return "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])


def test_settings_are_ours():
    text = (REPO / "pyproject.toml").read_text()
    assert ".example" not in text and "@" not in text, "no placeholder e-mail addresses in pyproject.toml"
    assert re.sub(r"[-_.]+", "-", SETTINGS["dist"]).lower() != "gan-lab", \
        "gan-lab on the package index is an unrelated PyTorch project: the distribution needs its own name"
    assert SETTINGS["repo_url"].startswith("https://github.com/")
    assert "gan-lab/gan_lab" not in SETTINGS["repo_url"]


def test_everything_agrees_with_pyproject():
    stale = sync.planned_changes(REPO)
    assert not stale, (f"out of date with pyproject.toml: {[str(p.relative_to(REPO)) for p in stale]}; "
                       "run python scripts/sync_project_home.py")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_uses_the_settings(path):
    source = setup_source(path)
    assert f'DIST_NAME = "{SETTINGS["dist"]}"' in source and f'REPO_URL = "{SETTINGS["repo_url"]}"' in source
    nb = json.loads(path.read_text(encoding="utf-8"))
    badge = "".join(next(c for c in nb["cells"] if c["cell_type"] == "markdown")["source"])
    assert sync.colab_url(SETTINGS, path.name) in badge


def test_readme_install_commands_use_the_settings():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for path in NOTEBOOKS:
        assert sync.colab_url(SETTINGS, path.name) in readme
    assert f"pip install {SETTINGS['dist']}" in readme and f"git clone {SETTINGS['repo_url']}" in readme
    for name in re.findall(r"pip install ([A-Za-z][\w.-]*)(?=[\s`])", readme):
        if not name.endswith(".whl"):
            assert name == SETTINGS["dist"], f"README installs {name!r}, pyproject names {SETTINGS['dist']!r}"
    for wheel in re.findall(r"\b([A-Za-z][\w.]*?)-[\w.<>*]+-py3-none-any\.whl", readme):
        assert wheel == SETTINGS["wheel_prefix"], wheel
    assert sync.planned_changes(REPO) == {}


def run_script(root, *args):
    return subprocess.run([sys.executable, str(SCRIPT), "--root", str(root), *args], capture_output=True, text=True)


def test_changing_the_one_setting_moves_everything(tmp_path):
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns("runs"))
    pyproject = tmp_path / "pyproject.toml"
    text = pyproject.read_text()
    text = text.replace(f'name = "{SETTINGS["dist"]}"', 'name = "other-gans"')
    text = text.replace(f'Repository = "{SETTINGS["repo_url"]}"', 'Repository = "https://github.com/someone/elsewhere"')
    pyproject.write_text(text)

    checked = run_script(tmp_path, "--check")
    assert checked.returncode == 1 and "out of date: README.md" in checked.stdout
    assert run_script(tmp_path).returncode == 0
    assert run_script(tmp_path, "--check").returncode == 0

    moved = {"dist": "other-gans", "owner": "someone", "repo_name": "elsewhere"}
    readme = (tmp_path / "README.md").read_text()
    assert "pip install other-gans " in readme and "git clone https://github.com/someone/elsewhere" in readme
    assert "other_gans-0.1.0-py3-none-any.whl" in readme and "gan-lab-tf/" not in readme
    for path in NOTEBOOKS:
        new = json.loads((tmp_path / "notebooks" / path.name).read_text(encoding="utf-8"))
        old = json.loads(path.read_text(encoding="utf-8"))
        assert sync.colab_url(moved, path.name) in "".join(new["cells"][0]["source"])
        assert 'DIST_NAME = "other-gans"' in setup_source(tmp_path / "notebooks" / path.name)
        assert 'REPO_URL = "https://github.com/someone/elsewhere"' in setup_source(tmp_path / "notebooks" / path.name)
        assert [c.get("outputs") for c in new["cells"]] == [c.get("outputs") for c in old["cells"]]
        changed = [i for i, (a, b) in enumerate(zip(old["cells"], new["cells"])) if a != b]
        assert changed == [0, 2], (path.name, changed)  # the badge cell and the setup cell (after the Colab notes)


def test_setup_cell_keeps_the_notebook_specific_tail():
    tail = "\nimport warnings\nwarnings.filterwarnings('ignore')"
    cell = sync.setup_cell("old setup\n" + sync.SETUP_END + tail, SETTINGS)
    assert cell == sync.SETUP_CELL.format(**SETTINGS) + sync.SETUP_END + tail


@pytest.mark.parametrize("where", ["notebooks", "notebooks/learner"])
def test_setup_cell_resolves_a_relative_data_dir_from_the_repository_root(tmp_path, monkeypatch, where):
    """CI's GAN_LAB_DATA_DIR=../shared/data is meant from the repository root; the solution notebooks run from
    notebooks/, the learner ones from notebooks/learner/."""
    source = setup_source(NOTEBOOKS[0])
    data_dir_part = source[source.index("_data_dir = "):source.index(sync.SETUP_END)]
    (tmp_path / "data").mkdir()
    (tmp_path / where).mkdir(parents=True)
    monkeypatch.chdir(tmp_path / where)
    monkeypatch.setenv("GAN_LAB_DATA_DIR", "data")
    exec(data_dir_part, {"os": os})
    assert os.environ["GAN_LAB_DATA_DIR"] == str(tmp_path / "data")


# ------------------------------------------------------------------------ the setup cell's install paths
RUN_SETUP = """
import json, subprocess, sys
calls = []
def fake_run(args, **kwargs):  # pip is not run: record what it would install
    calls.append(list(args[args.index("install") + 2:]))
    return subprocess.CompletedProcess(args, {returncode})
subprocess.run = fake_run
result = {{}}
try:
    exec(compile({source!r}, "setup-cell", "exec"), {{"__name__": "__main__"}})
    result["imported"] = sys.modules["gan_lab"].__file__
except Exception as exc:
    result["error"] = exc._render_traceback_() if hasattr(exc, "_render_traceback_") else repr(exc)
result["calls"] = calls
print(json.dumps(result))
"""


def run_setup(cwd, returncode=0):
    """The setup cell in an interpreter without site-packages (-S), so gan_lab is not importable at first."""
    code = RUN_SETUP.format(source=setup_source(NOTEBOOKS[0]), returncode=returncode)
    out = subprocess.run([sys.executable, "-S", "-c", code], cwd=cwd, capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin", "GAN_LAB_QUICK": "1"})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_setup_cell_installs_the_checkout_around_it():
    result = run_setup(REPO / "notebooks")
    assert result["calls"] == [["-e", str(REPO)]]
    assert result["imported"] == str(REPO / "gan_lab" / "__init__.py")  # importable at once, before a restart


def test_setup_cell_installs_an_uploaded_wheel(tmp_path):
    wheel = f"{SETTINGS['wheel_prefix']}-{SETTINGS['version']}-py3-none-any.whl"
    (tmp_path / wheel).write_bytes(b"")
    assert run_setup(tmp_path, returncode=1)["calls"] == [[wheel]]


def test_setup_cell_installs_from_the_index_or_says_what_to_do(tmp_path):
    result = run_setup(tmp_path, returncode=1)
    assert result["calls"] == [[SETTINGS["dist"]]]
    (message,) = result["error"]  # one line, no traceback
    assert message.startswith(f"SetupError: pip could not install gan_lab from {SETTINGS['dist']}.")
    assert "Upload the wheel" in message and f"pip install {SETTINGS['dist']}" in message
    assert f"git+{SETTINGS['repo_url']}" in message
