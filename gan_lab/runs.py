"""Run folders: train a preset into a folder that holds everything a run produces, resume it, sample from it.

Layout of a run folder (``runs/<preset>-<time>/`` by default)::

    preset.json                  the preset used (every hyperparameter)
    run_state.json               status (running/finished/interrupted/diverged), step, epoch, seconds
    history.csv                  one row per step: step, epoch, seconds, d_loss, g_loss, real_score, fake_score
    losses.png                   loss curves
    generated_samples/           grids of the same fixed noise: epoch_0005.png or step_000250.png
    samples.gif                  those grids as an animation
    final_generated_images/      img_000.png ... img_099.png
    final_grid.png               the 100 final images as one picture
    generator.keras, discriminator.keras   (generator.keras is the EMA generator when ema_decay > 0;
                                           the raw one is then generator_raw.keras)
    checkpoints/                 tf.train.CheckpointManager: models, optimizers, step, epoch, RNG state, fixed noise
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gan_lab.presets import Preset, resolve_precision

GRID_SAMPLES = 64
FINAL_SAMPLES = 100


def grid_size(preset) -> int:
    """64 fixed-noise samples per grid (8 × 8); 80 for conditional GANs (one row of 8 per class)."""
    from gan_lab.models import is_conditional
    return 80 if is_conditional(preset.architecture) else GRID_SAMPLES


def grid_labels(preset, per_class: int = 8):
    """Labels of the grid rows for a conditional preset (row r shows class r), else None."""
    from gan_lab.models import is_conditional
    return np.repeat(np.arange(10), per_class) if is_conditional(preset.architecture) else None


class RunError(ValueError):
    """A run folder is missing, not a run, or incompatible with what was asked."""


@dataclass
class RunResult:
    run_dir: Path
    step: int
    epoch: int
    seconds: float
    status: str                 # finished | stopped (budget) | interrupted (signal) | diverged
    reason: str = ""
    gan: object = field(default=None, repr=False)


def _atomic_write_text(path: Path, text: str):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _save_model_atomic(model, path: Path):
    tmp = path.with_name(path.stem + ".tmp.keras")
    model.save(tmp)
    os.replace(tmp, path)


def default_run_dir(preset: Preset, root="runs") -> Path:
    return Path(root) / f"{preset.name}-{preset.dataset}-{time.strftime('%Y%m%d-%H%M%S')}"


def read_preset(run_dir) -> Preset:
    run_dir = Path(run_dir)
    path = run_dir / "preset.json"
    if not run_dir.is_dir():
        raise RunError(f"run folder {run_dir} does not exist: pass the folder a `train` command wrote (--out)")
    if not path.is_file():
        raise RunError(f"{run_dir} is not a gan_lab run folder: it has no preset.json. "
                       "Pass the folder a `train` command wrote (--out)")
    try:
        return Preset.from_dict(json.loads(path.read_text()))
    except (json.JSONDecodeError, TypeError) as exc:
        raise RunError(f"{path} is corrupt ({exc}); this run cannot be resumed or sampled") from None


def read_state(run_dir) -> dict:
    path = Path(run_dir) / "run_state.json"
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def _check_writable(run_dir: Path):
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write_test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise RunError(f"cannot write to the output folder {run_dir} ({exc.strerror or exc}): "
                       "choose another folder with --out") from None


def build_gan(preset: Preset):
    """Build generator, discriminator, optimizers and the compiled :class:`gan_lab.train.GAN` for a preset."""
    import keras

    from gan_lab.models import build_pair
    from gan_lab.train import GAN

    keras.utils.set_random_seed(preset.seed)
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(resolve_precision(preset.precision))
    try:
        generator, discriminator = build_pair(preset.architecture, preset.noise_dim, preset.spectral_norm,
                                              preset.width)
        gan = GAN(generator, discriminator, noise_dim=preset.noise_dim, d_steps=preset.d_steps, seed=preset.seed,
                  ema_decay=preset.ema_decay, gp_weight=preset.gp_weight)
    finally:
        keras.config.set_dtype_policy(previous_policy)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(preset.d_lr, beta_1=preset.d_beta1, beta_2=preset.d_beta2),
        g_optimizer=keras.optimizers.Adam(preset.g_lr, beta_1=preset.g_beta1, beta_2=preset.g_beta2),
        loss=preset.loss, label_smoothing=preset.label_smoothing, flip_prob=preset.flip_prob)
    return gan


def _fixed_noise(preset: Preset, n: int, offset: int) -> np.ndarray:
    rng = np.random.default_rng(preset.seed + offset)
    return rng.uniform(-1.0, 1.0, size=(n, preset.noise_dim)).astype(np.float32)


def restore_latest(checkpoint, manager, log=print):
    """Restore the newest checkpoint that loads; a truncated/corrupt one is reported and the previous one used.

    Returns the path restored, or None when there is no checkpoint. Raises RunError when checkpoints exist
    but none of them loads.
    """
    candidates = list(reversed(manager.checkpoints))
    errors = []
    for path in candidates:
        try:
            checkpoint.restore(path).assert_existing_objects_matched()
            if errors and log:
                log(f"warning: skipped unusable checkpoint(s): {'; '.join(errors)}; resumed from {path}")
            return path
        except Exception as exc:  # DataLossError, NotFoundError, OpError, AssertionError
            errors.append(f"{Path(path).name} ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})")
    if candidates:
        raise RunError("no usable checkpoint: " + "; ".join(errors) +
                       ". The run cannot be resumed; start a new run")
    return None


def train(preset: Preset, out_dir=None, *, max_steps: int | None = None, max_seconds: float | None = None,
          epochs: int | None = None, resume: bool = False, data_dir=None, verbose=1, deterministic: bool = False,
          callbacks=(), images=None, log=print, strategy=None, tensorboard: bool = False) -> RunResult:
    """Train ``preset`` into the run folder ``out_dir`` and write every output described in this module.

    Args:
        max_steps: stop when the global step reaches this (epochs are raised as needed to get there).
        max_seconds: stop after this much training time in this call (outputs are still written).
        epochs: total epochs (defaults to ``preset.epochs``).
        resume: continue the run in ``out_dir`` from its last checkpoint, with its stored preset.
        images: uint8 (N, 28, 28) training images to use instead of loading ``preset.dataset``.
        callbacks: extra Keras callbacks.
        tensorboard: also log losses and sample grids for TensorBoard in ``RUN_DIR/tensorboard``.
        strategy: a ``tf.distribute.Strategy`` (see :mod:`gan_lab.distribute`); models, optimizers and
            checkpoint variables are created in its scope. With several workers only the chief writes the run
            folder; the others write their (required) checkpoints to a temporary folder that is then deleted.
    """
    import keras
    import tensorflow as tf

    from gan_lab import callbacks as cb
    from gan_lab.data import load_dataset, make_dataset

    from gan_lab.distribute import is_chief

    strategy = strategy or tf.distribute.get_strategy()
    multiworker = isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
    chief = is_chief(strategy)
    if multiworker and max_seconds is not None:
        raise ValueError("max_seconds is not supported with the multiworker strategy (workers must stop at the "
                         "same step): use --max-steps or --epochs")
    if max_steps is not None and max_steps < 0:
        raise ValueError(f"max_steps = {max_steps} is invalid: expected an integer >= 0")
    if max_seconds is not None and max_seconds <= 0:
        raise ValueError(f"max_seconds = {max_seconds} is invalid: expected a number > 0")
    if epochs is not None and epochs < 0:
        raise ValueError(f"epochs = {epochs} is invalid: expected an integer >= 0")

    if resume:
        run_dir = Path(out_dir)
        stored = read_preset(run_dir)
        if preset is not None and preset.replace(epochs=stored.epochs) != stored:
            diff = [k for k, v in preset.to_dict().items() if k != "epochs" and stored.to_dict().get(k) != v]
            raise RunError(f"{run_dir} was trained with preset {stored.name!r}; the settings asked for differ in "
                           f"{', '.join(diff)}. Resume without changing the preset, or start a new run")
        preset = stored
        if not (run_dir / "checkpoints" / "checkpoint").exists():
            raise RunError(f"{run_dir} has no checkpoint to resume from (checkpoints/ is missing or empty)")
    else:
        preset.validate()
        run_dir = Path(out_dir) if out_dir is not None else default_run_dir(preset)
        if (run_dir / "checkpoints" / "checkpoint").exists():
            raise RunError(f"{run_dir} already holds a run: resume it with --resume {run_dir}, "
                           "or choose another folder with --out")
    if chief:
        _check_writable(run_dir)
    public_run_dir = run_dir
    worker_tmp = None
    if not chief:  # non-chief workers: same collective work, throw-away folder
        import shutil
        import tempfile
        worker_tmp = Path(tempfile.mkdtemp(prefix="gan_lab_worker_"))
        if resume:
            shutil.copytree(run_dir, worker_tmp, dirs_exist_ok=True)
        run_dir = worker_tmp
    if deterministic:
        tf.config.experimental.enable_op_determinism()

    from gan_lab.models import is_conditional

    conditional = is_conditional(preset.architecture)
    if images is None:
        images, labels = load_dataset(preset.dataset, "train", data_dir=data_dir)
    elif isinstance(images, tuple):
        images, labels = images
    else:
        labels = None
    if conditional and labels is None:
        raise ValueError(f"preset {preset.name!r} is conditional: pass images=(images, labels)")
    # Full batches only: a small last batch would give BatchNorm noisy statistics for one step per epoch.
    # The order is reshuffled every epoch, so the few images left out of one epoch are used in the next ones.
    full_batches = len(images) >= preset.batch_size
    dataset = make_dataset(images, batch_size=preset.batch_size, output=preset.output, seed=preset.seed,
                           labels=labels if conditional else None, drop_remainder=full_batches)
    steps_per_epoch = len(images) // preset.batch_size if full_batches else 1

    with strategy.scope():
        gan = build_gan(preset)
        fixed_noise = tf.Variable(_fixed_noise(preset, grid_size(preset), 0), trainable=False, name="fixed_noise")
        epoch_var = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        seconds_var = tf.Variable(0.0, dtype=tf.float64, trainable=False, name="seconds")
    tracked = dict(generator=gan.generator, discriminator=gan.discriminator,
                   g_optimizer=gan.g_optimizer, d_optimizer=gan.d_optimizer,
                   rng_state=gan.seed_generator.state, epoch=epoch_var, seconds=seconds_var, fixed_noise=fixed_noise)
    if gan.ema_generator is not None:
        tracked["ema_generator"] = gan.ema_generator
    checkpoint = tf.train.Checkpoint(**tracked)
    manager = tf.train.CheckpointManager(checkpoint, str(run_dir / "checkpoints"), max_to_keep=preset.keep_checkpoints,
                                         checkpoint_name="ckpt")
    resume_step = None
    if resume:
        path = restore_latest(checkpoint, manager, log=log)
        resume_step = gan.step
        if log:
            log(f"resumed {run_dir} from {Path(path).name}: step {resume_step}, epoch {int(epoch_var.numpy())}")
    else:
        _atomic_write_text(run_dir / "preset.json", preset.to_json())

    initial_epoch = int(epoch_var.numpy())
    target_epochs = preset.epochs if epochs is None else epochs
    if max_steps is not None:
        remaining = max(0, max_steps - gan.step)
        target_epochs = max(target_epochs if epochs is not None else 0,
                            initial_epoch + math.ceil(remaining / steps_per_epoch))

    history = cb.HistoryCSV(run_dir / "history.csv", time_offset=float(seconds_var.numpy()), resume_step=resume_step)

    def before_save():
        history.flush()
        seconds_var.assign(history.seconds())

    class EpochCounter(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            epoch_var.assign(epoch + 1)

    grids = cb.SampleGrid(fixed_noise, run_dir / "generated_samples", preset.sample_every, preset.sample_unit,
                          preset.output, labels=grid_labels(preset))
    budget = cb.TrainingBudget(max_steps=max_steps, max_seconds=max_seconds)
    guard = cb.DivergenceGuard()
    # Time-based checkpoints could fire on one worker and not another: multiworker runs save by step only.
    saver = cb.PeriodicCheckpoint(manager, preset.checkpoint_every, None if multiworker else preset.checkpoint_seconds,
                                  before_save, veto=lambda: guard.nonfinite or not weights_finite(gan))
    stopper = cb.StopOnSignal()
    # Order matters: the guard runs before the saver so a NaN step is never checkpointed.
    all_callbacks = [EpochCounter(), history, guard, grids, budget, saver, stopper, *callbacks]
    if tensorboard and chief:
        all_callbacks.append(cb.TensorBoardLogger(run_dir / "tensorboard", grids=grids))

    def write_state(status, reason=""):
        state = {"status": status, "reason": reason, "step": gan.step, "epoch": int(epoch_var.numpy()),
                 "seconds": round(history.seconds(), 3), "preset": preset.name, "dataset": preset.dataset,
                 "noise_dim": preset.noise_dim, "output": preset.output,
                 "precision": resolve_precision(preset.precision)}
        _atomic_write_text(run_dir / "run_state.json", json.dumps(state, indent=2))

    write_state("running")
    if log:
        log(f"training {preset.name} on {preset.dataset} into {run_dir} "
            f"(epochs {initial_epoch}->{target_epochs}, {steps_per_epoch} steps/epoch"
            + (f", max_steps {max_steps}" if max_steps is not None else "")
            + (f", max_seconds {max_seconds:g}" if max_seconds is not None else "") + ")")
    try:
        if target_epochs > initial_epoch and not (max_steps is not None and gan.step >= max_steps):
            gan.fit(dataset, epochs=target_epochs, initial_epoch=initial_epoch, callbacks=all_callbacks,
                    verbose=verbose, shuffle=False)  # the tf.data pipeline shuffles (seeded)
    finally:
        history.close()

    if guard.nonfinite:
        status, reason = "diverged", guard.message
        saver.veto = None
        restored = restore_latest(checkpoint, manager, log=log)
        if restored is None:  # diverged before the first checkpoint: nothing good to keep
            write_state(status, reason)
            raise cb.DivergenceError(reason + " No checkpoint had been written yet.")
    elif guard.message:
        status, reason = "diverged", guard.message
        saver.save()
    elif stopper.received:
        status, reason = "interrupted", f"received {stopper.received}"
        saver.save()
    else:
        status = "stopped" if budget.reason else "finished"
        reason = budget.reason or f"completed {target_epochs} epochs"
        saver.save()
    seconds_var.assign(history.seconds())
    write_outputs(gan, preset, run_dir, fixed_noise.numpy())
    write_state(status, reason)
    if worker_tmp is not None:
        import shutil
        shutil.rmtree(worker_tmp, ignore_errors=True)
        run_dir = public_run_dir
    # the summary is printed even without a progress bar (verbose=0); pass log=... to silence it
    if log:
        log(f"{status}: {reason}. step {gan.step}, {history.seconds():.1f} s of training. Outputs in {run_dir}"
            + ("" if chief else " (written by the chief)"))
        log(f"generator weights fingerprint: {weights_fingerprint(gan.generator, trainable_only=True)} "
            f"(trainable), {weights_fingerprint(gan.generator)} (all, with BatchNorm statistics)")
    if status == "diverged":
        raise cb.DivergenceError(reason + f" The last good checkpoint is kept in {run_dir / 'checkpoints'}.")
    return RunResult(run_dir, gan.step, int(epoch_var.numpy()), history.seconds(), status, reason, gan)


def weights_finite(gan) -> bool:
    """True when every weight of the generator and the discriminator is finite (checked before each save, so a
    checkpoint never stores weights that have already blown up even if the losses still look finite)."""
    return all(bool(np.isfinite(np.asarray(w.numpy(), dtype=np.float64)).all())
               for w in gan.generator.weights + gan.discriminator.weights)


def weights_fingerprint(model, trainable_only: bool = False) -> str:
    """A short hash of a model's weights: equal fingerprints mean bitwise-equal weights (compare workers)."""
    import hashlib

    h = hashlib.sha256()
    for w in (model.trainable_weights if trainable_only else model.weights):
        h.update(np.ascontiguousarray(np.asarray(w.numpy() if hasattr(w, "numpy") else w)).tobytes())
    return h.hexdigest()[:16]


def write_outputs(gan, preset: Preset, run_dir: Path, fixed_noise=None):
    """Final outputs: models, 100 final images and their grid, loss curves, the GIF of the sample grids."""
    from gan_lab.callbacks import history_arrays
    from gan_lab.data import to_unit_range
    from gan_lab.plots import plot_losses, save_gif, save_grid, save_images

    _save_model_atomic(gan.sampler, run_dir / "generator.keras")
    _save_model_atomic(gan.discriminator, run_dir / "discriminator.keras")
    if gan.ema_generator is not None:
        _save_model_atomic(gan.generator, run_dir / "generator_raw.keras")
    final = to_unit_range(gan.generate(FINAL_SAMPLES, noise=_fixed_noise(preset, FINAL_SAMPLES, 1),
                                       labels=grid_labels(preset, per_class=10)), preset.output)
    save_images(final, run_dir / "final_generated_images")
    save_grid(final, run_dir / "final_grid.png", ncols=10)
    hist = history_arrays(run_dir / "history.csv")
    if len(hist.get("step", [])):
        plot_losses(hist, run_dir / "losses.png", title=f"{preset.name} on {preset.dataset}",
                    smooth=max(1, min(50, len(hist["step"]) // 20)))
    grids = sorted((run_dir / "generated_samples").glob("*.png"))
    save_gif(grids, run_dir / "samples.gif")


def load_generator(run_dir):
    """``(preset, generator)`` of a run folder, checking the saved generator matches the preset's noise size."""
    import keras

    run_dir = Path(run_dir)
    preset = read_preset(run_dir)
    path = run_dir / "generator.keras"
    if not path.is_file():
        raise RunError(f"{run_dir} has no generator.keras yet: the run has not finished writing outputs "
                       f"(resume it with `python -m gan_lab train --resume {run_dir}` to finish)")
    try:
        generator = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:
        raise RunError(f"{path} cannot be loaded ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); "
                       "the file is corrupt: resume the run to write it again") from None
    from gan_lab.train import noise_dim_of
    got = noise_dim_of(generator)
    if got != preset.noise_dim:
        raise RunError(f"{path} takes noise of size {got} but preset.json says noise_dim={preset.noise_dim}; "
                       "the generator file does not belong to this run")
    return preset, generator


def sample(run_dir, n: int = 64, seed: int | None = None, batch_size: int = 500, label=None) -> np.ndarray:
    """``n`` images (N, 28, 28) float32 in [0, 1] from a run folder's saved generator.

    For a conditional run, ``label`` (0-9) draws that class; without it the labels cycle 0, 1, ..., 9."""
    from gan_lab.data import to_unit_range
    from gan_lab.train import generate_images

    if n <= 0:
        raise ValueError(f"n = {n} is invalid: expected a positive number of images")
    preset, generator = load_generator(run_dir)
    conditional = len(generator.inputs) > 1
    if label is not None:
        if not conditional:
            raise ValueError(f"--label needs a conditional run (preset cgan); {run_dir} was trained with "
                             f"{preset.name!r}, which draws digits without labels")
        if not 0 <= int(label) <= 9:
            raise ValueError(f"label = {label} is invalid: expected a class 0-9")
    labels = np.arange(n) % 10 if label is None else np.full(n, int(label))
    rng = np.random.default_rng(seed)
    out = []
    for start in range(0, n, batch_size):
        z = rng.uniform(-1.0, 1.0, size=(min(batch_size, n - start), preset.noise_dim)).astype(np.float32)
        out.append(generate_images(generator, z, labels[start:start + len(z)] if conditional else None))
    return to_unit_range(np.concatenate(out), preset.output)
