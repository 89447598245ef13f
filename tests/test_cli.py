"""The command line end to end, as a user meets it: train/sample/evaluate/interpolate/presets, wrong values,
kill -9 and resume, Ctrl-C, damaged files, divergence, and a quick --help."""
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from gan_lab.callbacks import read_history
from gan_lab.cli import main
from gan_lab.presets import get_preset
from gan_lab.train import train

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
    (["train", "--dataset", "imagenet"], "unknown dataset 'imagenet'"),
    (["train", "--lr", "0"], "g_lr = 0.0 is invalid"),
    (["train", "--d-lr", "-1"], "d_lr = -1.0 is invalid"),
    (["train", "--batch-size", "0"], "batch_size = 0 is invalid"),
    (["train", "--epochs", "-2"], "epochs = -2 is invalid"),
    (["train", "--max-steps", "-5"], "max_steps = -5 is invalid"),
    (["train", "--loss", "hingee"], "loss = 'hingee' is invalid"),
    (["sample", "/nonexistent/run", "--out", "x.npy"], "does not exist"),
    # accepted before (issue 13, bug 7): each is now a one-line error
    (["train", "--max-seconds", "nan"], "max_seconds = 'nan' is invalid"),
    (["train", "--max-seconds", "0"], "max_seconds = 0 is invalid"),
    (["train", "--lr", "inf"], "g_lr takes a float, got 'inf'"),
    (["train", "--gp-weight", "nan"], "gp_weight takes a float, got 'nan'"),
    (["train", "--noise-dim", "1e9"], "noise_dim takes an integer, got '1e9'"),
    (["train", "--noise-dim", "1000000000"], "noise_dim = 1000000000 is invalid: expected a positive integer up to"),
    (["train", "--spectral-norm", "maybe"], "spectral_norm takes a yes/no value, got 'maybe'"),
    (["train", "--cpu-replicas", "0"], "cpu_replicas = 0 is invalid"),
    (["train", "--r1-every", "0"], "r1_every = 0 is invalid: expected a positive integer"),
    (["sample", "RUN", "--n", "0", "--out", "x.npy"], "n = 0 is invalid"),
    (["train", "--resume", "RUN"], "--resume RUN_DIR continues the run in that folder: drop --out"),
    # fast64 at 50 px was refused only after the folder was decoded, saying "at least 16×16, not 50×50"
    (["train", "--preset", "fast64", "--data-dir", "/nonexistent", "--image-size", "50"],
     "image_size = 50 is invalid: expected a multiple of 4 of at least 16 (e.g. 32, 48 or 64) with multiscale_d"),
])
def test_cli_bad_values_exit_2_with_message(args, expected, capsys, tmp_path):
    args = [a.replace("x.npy", str(tmp_path / "x.npy")).replace("RUN", str(tmp_path)) for a in args]
    if args[0] == "train":
        args += ["--out", str(tmp_path / "run")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert expected in err and err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("cli") / "run"
    assert main(["train", *FAST, "--max-steps", "5", "--out", str(run)]) == 0
    return run


def test_spectral_norm_false_means_off(tmp_path):
    """Regression: argparse type=bool turned `--spectral-norm false` (and 0, no) on."""
    for word, on in (("false", False), ("0", False), ("no", False), ("yes", True)):
        run = tmp_path / word
        assert main(["train", *FAST, "--spectral-norm", word, "--max-steps", "1", "--out", str(run)]) == 0
        assert json.loads((run / "preset.json").read_text())["spectral_norm"] is on
        assert any("_sn" in name for name in _layer_names(run / "discriminator.keras")) is on


def _layer_names(path):
    import keras
    return [layer.name for layer in keras.saving.load_model(path, compile=False).layers]


def test_nothing_to_train_exits_zero_and_leaves_the_run_as_it_was(small_run, tmp_path, capsys):
    state = (small_run / "run_state.json").read_text()
    assert main(["train", "--resume", str(small_run), "--max-steps", "5"]) == 0
    assert "already at step 5 (target step 5): nothing to train" in capsys.readouterr().out
    assert (small_run / "run_state.json").read_text() == state
    for flag in ("--max-steps", "--epochs"):
        assert main(["train", *FAST, flag, "0", "--out", str(tmp_path / "zero")]) == 0
        assert "nothing to train" in capsys.readouterr().out and not (tmp_path / "zero").exists()


def test_a_run_made_from_a_notebook_preset_resumes_by_folder_alone(tmp_path, mnist_small, capsys):
    """Regression: a preset whose name is not a built-in one could not be resumed from the CLI."""
    from gan_lab.presets import Preset
    from gan_lab.train import train
    mine = Preset(name="my experiment", architecture="dense", noise_dim=16, batch_size=32, sample_every=10 ** 6,
                  sample_unit="step")
    run = tmp_path / "mine"
    train(mine, run, max_steps=3, images=mnist_small[0][:256], verbose=0, log=None)
    assert main(["train", "--resume", str(run), "--max-steps", "6", "--quiet"]) == 0
    assert json.loads((run / "run_state.json").read_text())["step"] == 6
    assert main(["train", "--resume", str(run), "--max-steps", "7", "--batch-size", "32", "--quiet"]) == 0  # restated
    assert main(["train", "--resume", str(run), "--max-steps", "8", "--noise-dim", "8"]) == 2
    assert "differ in noise_dim" in capsys.readouterr().err


def test_sample_out_below_a_file_is_refused_before_loading_anything(small_run, tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    for out in (blocker / "x.npy", blocker / "pngs"):
        assert main(["sample", str(small_run), "--out", str(out)]) == 2
        assert f"{blocker} is a file, not a folder" in capsys.readouterr().err
    assert main(["sample", str(small_run), "--n", str(10 ** 9), "--out", str(tmp_path / "x.npy")]) == 2
    assert "n = 1000000000 is invalid: expected a number of images from 1 to 1,000,000" in capsys.readouterr().err


def test_help_version_presets_and_argument_errors_answer_without_tensorflow():
    code = ("import sys; from gan_lab.cli import main\n"
            "for argv in (['--help'], ['--version'], ['presets'], ['train', '--spectral-norm', 'maybe']):\n"
            "    main(argv)\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow was imported'\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("usage: gan-lab ") and "gan-lab 0.1.0" in p.stdout


def test_cli_sample_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["sample", str(tmp_path), "--out", str(tmp_path / "x.npy")]) == 2
    assert "not a gan_lab run folder" in capsys.readouterr().err


def test_cli_presets_lists_every_preset(capsys):
    from gan_lab.presets import PRESETS
    assert main(["presets"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out] == list(PRESETS)


# --- long runs: kill, Ctrl-C, damaged files, divergence -------------------------------------------------

FAST = ["--preset", "cs231n_dense", "--batch-size", "32", "--noise-dim", "16", "--quiet"]


def _signal_at_step(signame, step, *args):
    """`gan-lab ARGS` in a child process that sends itself ``signame`` right after step ``step``."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, os.path.join(REPO, "tests", "signal_at_step.py"), signame, str(step),
                           *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=600)


def test_sigkill_then_resume_loses_at_most_one_checkpoint_interval(tmp_path):
    run = tmp_path / "run"
    p = _signal_at_step("SIGKILL", 80, "train", *FAST, "--max-steps", "100000", "--checkpoint-every", "25",
                        "--out", str(run))
    assert p.returncode == -signal.SIGKILL, p.stderr[-2000:]
    assert "ckpt-75" in (run / "checkpoints" / "checkpoint").read_text()
    assert not (run / "generator.keras").exists()
    assert json.loads((run / "run_state.json").read_text())["status"] == "running"  # as the kill left it

    p = _run("train", "--resume", str(run), "--max-steps", "105", "--quiet")
    assert p.returncode == 0, p.stderr
    assert "from ckpt-75: step 75" in p.stdout
    steps = [int(r["step"]) for r in read_history(run / "history.csv")]
    assert steps == list(range(1, 106))  # continuous: the 5 steps after the checkpoint redone, no duplicates
    state = json.loads((run / "run_state.json").read_text())
    assert state["step"] == 105 and state["status"] == "stopped"
    assert (run / "generator.keras").exists()


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_ctrl_c_or_sigterm_saves_everything_and_exits_zero(tmp_path, signame):
    run = tmp_path / "run"
    p = _signal_at_step(signame, 30, "train", *FAST, "--max-steps", "100000", "--checkpoint-every", "20",
                        "--out", str(run))
    assert p.returncode == 0, p.stderr[-2000:]
    state = json.loads((run / "run_state.json").read_text())
    assert (state["status"], state["reason"], state["step"]) == ("interrupted", f"received {signame}", 30)
    assert (run / "generator.keras").exists() and (run / "final_grid.png").exists()
    assert (run / "checkpoints" / "ckpt-30.index").exists()


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


def test_evaluate_conditional_run_reports_label_accuracy(tmp_path, mnist_small, capsys):
    run = tmp_path / "run"
    train(get_preset("cgan", batch_size=32), run, max_steps=2, images=mnist_small, verbose=0, log=None)
    assert main(["evaluate", str(run), "--n", "500"]) == 0
    out = capsys.readouterr().out
    assert "conditional accuracy" in out
    payload = json.loads((run / "metrics.json").read_text())
    acc = payload["conditional_accuracy"]
    assert len(acc["per_class"]) == 10 and 0.0 <= acc["accuracy"] <= 1.0
    assert payload["result"]["modes"] >= 0
