import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from gan_lab.cli import main

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(*args, timeout=600):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-m", "gan_lab", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=REPO)


def test_cli_train_then_sample_end_to_end(tmp_path):
    run = tmp_path / "run"
    p = _run("train", "--preset", "cs231n_dense", "--dataset", "mnist", "--max-steps", "40", "--batch-size", "64",
             "--lr", "5e-4", "--sample-every", "20", "--out", str(run), "--quiet")
    assert p.returncode == 0, p.stderr
    preset = json.loads((run / "preset.json").read_text())
    assert preset["batch_size"] == 64 and preset["g_lr"] == 5e-4 and preset["d_lr"] == 5e-4
    assert json.loads((run / "run_state.json").read_text())["step"] == 40
    assert sorted(p.name for p in (run / "generated_samples").glob("*.png")) == [
        "step_000000.png", "step_000020.png", "step_000040.png"]
    for name in ("history.csv", "losses.png", "samples.gif", "final_grid.png", "generator.keras",
                 "discriminator.keras", "final_generated_images/img_099.png"):
        assert (run / name).exists(), name

    p = _run("sample", str(run), "--n", "12", "--out", str(tmp_path / "s.npy"), "--seed", "1")
    assert p.returncode == 0, p.stderr
    x = np.load(tmp_path / "s.npy", allow_pickle=False)
    assert x.shape == (12, 28, 28) and x.dtype == np.float32 and x.min() >= 0 and x.max() <= 1
    assert main(["sample", str(run), "--n", "9", "--out", str(tmp_path / "grid.png")]) == 0
    assert Image.open(tmp_path / "grid.png").size[0] > 28 * 3
    assert main(["sample", str(run), "--n", "5", "--out", str(tmp_path / "pngs")]) == 0
    assert len(list((tmp_path / "pngs").glob("*.png"))) == 5


def test_cli_user_error_is_one_line_without_traceback():
    p = _run("train", "--preset", "nope")
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    assert "unknown preset 'nope'" in p.stderr and "cs231n_dcgan" in p.stderr


@pytest.mark.parametrize("args,expected", [
    (["train", "--dataset", "cifar10"], "unknown dataset 'cifar10'"),
    (["train", "--lr", "0"], "g_lr = 0.0 is invalid"),
    (["train", "--d-lr", "-1"], "d_lr = -1.0 is invalid"),
    (["train", "--batch-size", "0"], "batch_size = 0 is invalid"),
    (["train", "--epochs", "-2"], "epochs = -2 is invalid"),
    (["train", "--max-steps", "-5"], "max_steps = -5 is invalid"),
    (["train", "--loss", "hingee"], "loss = 'hingee' is invalid"),
    (["sample", "/nonexistent/run", "--out", "x.npy"], "does not exist"),
])
def test_cli_bad_values_exit_2_with_message(args, expected, capsys, tmp_path):
    args = [a.replace("x.npy", str(tmp_path / "x.npy")) for a in args]
    if args[0] == "train":
        args += ["--out", str(tmp_path / "run")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert expected in err and err.startswith("error: ")


def test_cli_sample_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["sample", str(tmp_path), "--out", str(tmp_path / "x.npy")]) == 2
    assert "not a gan_lab run folder" in capsys.readouterr().err


def test_cli_presets_lists_every_preset(capsys):
    from gan_lab.presets import PRESETS
    assert main(["presets"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out] == list(PRESETS)
