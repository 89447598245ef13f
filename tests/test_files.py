"""Atomic writes: the target is either the old file or the new one, never half of one."""
import json
import os
import subprocess
import sys

import pytest

from gan_lab.files import atomic_write, atomic_write_json, atomic_write_text


def test_writes_create_folders_and_replace_the_file(tmp_path):
    path = atomic_write_json(tmp_path / "a" / "b" / "state.json", {"step": 3})
    assert json.loads(path.read_text()) == {"step": 3}
    atomic_write_text(path, "new")
    assert path.read_text() == "new" and [p.name for p in path.parent.iterdir()] == ["state.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("old")

    def half_then_disk_full(tmp):
        tmp.write_text("half of the ne")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        atomic_write(path, half_then_disk_full)
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["history.csv"]


def test_ctrl_c_in_the_middle_of_a_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "preset.json"
    path.write_text("{}")

    def interrupted(tmp):
        tmp.write_text("{\"na")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, interrupted)
    assert path.read_text() == "{}" and len(list(tmp_path.iterdir())) == 1


def test_two_processes_writing_the_same_file_at_once_each_use_their_own_temporary(tmp_path):
    """Regression: the temporary file was `.name.tmp.ext` for every process, so a second process (two test
    workers, two runs filling one cache) writing the same target meanwhile moved it away and the first one's
    rename failed with FileNotFoundError."""
    target = tmp_path / "labels.txt"
    other = [sys.executable, "-c", "import sys; from gan_lab.files import atomic_write_text; "
             "atomic_write_text(sys.argv[1], 'second')", str(target)]

    def write_while_another_process_writes(tmp):
        tmp.write_text("first")
        subprocess.run(other, check=True, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    atomic_write(target, write_while_another_process_writes)
    assert target.read_text() == "first" and [p.name for p in tmp_path.iterdir()] == ["labels.txt"]
