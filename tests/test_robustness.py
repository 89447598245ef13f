"""Long runs never lose work: kill -9 and resume, Ctrl-C, corrupt checkpoints, determinism, clear errors."""
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from gan_lab.callbacks import read_history
from gan_lab.cli import main

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAST = ["--preset", "cs231n_dense", "--batch-size", "32", "--noise-dim", "16", "--quiet"]


def _popen(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.Popen([sys.executable, "-m", "gan_lab", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)


def _wait_for_step(run, step, proc, timeout=240):
    t0 = time.time()
    while time.time() - t0 < timeout:
        rows = read_history(run / "history.csv") if (run / "history.csv").exists() else []
        ckpts = list((run / "checkpoints").glob("ckpt-*.index")) if (run / "checkpoints").exists() else []
        if rows and int(rows[-1]["step"]) >= step and ckpts:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    raise AssertionError(f"run did not reach step {step} in {timeout} s")


def test_sigkill_then_resume_loses_at_most_one_checkpoint_interval(tmp_path):
    run = tmp_path / "run"
    proc = _popen("train", *FAST, "--max-steps", "100000", "--checkpoint-every", "25", "--out", str(run))
    try:
        _wait_for_step(run, 80, proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    # The last checkpoint the manager registered (its `checkpoint` file) is the one a resume restores; a kill
    # can land after a ckpt-N.index is written and before it is registered, so the index files may run ahead.
    state = (run / "checkpoints" / "checkpoint").read_text()
    last_ckpt = int(re.search(r'model_checkpoint_path: "ckpt-(\d+)"', state).group(1))
    assert last_ckpt >= 75  # at most one interval (25 steps) lost from the 80 we waited for
    assert not (run / "generator.keras").exists()

    target = last_ckpt + 30
    p = subprocess.run([sys.executable, "-m", "gan_lab", "train", "--resume", str(run), "--max-steps", str(target),
                        "--quiet"], capture_output=True, text=True, cwd=REPO, timeout=600,
                       env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert p.returncode == 0, p.stderr
    assert f"step {last_ckpt}" in p.stdout
    steps = [int(r["step"]) for r in read_history(run / "history.csv")]
    assert steps == list(range(1, target + 1))  # continuous: no duplicates, no gaps
    state = json.loads((run / "run_state.json").read_text())
    assert state["step"] == target and state["status"] == "stopped"
    assert (run / "generator.keras").exists()


def test_sigint_saves_and_exits_zero(tmp_path):
    run = tmp_path / "run"
    proc = _popen("train", *FAST, "--max-steps", "100000", "--checkpoint-every", "20", "--out", str(run))
    _wait_for_step(run, 30, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    state = json.loads((run / "run_state.json").read_text())
    assert state["status"] == "interrupted"
    assert (run / "generator.keras").exists() and (run / "final_grid.png").exists()
    assert (run / "checkpoints" / f"ckpt-{state['step']}.index").exists()


def test_truncated_latest_checkpoint_falls_back_to_previous(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *FAST, "--max-steps", "40", "--checkpoint-every", "20", "--out", str(run)]) == 0
    data = run / "checkpoints" / "ckpt-40.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:1000])
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--max-steps", "45", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "skipped unusable checkpoint" in out and "ckpt-40" in out and "step 20" in out
    assert [int(r["step"]) for r in read_history(run / "history.csv")] == list(range(1, 46))


def test_no_usable_checkpoint_is_a_clear_error(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *FAST, "--max-steps", "10", "--out", str(run)]) == 0
    for p in (run / "checkpoints").glob("*.data-*"):
        p.write_bytes(b"garbage")
    assert main(["train", "--resume", str(run), "--max-steps", "20"]) == 2
    assert "no usable checkpoint" in capsys.readouterr().err


def test_deterministic_mode_gives_identical_losses_and_samples(tmp_path):
    results = []
    for i in range(2):
        run = tmp_path / f"run{i}"
        assert main(["train", "--preset", "cs231n_dcgan", "--batch-size", "32", "--noise-dim", "16",
                     "--max-steps", "6", "--deterministic", "--quiet", "--out", str(run)]) == 0
        rows = read_history(run / "history.csv")
        assert main(["sample", str(run), "--n", "8", "--seed", "3", "--out", str(run / "s.npy")]) == 0
        results.append(([(r["d_loss"], r["g_loss"]) for r in rows], np.load(run / "s.npy")))
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_resume_refuses_another_preset_and_non_runs(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *FAST, "--max-steps", "5", "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(run), "--preset", "cs231n_dcgan"]) == 2
    assert "trained with preset 'cs231n_dense'" in capsys.readouterr().err
    assert main(["train", "--resume", str(run), "--batch-size", "64"]) == 2
    assert "batch_size" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path)]) == 2
    assert "not a gan_lab run folder" in capsys.readouterr().err
    # starting a new run on top of an existing one is refused too
    assert main(["train", *FAST, "--max-steps", "5", "--out", str(run)]) == 2
    assert "already holds a run" in capsys.readouterr().err


def test_generator_with_wrong_noise_dim_is_refused(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *FAST, "--max-steps", "3", "--out", str(run)]) == 0
    preset = json.loads((run / "preset.json").read_text())
    preset["noise_dim"] = 32
    (run / "preset.json").write_text(json.dumps(preset))
    capsys.readouterr()
    assert main(["sample", str(run), "--out", str(tmp_path / "x.npy")]) == 2
    err = capsys.readouterr().err
    assert "noise of size 16" in err and "noise_dim=32" in err


def test_corrupt_generator_file_is_reported(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *FAST, "--max-steps", "3", "--out", str(run)]) == 0
    (run / "generator.keras").write_bytes(b"not a zip")
    capsys.readouterr()
    assert main(["sample", str(run), "--out", str(tmp_path / "x.npy")]) == 2
    assert "generator.keras cannot be loaded" in capsys.readouterr().err


def test_unwritable_output_folder(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["train", *FAST, "--max-steps", "3", "--out", str(blocker / "run")]) == 2
    assert "cannot write to the output folder" in capsys.readouterr().err


def test_corrupt_data_file_is_a_clear_cli_error(tmp_path, capsys):
    from conftest import DATA_DIR
    folder = tmp_path / "mnist"
    folder.mkdir()
    for f in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (folder / f).write_bytes((DATA_DIR / "mnist" / f).read_bytes())
    img = folder / "train-images-idx3-ubyte.gz"
    img.write_bytes(img.read_bytes()[:2000])
    assert main(["train", *FAST, "--max-steps", "3", "--data-dir", str(tmp_path), "--out",
                 str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "train-images-idx3-ubyte.gz" in err and ("truncated" in err or "corrupt" in err)


def test_nan_run_stops_restores_last_good_checkpoint_and_exits_3(tmp_path, capsys):
    run = tmp_path / "run"
    rc = main(["train", "--preset", "cs231n_lsgan", "--batch-size", "32", "--noise-dim", "16", "--lr", "1e2",
               "--checkpoint-every", "1", "--max-steps", "200", "--quiet", "--out", str(run)])
    err = capsys.readouterr().err
    assert rc == 3, err
    assert "non-finite at step" in err
    state = json.loads((run / "run_state.json").read_text())
    assert state["status"] == "diverged"
    nan_step = int(err.split("non-finite at step ")[1].split(" ")[0])
    kept = sorted(int(p.name.split("-")[1].split(".")[0]) for p in (run / "checkpoints").glob("ckpt-*.index"))
    assert kept and max(kept) < nan_step  # the NaN step was never checkpointed
    # the outputs come from the last good weights: samples are finite
    assert main(["sample", str(run), "--n", "4", "--out", str(tmp_path / "s.npy")]) == 0
    assert np.isfinite(np.load(tmp_path / "s.npy")).all()
