"""Keras callbacks used by :func:`gan_lab.train.train` (and usable with any ``GAN.fit``).

- :class:`SampleGrid`      — a grid of fixed-noise samples every N epochs or steps
- :class:`HistoryCSV`      — ``history.csv`` with a ``step`` column and the losses, flushed as it goes
- :class:`TrainingBudget`  — stop cleanly after ``max_steps`` global steps or ``max_seconds`` of training
- :class:`PeriodicCheckpoint` — ``tf.train.CheckpointManager`` saves every N steps and every S seconds
- :class:`DivergenceGuard` — stop on NaN/Inf losses or a discriminator that has won outright for too long
- :class:`StopOnSignal`    — SIGINT/SIGTERM stop training at the end of the current step (then outputs are saved)
- :class:`ProgressBar`     — global step out of the target step, with the losses
- :func:`read_history`     — the rows of a ``history.csv``
"""
from __future__ import annotations

import csv
import math
import signal
import threading
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from gan_lab.data import to_unit_range
from gan_lab.files import atomic_write
from gan_lab.losses import DISCRIMINATOR_WON_BELOW
from gan_lab.plots import save_grid
from gan_lab.sampling import generate

# Time readings go through an injectable clock (``clock=``) so tests drive the time-based rules exactly.


def scalar(value) -> float:
    """A log value (Python float, numpy or tensor, scalar or shape (1,)) as a float."""
    return float(np.asarray(value, dtype=np.float64).reshape(-1)[0])


HISTORY_FIELDS = ("step", "epoch", "seconds", "d_loss", "g_loss", "real_score", "fake_score", "info_loss",
                  "recon_loss")


def global_step(model) -> int:
    """The GAN's global step: generator updates so far (saved in checkpoints)."""
    return int(model.g_optimizer.iterations.numpy())


class SampleGrid(keras.callbacks.Callback):
    """Write ``folder/step_000250.png`` (or ``epoch_0005.png``) grids of the sampler on ``fixed_noise``.

    With ``unit="epoch"`` a grid is written every ``every`` epochs of ``steps_per_epoch`` global steps, named
    by the epoch the step completes (the epoch is derived from the global step, so a resumed run names its
    grids as the uninterrupted run would)."""

    def __init__(self, fixed_noise, folder, every: int = 1, unit: str = "epoch", output: str = "tanh",
                 labels=None, steps_per_epoch: int = 1):
        super().__init__()
        self.fixed_noise = fixed_noise
        self.labels = labels  # conditional GANs: the class of each grid sample (one row per class)
        self.folder = Path(folder)
        self.every, self.unit, self.output = int(every), unit, output
        self.period = self.every * (int(steps_per_epoch) if unit == "epoch" else 1)
        self.steps_per_epoch = int(steps_per_epoch)
        self.written: list[Path] = []

    def images(self):
        return to_unit_range(generate(self.model.sampler, np.asarray(self.fixed_noise), self.labels), self.output)

    def name(self, step: int) -> str:
        return f"step_{step:06d}" if self.unit == "step" else f"epoch_{step // self.steps_per_epoch:04d}"

    def write(self, step: int) -> Path:
        path = save_grid(self.images(), self.folder / f"{self.name(step)}.png", ncols=8)
        self.written.append(path)
        return path

    def on_train_begin(self, logs=None):
        if global_step(self.model) == 0:
            self.write(0)

    def on_train_batch_end(self, batch, logs=None):
        step = global_step(self.model)
        if step % self.period == 0:
            self.write(step)


class HistoryCSV(keras.callbacks.Callback):
    """Append one row per step to ``history.csv``; flush every ``flush_every`` steps and on request.

    ``seconds`` is the training time since the run began (a resumed run continues it: ``time_offset``),
    ``epoch`` the epoch the step belongs to (derived from the global step and ``steps_per_epoch``).
    On resume (``resume_step``) rows past the restored step are dropped first, so no step appears twice; a
    half-written last line (a kill in the middle of a write) is dropped too.
    """

    def __init__(self, path, flush_every: int = 100, time_offset: float = 0.0, resume_step: int | None = None,
                 steps_per_epoch: int = 1, clock=time.perf_counter):
        super().__init__()
        self.path = Path(path)
        self.flush_every = int(flush_every)
        self.time_offset = float(time_offset)
        self.steps_per_epoch = int(steps_per_epoch)
        self.clock = clock
        kept = [] if resume_step is None else [r for r in read_history(self.path) if int(r["step"]) <= resume_step]
        atomic_write(self.path, lambda tmp: _write_rows(tmp, kept))
        self._file = open(self.path, "a", newline="")
        self._writer = csv.DictWriter(self._file, fieldnames=HISTORY_FIELDS, extrasaction="ignore")
        self._t0 = None

    def seconds(self) -> float:
        return self.time_offset + (self.clock() - self._t0 if self._t0 is not None else 0.0)

    def on_train_begin(self, logs=None):
        self._t0 = self.clock()

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        step = global_step(self.model)
        row = {"step": step, "epoch": (step - 1) // self.steps_per_epoch, "seconds": f"{self.seconds():.3f}"}
        for k in HISTORY_FIELDS[3:]:
            if k in logs:
                row[k] = f"{scalar(logs[k]):.6g}"
        self._writer.writerow(row)
        if step % self.flush_every == 0:
            self.flush()

    def flush(self):
        if not self._file.closed:
            self._file.flush()

    def close(self):
        if not self._file.closed:
            self._file.close()

    def on_train_end(self, logs=None):
        self.flush()


def _write_rows(path, rows):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=HISTORY_FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


class HistoryError(ValueError):
    """``history.csv`` exists but is not a history this lab wrote."""


def read_history(path) -> list[dict]:
    """Rows of a ``history.csv`` as dicts of strings; a half-written last line (a kill in the middle of a
    write) is skipped. A file whose header is not the history's raises :class:`HistoryError` naming it."""
    path = Path(path)
    if not path.exists():
        return []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is None:
                return []
            if tuple(reader.fieldnames[:3]) != HISTORY_FIELDS[:3]:
                raise HistoryError(f"{path} is damaged: its header is {reader.fieldnames[:3]}, expected "
                                   f"{', '.join(HISTORY_FIELDS)}. Move it aside to resume the run without its "
                                   "loss history")
            rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise HistoryError(f"{path} is damaged ({exc}). Move it aside to resume the run without its loss "
                           "history") from None
    return [r for r in rows if _complete(r)]


def _complete(row) -> bool:
    try:
        int(row["step"]), float(row["d_loss"])
    except (KeyError, TypeError, ValueError):
        return False
    return None not in row.values()


def history_arrays(path) -> dict:
    """``history.csv`` as a dict of float arrays (for plotting)."""
    rows = read_history(path)
    out = {}
    for k in HISTORY_FIELDS:
        try:
            out[k] = np.array([float(r[k]) for r in rows])
        except (KeyError, ValueError):
            pass
    return out


class TrainingBudget(keras.callbacks.Callback):
    """Stop after the global step reaches ``max_steps``, or after ``max_seconds`` of training in this call
    (counted from the start of training, graph tracing included, as a learner's wall clock would)."""

    def __init__(self, max_steps=None, max_seconds=None, clock=time.perf_counter):
        super().__init__()
        self.max_steps, self.max_seconds = max_steps, max_seconds
        self.clock = clock
        self.reason = None
        self._t0 = None

    def on_train_begin(self, logs=None):
        self._t0 = self.clock()

    def on_train_batch_end(self, batch, logs=None):
        if self.max_steps is not None and global_step(self.model) >= self.max_steps:
            self.reason = f"reached max_steps={self.max_steps}"
            self.model.stop_training = True
        elif self.max_seconds is not None and self.clock() - self._t0 >= self.max_seconds:
            self.reason = f"reached max_seconds={self.max_seconds:g}"
            self.model.stop_training = True


class CheckpointWriteError(OSError):
    """A checkpoint could not be written (disk full, read-only folder); the previous ones are intact."""


class PeriodicCheckpoint(keras.callbacks.Callback):
    """Save through a ``tf.train.CheckpointManager`` every ``every_steps`` steps and every ``every_seconds``.

    ``before_save()`` is called first (used to flush ``history.csv`` and record the training time);
    ``veto()`` returning True skips a save (the weights are not finite). A failed write (disk full,
    read-only folder) stops training with :class:`CheckpointWriteError`; TensorFlow writes a checkpoint
    under a temporary name and registers it last, so the checkpoints saved before stay usable.
    """

    def __init__(self, manager, every_steps=500, every_seconds=120.0, before_save=None, veto=None,
                 clock=time.perf_counter):
        super().__init__()
        self.manager = manager
        self.veto = veto
        self.every_steps, self.every_seconds = every_steps, every_seconds
        self.before_save = before_save
        self.clock = clock
        self._last = clock()
        self._saved_step = None

    def save(self):
        """Save now (unless vetoed, or this step is saved already); returns the checkpoint path or None."""
        step = global_step(self.model)
        if (self.veto is not None and self.veto()) or self._saved_step == step:
            return None
        if self.before_save is not None:
            self.before_save()
        try:
            path = self.manager.save(checkpoint_number=step)
        except (OSError, tf.errors.OpError) as exc:
            last = self.manager.latest_checkpoint
            raise CheckpointWriteError(
                f"cannot write a checkpoint in {self.manager.directory} ({_first_line(exc)}). "
                + (f"The last saved checkpoint, {Path(last).name}, is intact: " if last else "")
                + "free some disk space or make the folder writable, then resume the run with --resume") from None
        self._last = self.clock()
        self._saved_step = step
        return path

    def on_train_batch_end(self, batch, logs=None):
        step = global_step(self.model)
        due_steps = self.every_steps and step % self.every_steps == 0
        due_time = self.every_seconds and self.clock() - self._last >= self.every_seconds
        if due_steps or due_time:
            self.save()


def _first_line(exc) -> str:
    text = getattr(exc, "message", None) or str(exc)
    return (text.strip().splitlines() or [type(exc).__name__])[0][:200]


class DivergenceError(RuntimeError):
    """Training stopped because the losses diverged; the message names the step and what to try."""


class DivergenceGuard(keras.callbacks.Callback):
    """Stop on NaN/Inf losses, or when the discriminator has won outright: its loss below the level
    :data:`gan_lab.losses.DISCRIMINATOR_WON_BELOW` gives for ``loss`` for ``patience`` consecutive steps.
    Losses without such a level (WGAN's critic loss is negative by design) are checked for NaN/Inf only.

    Sets ``self.message`` and stops training; the caller decides what to save (no checkpoint after NaN).
    """

    def __init__(self, loss: str = "bce", patience: int = 2000):
        super().__init__()
        self.patience = patience
        self.d_loss_floor = DISCRIMINATOR_WON_BELOW.get(loss) if isinstance(loss, str) else None
        self.message = None
        self.nonfinite = False
        self._low = 0

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        step = global_step(self.model)
        d, g = scalar(logs.get("d_loss", 0.0)), scalar(logs.get("g_loss", 0.0))
        if not (math.isfinite(d) and math.isfinite(g)):
            self.nonfinite = True
            self.message = (f"losses became non-finite at step {step} (d_loss={d}, g_loss={g}). "
                            "Try a lower learning rate (--g-lr/--d-lr), --loss lsgan, or resume from the last "
                            "good checkpoint with different settings.")
            self.model.stop_training = True
            return
        if self.d_loss_floor is None:
            return
        self._low = self._low + 1 if d < self.d_loss_floor else 0
        if self.patience and self._low >= self.patience:
            self.message = (f"the discriminator has won outright: d_loss < {self.d_loss_floor:g} for "
                            f"{self._low} steps up to step {step}, so the generator no longer learns. "
                            "Try a lower --d-lr, label smoothing (--label-smoothing 0.1), or a higher --g-lr.")
            self.model.stop_training = True


class StopOnSignal(keras.callbacks.Callback):
    """Turn SIGINT (Ctrl-C) and SIGTERM into a clean stop at the end of the current step.

    Use it as a context manager around training *and* the saving that follows (``with stopper: ...``): the
    first signal stops training after the current step, and the checkpoint and outputs are then written
    as usual. A second signal, while they are written, raises ``KeyboardInterrupt`` at once (a double
    Ctrl-C always gets you out); every file is written atomically, so what was saved before stays usable.
    Handlers are only installed from the main thread; the previous ones are restored on exit.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        super().__init__()
        self.received = None
        self._previous = {}

    def _handler(self, signum, frame):
        name = signal.Signals(signum).name
        if self.received is not None:
            raise KeyboardInterrupt(f"a second signal ({name}) while stopping")
        self.received = name
        if self.model is not None:
            self.model.stop_training = True

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for s in self.SIGNALS:
                self._previous[s] = signal.signal(s, self._handler)
        return self

    def __exit__(self, *exc):
        for s, prev in self._previous.items():
            signal.signal(s, prev)
        self._previous = {}
        return False

    def on_train_batch_end(self, batch, logs=None):
        if self.received:
            self.model.stop_training = True


class ProgressBar(keras.callbacks.Callback):
    """A progress bar over the whole run: global step out of the target step, with the losses (``*_loss``:
    d_loss, g_loss, and info_loss / recon_loss when the run has them).

    Keras's own bar counts steps within an epoch, so a run resumed in the middle of an epoch would start at
    1/937 and a run stopped early would jump to 937/937; this one always shows where the run really is."""

    def __init__(self, target_step: int):
        super().__init__()
        self.target_step = int(target_step)
        self.bar = None

    def on_train_begin(self, logs=None):
        self.bar = keras.utils.Progbar(self.target_step, unit_name="step")
        self.bar.update(global_step(self.model))

    def on_train_batch_end(self, batch, logs=None):
        values = [(k, scalar(v)) for k, v in (logs or {}).items() if k.endswith("_loss")]  # info, recon too
        self.bar.update(global_step(self.model), values=values)

    def on_train_end(self, logs=None):
        self.bar.update(global_step(self.model), finalize=True)


class TensorBoardLogger(keras.callbacks.Callback):
    """Optional TensorBoard logging beside ``history.csv``: losses every ``every`` steps, and each sample grid
    that :class:`SampleGrid` writes, as images. View with ``tensorboard --logdir RUN_DIR/tensorboard``."""

    def __init__(self, logdir, every: int = 10, grids: SampleGrid | None = None):
        super().__init__()
        try:
            import tensorboard  # noqa: F401  (tf.summary.image needs it)
        except ImportError:
            raise ValueError("--tensorboard needs the tensorboard package: pip install tensorboard") from None

        self.writer = tf.summary.create_file_writer(str(logdir))
        self.every = int(every)
        self.grids = grids
        self._seen_grids = 0

    def on_train_batch_end(self, batch, logs=None):
        step = global_step(self.model)
        logs = logs or {}
        with self.writer.as_default(step=step):
            if step % self.every == 0:
                for k, v in logs.items():
                    tf.summary.scalar(k, scalar(v))
            if self.grids is not None and len(self.grids.written) > self._seen_grids:
                for path in self.grids.written[self._seen_grids:]:
                    img = np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8)[None]
                    tf.summary.image("samples", img)
                self._seen_grids = len(self.grids.written)

    def on_train_end(self, logs=None):
        self.writer.flush()
