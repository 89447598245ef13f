"""Run folders: the layout, the start/resume rules, damaged checkpoints and files, sampling a finished run."""
import json

import numpy as np
import pytest

from gan_lab.callbacks import read_history
from gan_lab.presets import get_preset
from gan_lab.runs import Run, RunError, sample
from gan_lab.train import train

PRESET = get_preset("cs231n_dense", batch_size=32, noise_dim=16, checkpoint_every=10, sample_every=10,
                    sample_unit="step")


@pytest.fixture(scope="module")
def images(mnist_small):
    return mnist_small[0][:512]


def _train(run, images, **kwargs):
    kwargs.setdefault("verbose", 0)
    kwargs.setdefault("log", None)
    return train(None if kwargs.get("resume") else PRESET, run, images=images, **kwargs)


def _snapshot(run):
    """Every file of a run folder except its checkpoints, as bytes."""
    return {p.relative_to(run): p.read_bytes() for p in run.rglob("*")
            if p.is_file() and "checkpoints" not in p.parts}


def test_a_run_folder_holds_what_the_layout_says(tmp_path, images):
    run = tmp_path / "run"
    _train(run, images, max_steps=20)
    for name in ("preset.json", "run_state.json", "history.csv", "losses.png", "samples.gif", "final_grid.png",
                 "generator.keras", "discriminator.keras", "final_generated_images/img_099.png",
                 "generated_samples/step_000010.png", "checkpoints/ckpt-20.index"):
        assert (run / name).exists(), name
    state = json.loads((run / "run_state.json").read_text())
    assert (state["status"], state["step"], state["epoch"]) == ("stopped", 20, 1)  # 16 steps per epoch
    assert Run(run).read_preset() == PRESET


def test_a_new_run_never_starts_on_top_of_another(tmp_path, images):
    run = tmp_path / "run"
    _train(run, images, max_steps=2)
    with pytest.raises(RunError, match="already holds a run: resume it with --resume"):
        _train(run, images, max_steps=2)


def test_resume_refuses_a_changed_recipe_but_takes_more_epochs(tmp_path, images):
    run = tmp_path / "run"
    _train(run, images, max_steps=2)
    with pytest.raises(RunError, match="differ in batch_size"):
        train(PRESET.replace(batch_size=64), run, resume=True, images=images, verbose=0, log=None)
    result = train(PRESET.replace(epochs=99), run, resume=True, max_steps=3, images=images, verbose=0, log=None)
    assert result.step == 3


def test_truncated_latest_checkpoint_falls_back_to_the_previous_one(tmp_path, images):
    run = tmp_path / "run"
    _train(run, images, max_steps=20)
    data = run / "checkpoints" / "ckpt-20.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:1000])
    said = []
    result = _train(run, images, resume=True, max_steps=25, log=said.append)
    assert any("skipped unusable checkpoint(s): ckpt-20" in s and "resumed from ckpt-10" in s for s in said)
    assert result.step == 25
    assert [int(r["step"]) for r in read_history(run / "history.csv")] == list(range(1, 26))


def test_a_corrupt_checkpoint_index_still_resumes_from_the_newest_checkpoint(tmp_path, images):
    """Regression: a damaged checkpoints/checkpoint made the Python API restart silently from step 0 and
    truncate history.csv (and the CLI print a TypeError traceback)."""
    run = tmp_path / "run"
    _train(run, images, max_steps=20)
    (run / "checkpoints" / "checkpoint").write_bytes(b"\x00garbage {{{")
    result = _train(run, images, resume=True, max_steps=30)
    assert result.step == 30
    assert [int(r["step"]) for r in read_history(run / "history.csv")] == list(range(1, 31))


def test_no_readable_checkpoint_is_a_clear_error_and_changes_nothing(tmp_path, images):
    run = tmp_path / "run"
    _train(run, images, max_steps=20)
    for p in (run / "checkpoints").glob("*.data-*"):
        p.write_bytes(b"garbage")
    before = _snapshot(run)
    with pytest.raises(RunError, match="no usable checkpoint in .*checkpoints: ckpt-20 .*ckpt-10 .*nothing in the "
                                       "folder was changed"):
        _train(run, images, resume=True, max_steps=30)
    assert _snapshot(run) == before


def test_a_folder_without_checkpoints_is_not_resumable(tmp_path, images):
    run = tmp_path / "run"
    _train(run, images, max_steps=2)
    for p in (run / "checkpoints").iterdir():
        p.unlink()
    with pytest.raises(RunError, match="no checkpoint to resume from"):
        _train(run, images, resume=True, max_steps=4)


@pytest.mark.parametrize("content, message", [
    ("[]", "expected a JSON object of preset fields, got list"),
    ("{not json", "Expecting property name"),
    ('{"batch_size": "big"}', "batch_size = 'big' is invalid"),
])
def test_a_damaged_preset_json_is_named(tmp_path, content, message):
    run = tmp_path / "run"
    run.mkdir()
    (run / "preset.json").write_text(content)
    with pytest.raises(RunError, match=f"preset.json is damaged .*{message}"):
        Run(run).read_preset()


def test_a_damaged_history_is_named_on_resume_and_nothing_is_changed(tmp_path, images):
    run = tmp_path / "run"
    _train(run, images, max_steps=10)
    (run / "history.csv").write_text("this is not,a history\n1,2\n")
    before = _snapshot(run)
    with pytest.raises(ValueError, match="history.csv is damaged.*Move it aside"):
        _train(run, images, resume=True, max_steps=12)
    assert _snapshot(run) == before


def test_sample_refuses_absurd_counts_and_labels_for_unconditional_runs(tmp_path, images):
    run = tmp_path / "run"
    _train(run, images, max_steps=2)
    x = sample(run, n=5, seed=1)
    assert x.shape == (5, 28, 28) and x.dtype == np.float32 and 0 <= x.min() <= x.max() <= 1
    np.testing.assert_array_equal(x, sample(run, n=5, seed=1))
    for n in (0, 10 ** 9):
        with pytest.raises(ValueError, match=f"n = {n} is invalid"):
            sample(run, n=n)
    with pytest.raises(ValueError, match="needs a conditional run"):
        sample(run, n=2, label=3)
