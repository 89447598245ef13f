"""Callbacks driven step by step with a fake model and a fake clock: no training, no sleeps."""
import os
import signal

import pytest
import tensorflow as tf

from gan_lab.callbacks import (CheckpointWriteError, DivergenceGuard, HistoryCSV, HistoryError, PeriodicCheckpoint, StopOnSignal,
                               TrainingBudget, read_history)
from gan_lab.losses import DISCRIMINATOR_WON_BELOW, LOSSES


class FakeModel:
    """What the callbacks read from a GAN: the global step (g_optimizer.iterations) and stop_training."""

    def __init__(self, step=0):
        self.stop_training = False
        self.g_optimizer = type("Optimizer", (), {"iterations": tf.Variable(step, dtype=tf.int64)})()

    def advance(self, steps=1):
        self.g_optimizer.iterations.assign_add(steps)


class FakeClock:
    def __init__(self, now=100.0):
        self.now = now

    def __call__(self):
        return self.now


def _attach(callback, model=None):
    callback.set_model(model or FakeModel())
    return callback


# --- divergence -------------------------------------------------------------------------------------------

def test_nan_losses_stop_with_the_step_named():
    guard = _attach(DivergenceGuard("bce", patience=5))
    guard.model.advance(17)
    guard.on_train_batch_end(0, {"d_loss": 0.7, "g_loss": 0.9})
    assert not guard.model.stop_training
    guard.on_train_batch_end(0, {"d_loss": float("nan"), "g_loss": 0.9})
    assert guard.model.stop_training and guard.nonfinite and "step 17" in guard.message


@pytest.mark.parametrize("loss, won, healthy", [
    ("bce", 1e-5, 0.5), ("minimax", 1e-5, 1.2), ("lsgan", 1e-8, 0.2), ("hinge", 0.0, 0.8)])
def test_a_discriminator_that_has_won_is_caught_for_each_loss(loss, won, healthy):
    guard = _attach(DivergenceGuard(loss, patience=5))
    for _ in range(4):
        guard.on_train_batch_end(0, {"d_loss": won, "g_loss": 12.0})
    guard.on_train_batch_end(0, {"d_loss": healthy, "g_loss": 1.0})  # one healthy step resets the count
    for _ in range(4):
        guard.on_train_batch_end(0, {"d_loss": won, "g_loss": 12.0})
    assert not guard.model.stop_training
    guard.on_train_batch_end(0, {"d_loss": won, "g_loss": 12.0})
    assert guard.model.stop_training and "won outright" in guard.message and not guard.nonfinite


def test_wgan_critic_loss_is_negative_by_design_and_never_stops_a_run():
    """Regression: a healthy WGAN-GP critic loss (negative, often below -1) used to trip the 'won' rule."""
    guard = _attach(DivergenceGuard("wgan", patience=5))
    for d_loss in [-3.0, -0.5, 1e-6, 0.0, -12.0] * 1000:
        guard.on_train_batch_end(0, {"d_loss": d_loss, "g_loss": 4.0})
    assert not guard.model.stop_training and guard.message is None
    guard.on_train_batch_end(0, {"d_loss": float("inf"), "g_loss": 4.0})
    assert guard.model.stop_training and guard.nonfinite


def test_every_registered_loss_has_a_divergence_rule():
    assert set(DISCRIMINATOR_WON_BELOW) == set(LOSSES)


# --- budget and checkpoints on an injected clock ------------------------------------------------------------

def test_budget_stops_at_the_first_step_past_max_seconds():
    clock = FakeClock()
    budget = _attach(TrainingBudget(max_seconds=4.0, clock=clock))
    budget.on_train_begin()
    for t in (1.0, 2.5, 3.999):
        clock.now = 100.0 + t
        budget.model.advance()
        budget.on_train_batch_end(0)
        assert not budget.model.stop_training
    clock.now = 104.0
    budget.on_train_batch_end(0)
    assert budget.model.stop_training and budget.reason == "reached max_seconds=4"


def test_budget_stops_at_max_steps():
    budget = _attach(TrainingBudget(max_steps=3, clock=FakeClock()))
    budget.on_train_begin()
    for step in (1, 2, 3):
        budget.model.advance()
        budget.on_train_batch_end(0)
        assert budget.model.stop_training == (step == 3)


class FakeManager:
    directory = "/runs/x/checkpoints"
    latest_checkpoint = "/runs/x/checkpoints/ckpt-10"

    def __init__(self, fail=None):
        self.saved, self.fail = [], fail

    def save(self, checkpoint_number):
        if self.fail:
            raise self.fail
        self.saved.append(checkpoint_number)
        return f"ckpt-{checkpoint_number}"


def test_checkpoints_every_n_steps_and_every_s_seconds():
    clock, manager = FakeClock(), FakeManager()
    saver = _attach(PeriodicCheckpoint(manager, every_steps=4, every_seconds=20.0, clock=clock))
    for _ in range(12):
        clock.now += 7.0   # a slow step: 7 s each
        saver.model.advance()
        saver.on_train_batch_end(0)
    # by step (4, 8, 12) and by time (21 s after the last save: steps 3, 7, 11)
    assert manager.saved == [3, 4, 7, 8, 11, 12]


def test_a_vetoed_save_writes_nothing():
    manager = FakeManager()
    saver = _attach(PeriodicCheckpoint(manager, every_steps=1, every_seconds=None, veto=lambda: True))
    saver.model.advance()
    saver.on_train_batch_end(0)
    assert manager.saved == []


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"),
                                     tf.errors.ResourceExhaustedError(None, None, "No space left on device")])
def test_a_failed_checkpoint_write_says_the_previous_one_is_intact(failure):
    saver = _attach(PeriodicCheckpoint(FakeManager(fail=failure), every_steps=1, every_seconds=None))
    saver.model.advance(11)
    with pytest.raises(CheckpointWriteError, match="No space left.*ckpt-10, is intact.*--resume"):
        saver.on_train_batch_end(0)


# --- history.csv ------------------------------------------------------------------------------------------

def _history_lines(path):
    return path.read_text().splitlines()


def test_history_rows_count_time_from_the_injected_clock_and_derive_the_epoch(tmp_path):
    clock = FakeClock()
    history = _attach(HistoryCSV(tmp_path / "history.csv", steps_per_epoch=2, time_offset=10.0, clock=clock))
    history.on_train_begin()
    for _ in range(3):
        clock.now += 0.5
        history.model.advance()
        history.on_train_batch_end(0, {"d_loss": 1.0, "g_loss": 2.0})
    history.close()
    rows = read_history(tmp_path / "history.csv")
    assert [(r["step"], r["epoch"], r["seconds"]) for r in rows] == [
        ("1", "0", "10.500"), ("2", "0", "11.000"), ("3", "1", "11.500")]


def test_resume_drops_rows_past_the_checkpoint_and_a_torn_last_line(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("step,epoch,seconds,d_loss,g_loss,real_score,fake_score\n"
                    "1,0,0.1,1.0,2.0,0.1,0.2\n2,0,0.2,1.0,2.0,0.1,0.2\n3,0,0.3,1.0,2.0,0.1,0.2\n4,0,0.4,1.")
    assert [r["step"] for r in read_history(path)] == ["1", "2", "3"]  # the kill-torn row is not a row
    history = _attach(HistoryCSV(path, resume_step=2), FakeModel(step=2))
    history.on_train_begin()
    history.model.advance()
    history.on_train_batch_end(0, {"d_loss": 0.5, "g_loss": 0.5})
    history.close()
    assert [r["step"] for r in read_history(path)] == ["1", "2", "3"]
    assert _history_lines(path)[3].startswith("3,")   # the new step 3, not the old one
    assert not any(line.startswith("4,") for line in _history_lines(path))


def test_a_damaged_history_is_named(tmp_path):
    path = tmp_path / "history.csv"
    path.write_bytes(b"\x00\xff\xfe garbage\n1,2,3\n")
    with pytest.raises(HistoryError, match=f"{path}.*damaged"):
        read_history(path)


# --- signals ----------------------------------------------------------------------------------------------

def test_first_signal_stops_training_a_second_one_interrupts_at_once():
    stopper = _attach(StopOnSignal())
    previous = signal.getsignal(signal.SIGTERM)
    with stopper:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stopper.received == "SIGTERM" and stopper.model.stop_training
        with pytest.raises(KeyboardInterrupt, match="second signal"):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGTERM) is previous  # handlers restored


def test_progress_bar_counts_global_steps_of_the_whole_run(capsys):
    """Regression: Keras's per-epoch bar showed 1/937 on a resumed run and jumped to 937/937 when a run stopped
    early; the run's bar counts global steps up to the target."""
    from gan_lab.callbacks import ProgressBar
    bar = _attach(ProgressBar(target_step=60), FakeModel(step=30))
    bar.on_train_begin()
    for _ in range(10):
        bar.model.advance()
        bar.on_train_batch_end(0, {"d_loss": 0.5, "g_loss": 1.5, "real_score": 2.0, "recon_loss": 0.25})
    bar.on_train_end()
    out = capsys.readouterr().out
    assert "40/60" in out and "937" not in out and "g_loss: 1.5" in out and "real_score" not in out
    assert "recon_loss: 0.25" in out  # the added terms' losses too (recon_weight, info_codes)
