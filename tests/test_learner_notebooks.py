"""Learner notebooks: generated from the solution notebooks (scripts/make_learner_notebooks.py), never stale,
and each exercise fails with its own message while everything before it runs.

The execution test runs a learner notebook in one kernel, cell by cell (quick mode). At each exercise cell it
runs the learner's version (the stub), then the cells up to the next exercise: one of them must report
``exercise <name>`` (a check's FAIL line, or the NotImplementedError of a cell that uses it, where the run
stops) and no cell may fail for another reason. Then it runs the solution of that exercise and those cells again, as a learner who
has written it would, and goes on. Cells before the first exercise must run without error.
"""
import importlib.util
import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "make_learner_notebooks.py"
spec = importlib.util.spec_from_file_location("make_learner_notebooks", SCRIPT)
make = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make)
LEARNER = sorted(make.LEARNER.glob("*.ipynb"))


def test_learner_notebooks_are_generated_and_current():
    wanted = make.planned()
    assert wanted, "no solution notebook has an exercise region"
    assert sorted(wanted) == LEARNER, "notebooks/learner/ differs from the solution notebooks' exercises"
    for path, text in wanted.items():
        assert path.read_text(encoding="utf-8") == text, \
            f"{path.name} is stale: run python scripts/make_learner_notebooks.py"


def test_every_notebook_has_a_learner_version():
    """Every numbered notebook, 00 to 07, has at least one exercise, hence a learner version."""
    solutions = sorted(make.SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
    with_exercises = {p.name for p in make.planned()}
    assert [p.name for p in solutions] == sorted(with_exercises)


def test_learner_version_hides_every_solution():
    for path in LEARNER:
        solution = json.loads((make.SOLUTIONS / path.name).read_text(encoding="utf-8"))
        learner = json.loads(path.read_text(encoding="utf-8"))
        names = [n for c in solution["cells"] for n in make.exercises("".join(c["source"]))]
        text = json.dumps(learner)
        assert names and "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
        for name in names:
            assert make.message(name) in text, name
        assert all(not c.get("outputs") for c in learner["cells"] if c["cell_type"] == "code")
        assert f"notebooks/learner/{path.name}" in "".join(learner["cells"][0]["source"])


def test_generator_replaces_regions_at_their_indentation():
    source = "def f(x):\n    \"\"\"doc\"\"\"\n    ### BEGIN SOLUTION f\n    return x\n    ### END SOLUTION\n"
    assert make.exercises(source) == ["f"]
    assert make.learner_source(source) == \
        f"def f(x):\n    \"\"\"doc\"\"\"\n    raise NotImplementedError(\"{make.message('f')}\")\n"


def _outputs_text(cell):
    parts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            parts.append(out["text"])
        elif out["output_type"] == "error":
            parts.append(f"{out['ename']}: {out['evalue']}")
        elif "text/plain" in out.get("data", {}):
            parts.append(out["data"]["text/plain"])
    return "".join(parts)


@pytest.mark.parametrize("path", LEARNER, ids=lambda p: p.name)
def test_each_exercise_fails_with_its_message(path):
    learner = nbformat.read(path, as_version=4)
    solution = nbformat.read(make.SOLUTIONS / path.name, as_version=4)
    assert len(learner.cells) == len(solution.cells)
    ex = [i for i, c in enumerate(learner.cells) if make.TAG in c.metadata.get("tags", [])]
    assert ex
    learner, solution = nbformat.validator.normalize(learner)[1], nbformat.validator.normalize(solution)[1]
    client = NotebookClient(learner, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    os.environ.setdefault("GAN_LAB_QUICK", "1")

    def run(index, cell):
        try:
            client.execute_cell(cell, index)
            return _outputs_text(cell), None
        except CellExecutionError as exc:
            return _outputs_text(cell), exc

    with client.setup_kernel():
        for i in range(ex[0]):
            if learner.cells[i].cell_type == "code":
                text, err = run(i, learner.cells[i])
                assert err is None, f"cell {i} before the first exercise failed: {err}"
        for k, i in enumerate(ex):
            names = make.exercises(solution.cells[i].source)
            end = ex[k + 1] if k + 1 < len(ex) else len(learner.cells)
            between = [j for j in range(i + 1, end) if learner.cells[j].cell_type == "code"]
            if k + 1 == len(ex):
                between = between[:2]  # after the last exercise: its check, not the rest of the notebook
            text, err = run(i, learner.cells[i])
            assert err is None, f"the learner's exercise cell {i} itself should run (it defines a function): {err}"
            reported = []
            for j in between:
                text, err = run(j, learner.cells[j])
                if err is not None:
                    plain = re.sub(r"\x1b\[[0-9;]*m", "", str(err))  # the traceback is coloured
                    assert re.search(r"NotImplementedError: exercise (" + "|".join(names) + ")", plain), \
                        f"cell {j} failed for another reason than exercise {names}: {err}"
                reported.append(text + (str(err) if err else ""))
                if err is not None:
                    break  # the learner stops here: later cells would fail for want of this one's results
            joined = "\n".join(reported)
            assert any(f"exercise {n}" in joined for n in names), \
                f"no cell after exercise {names} (cell {i}) reported it:\n{joined[:2000]}"
            # the learner writes the solution: run it and the cells after it again
            filled = nbformat.v4.new_code_cell(solution.cells[i].source)
            assert run(i, filled)[1] is None
            for j in between:
                cell = nbformat.v4.new_code_cell(learner.cells[j].source)
                text, err = run(j, cell)
                assert err is None, f"cell {j} still fails once exercise {names} is solved: {err}"
                assert "FAIL" not in text, f"cell {j} still reports FAIL once exercise {names} is solved:\n{text}"
