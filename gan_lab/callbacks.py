"""Keras callbacks used by :func:`gan_lab.runs.train` (and usable with any ``GAN.fit``).

- :class:`SampleGrid`      — a grid of fixed-noise samples every N epochs or steps
- :class:`HistoryCSV`      — ``history.csv`` with a ``step`` column and the losses, flushed as it goes
- :class:`TrainingBudget`  — stop cleanly after ``max_steps`` global steps or ``max_seconds`` of training
- :class:`PeriodicCheckpoint` — ``tf.train.CheckpointManager`` saves every N steps and every S seconds
- :class:`DivergenceGuard` — stop on NaN/Inf losses or a discriminator that has won outright for too long
- :class:`StopOnSignal`    — SIGINT/SIGTERM stop training at the end of the current step (then outputs are saved)
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

from gan_lab.data import to_unit_range
from gan_lab.plots import save_grid

def scalar(value) -> float:
    """A log value (Python float, numpy or tensor, scalar or shape (1,)) as a float."""
    return float(np.asarray(value, dtype=np.float64).reshape(-1)[0])


HISTORY_FIELDS = ("step", "epoch", "seconds", "d_loss", "g_loss", "real_score", "fake_score")


def _global_step(model) -> int:
    return int(model.g_optimizer.iterations.numpy())


class SampleGrid(keras.callbacks.Callback):
    """Write ``folder/step_000250.png`` (or ``epoch_0005.png``) grids of ``generator(fixed_noise)``."""

    def __init__(self, fixed_noise, folder, every: int = 1, unit: str = "epoch", output: str = "tanh",
                 labels=None):
        super().__init__()
        self.fixed_noise = fixed_noise
        self.labels = labels  # conditional GANs: the class of each grid sample (one row per class)
        self.folder = Path(folder)
        self.every, self.unit, self.output = int(every), unit, output
        self.written: list[Path] = []

    def images(self):
        from gan_lab.train import generate_images
        return to_unit_range(generate_images(self.model.sampler, self.fixed_noise, self.labels), self.output)

    def write(self, name: str) -> Path:
        path = save_grid(self.images(), self.folder / f"{name}.png", ncols=8)
        self.written.append(path)
        return path

    def on_train_begin(self, logs=None):
        step = _global_step(self.model)
        if step == 0:
            self.write("step_000000" if self.unit == "step" else "epoch_0000")

    def on_train_batch_end(self, batch, logs=None):
        if self.unit == "step" and not self.model.stop_training:
            step = _global_step(self.model)
            if step % self.every == 0:
                self.write(f"step_{step:06d}")

    def on_epoch_end(self, epoch, logs=None):
        if self.unit == "epoch" and (epoch + 1) % self.every == 0:
            self.write(f"epoch_{epoch + 1:04d}")


class HistoryCSV(keras.callbacks.Callback):
    """Append one row per step to ``history.csv``; flush every ``flush_every`` steps and on request.

    ``seconds`` is the training time since the run began (resumed runs continue it: ``time_offset``).
    On resume, rows past the restored step are dropped first, so no step appears twice.
    """

    def __init__(self, path, flush_every: int = 100, time_offset: float = 0.0, resume_step: int | None = None):
        super().__init__()
        self.path = Path(path)
        self.flush_every = int(flush_every)
        self.time_offset = float(time_offset)
        self.rows: list[dict] = []
        self.epoch = 0
        if resume_step is not None and self.path.exists():
            kept = [r for r in read_history(self.path) if int(r["step"]) <= resume_step]
            self._write_all(kept)
        else:  # a new run: start the file with its header
            self._write_all([])
        self._file = open(self.path, "a", newline="")
        self._writer = csv.DictWriter(self._file, fieldnames=HISTORY_FIELDS, extrasaction="ignore")
        self._t0 = None

    def _write_all(self, rows):
        tmp = self.path.with_suffix(".csv.tmp")
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=HISTORY_FIELDS, extrasaction="ignore")
            w.writeheader()
            w.writerows(rows)
        tmp.replace(self.path)

    def seconds(self) -> float:
        return self.time_offset + (time.perf_counter() - self._t0 if self._t0 is not None else 0.0)

    def on_train_begin(self, logs=None):
        self._t0 = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        row = {"step": _global_step(self.model), "epoch": self.epoch, "seconds": f"{self.seconds():.3f}"}
        for k in HISTORY_FIELDS[3:]:
            if k in logs:
                row[k] = f"{scalar(logs[k]):.6g}"
        self._writer.writerow(row)
        if row["step"] % self.flush_every == 0:
            self.flush()

    def flush(self):
        if not self._file.closed:
            self._file.flush()

    def close(self):
        if not self._file.closed:
            self._file.close()

    def on_train_end(self, logs=None):
        self.flush()


def read_history(path) -> list[dict]:
    """Rows of a ``history.csv`` as dicts of strings (skips a half-written last line)."""
    path = Path(path)
    if not path.exists():
        return []
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [r for r in rows if r.get("step") and None not in r.values() and all(v != "" for k, v in r.items()
                                                                                  if k in ("step", "d_loss"))]


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
    """Stop after ``max_steps`` global steps or ``max_seconds`` of training in this session.

    The time budget counts from the first step (graph tracing excluded is not attempted: it counts, as a
    learner's wall clock would).
    """

    def __init__(self, max_steps=None, max_seconds=None):
        super().__init__()
        self.max_steps, self.max_seconds = max_steps, max_seconds
        self.reason = None
        self._t0 = None

    def on_train_begin(self, logs=None):
        self._t0 = time.perf_counter()
        if self.max_steps is not None and _global_step(self.model) >= self.max_steps:
            self.reason = f"max_steps={self.max_steps} already reached"
            self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        if self.max_steps is not None and _global_step(self.model) >= self.max_steps:
            self.reason = f"reached max_steps={self.max_steps}"
            self.model.stop_training = True
        elif self.max_seconds is not None and time.perf_counter() - self._t0 >= self.max_seconds:
            self.reason = f"reached max_seconds={self.max_seconds:g}"
            self.model.stop_training = True


class PeriodicCheckpoint(keras.callbacks.Callback):
    """Save through a ``tf.train.CheckpointManager`` every ``every_steps`` steps and every ``every_seconds``.

    ``before_save()`` is called first (used to flush ``history.csv`` and record the epoch and time).
    """

    def __init__(self, manager, every_steps=500, every_seconds=120.0, before_save=None, veto=None):
        super().__init__()
        self.manager = manager
        self.veto = veto  # a callable: True means "do not save now" (e.g. the losses just became NaN)
        self.every_steps, self.every_seconds = every_steps, every_seconds
        self.before_save = before_save
        self._last = time.perf_counter()
        self.enabled = True

    def save(self):
        if not self.enabled or (self.veto is not None and self.veto()):
            return None
        if self.before_save is not None:
            self.before_save()
        step = _global_step(self.model)
        path = self.manager.save(checkpoint_number=step)
        self._last = time.perf_counter()
        return path

    def on_train_batch_end(self, batch, logs=None):
        step = _global_step(self.model)
        due_steps = self.every_steps and step % self.every_steps == 0
        due_time = self.every_seconds and time.perf_counter() - self._last >= self.every_seconds
        if due_steps or due_time:
            self.save()


class DivergenceError(RuntimeError):
    """Training stopped because the losses diverged; the message names the step and what to try."""


class DivergenceGuard(keras.callbacks.Callback):
    """Stop on NaN/Inf losses, or when the discriminator's loss stays below ``d_loss_floor`` for ``patience``
    consecutive steps (it has won outright: the generator gets no useful gradient).

    Sets ``self.message`` and stops training; the caller decides what to save (no checkpoint after NaN).
    """

    def __init__(self, patience: int = 2000, d_loss_floor: float = 1e-3):
        super().__init__()
        self.patience, self.d_loss_floor = patience, d_loss_floor
        self.message = None
        self.nonfinite = False
        self._low = 0

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        step = _global_step(self.model)
        d, g = scalar(logs.get("d_loss", 0.0)), scalar(logs.get("g_loss", 0.0))
        if not (math.isfinite(d) and math.isfinite(g)):
            self.nonfinite = True
            self.message = (f"losses became non-finite at step {step} (d_loss={d}, g_loss={g}). "
                            "Try a lower learning rate (--g-lr/--d-lr), --loss lsgan, or resume from the last "
                            "good checkpoint with different settings.")
            self.model.stop_training = True
            return
        self._low = self._low + 1 if d < self.d_loss_floor else 0
        if self.patience and self._low >= self.patience:
            self.message = (f"the discriminator has won outright: d_loss < {self.d_loss_floor:g} for "
                            f"{self._low} steps up to step {step}, so the generator no longer learns. "
                            "Try a lower --d-lr, label smoothing (--label-smoothing 0.1), or a higher --g-lr.")
            self.model.stop_training = True


class StopOnSignal(keras.callbacks.Callback):
    """Turn SIGINT (Ctrl-C) and SIGTERM into a clean stop at the end of the current step.

    Handlers are installed in ``on_train_begin`` and the previous ones restored in ``on_train_end``; a second
    signal while stopping falls back to the previous handler (so a double Ctrl-C still interrupts).
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        super().__init__()
        self.received = None
        self._previous = {}

    def _handler(self, signum, frame):
        if self.received is not None:
            prev = self._previous.get(signum)
            if callable(prev):
                prev(signum, frame)
            return
        self.received = signal.Signals(signum).name
        if self.model is not None:
            self.model.stop_training = True

    def on_train_begin(self, logs=None):
        if threading.current_thread() is threading.main_thread():
            for s in self.SIGNALS:
                self._previous[s] = signal.signal(s, self._handler)

    def on_train_batch_end(self, batch, logs=None):
        if self.received:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        for s, prev in self._previous.items():
            signal.signal(s, prev)
        self._previous = {}


class TensorBoardLogger(keras.callbacks.Callback):
    """Optional TensorBoard logging beside ``history.csv``: losses every ``every`` steps, and each sample grid
    that :class:`SampleGrid` writes, as images. View with ``tensorboard --logdir RUN_DIR/tensorboard``."""

    def __init__(self, logdir, every: int = 10, grids: SampleGrid | None = None):
        super().__init__()
        import tensorflow as tf
        try:
            import tensorboard  # noqa: F401  (tf.summary.image needs it)
        except ImportError:
            raise ValueError("--tensorboard needs the tensorboard package: pip install tensorboard") from None

        self.writer = tf.summary.create_file_writer(str(logdir))
        self.every = int(every)
        self.grids = grids
        self._seen_grids = 0

    def on_train_batch_end(self, batch, logs=None):
        import tensorflow as tf

        step = _global_step(self.model)
        logs = logs or {}
        with self.writer.as_default(step=step):
            if step % self.every == 0:
                for k, v in logs.items():
                    tf.summary.scalar(k, scalar(v))
            if self.grids is not None and len(self.grids.written) > self._seen_grids:
                from PIL import Image
                for path in self.grids.written[self._seen_grids:]:
                    img = np.asarray(Image.open(path).convert("L"), dtype=np.uint8)[None, :, :, None]
                    tf.summary.image("samples", img)
                self._seen_grids = len(self.grids.written)

    def on_train_end(self, logs=None):
        self.writer.flush()
