"""Training a preset into a run folder: :func:`train`, read top to bottom.

    preset and folder → data → model and checkpoint → (resume) → how far to go → fit with callbacks
    → final checkpoint → outputs (models, images, curves) → run_state.json

The folder's rules live in :mod:`gan_lab.runs`, the model and its update in :mod:`gan_lab.gan`, the
callbacks in :mod:`gan_lab.callbacks`, what several workers do differently in :mod:`gan_lab.distribute`.
Position is the *global step* (generator updates), stored in every checkpoint; the epoch is derived from it
(``step // steps_per_epoch``), so a run stopped in the middle of an epoch resumes exactly where it was.
"""
from __future__ import annotations

import hashlib
import math
import time
import warnings

import numpy as np
import tensorflow as tf

from gan_lab import callbacks as cb
from gan_lab import distribute
from gan_lab.clusters import LABELS_VERSION, cluster_frequencies, cluster_labels
from gan_lab.data import (check_not_empty, dataset_label, default_cache_dir, load_dataset, resolve_dataset,
                          steps_per_epoch, to_unit_range, training_batches)
from gan_lab.files import atomic_save_model, atomic_write
from gan_lab.gan import build_gan, check_lazy_r1
from gan_lab.plots import plot_losses, save_gif, save_grid, save_images
from gan_lab.presets import Preset, resolve_precision
from gan_lab.runs import Run, RunError, RunResult, data_fingerprint
from gan_lab.sampling import generate, uniform_noise

GRID_PER_CLASS = 8      # conditional grids: one row of 8 per class ...
GRID_ROWS = 10          # ... for the first 10 classes (the final grid: 10 rows of 10, row r shows class r mod K)
GRID_SAMPLES = 64       # unconditional grids: 8 × 8
FINAL_SAMPLES = 100


def train(preset: Preset | None, out_dir=None, *, max_steps: int | None = None, max_seconds: float | None = None,
          epochs: int | None = None, resume: bool = False, data_dir=None, images=None, verbose=1,
          deterministic: bool = False, callbacks=(), tensorboard: bool = False, strategy=None, log=print,
          clock=time.perf_counter) -> RunResult:
    """Train ``preset`` into the run folder ``out_dir`` (default ``runs/<preset>-<dataset>-<time>``).

    Args:
        max_steps: stop when the global step reaches this; else train ``epochs`` (default ``preset.epochs``).
        max_seconds: stop after this much training time in this call (the outputs are still written).
        resume: continue the run in ``out_dir`` from its newest readable checkpoint, with the preset stored
            there (``preset`` may be None; if given it must match). ``epochs`` may be raised.
        images: uint8 training images (N, H, W) or (N, H, W, C) of the preset's shape to use instead of loading
            ``preset.dataset``, or ``(images, labels)`` for a conditional preset.
        data_dir: where the data is (for ``dataset="folder"``: the folder of pictures itself; the run then
            records ``folder:<absolute path>`` as its dataset).
        callbacks: extra Keras callbacks. ``tensorboard``: also log to ``RUN/tensorboard``.
        verbose: 1 a progress bar over the whole run (global step / target step), 2 Keras's line per epoch, 0
            nothing.
        strategy: a ``tf.distribute.Strategy`` (:mod:`gan_lab.distribute`).
        clock: the time source of the time budget, checkpoint timer and history (tests inject one).

    Returns a :class:`gan_lab.runs.RunResult`. Raises :class:`gan_lab.callbacks.DivergenceError` when the
    losses diverged (the last good checkpoint is kept) and :class:`gan_lab.runs.RunError` for folder problems.
    """
    strategy = strategy or tf.distribute.get_strategy()
    _check_budget(max_steps, max_seconds, epochs)
    distribute.check_budget(strategy, max_seconds)
    if preset is not None:
        check_lazy_r1(preset.r1_weight, preset.r1_every, strategy.num_replicas_in_sync)
    if preset is not None and images is None:
        preset = preset.replace(dataset=resolve_dataset(preset.dataset, data_dir))
    run, preset = _open_run(preset, out_dir, resume, epochs)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    preset, images, labels, new_clusters = _training_data(preset, images, data_dir, bool(verbose), run)
    per_epoch = steps_per_epoch(len(images), preset.batch_size)
    target = max_steps if max_steps is not None else preset.epochs * per_epoch

    with distribute.folder_for_this_worker(run.folder, strategy, resume) as folder:
        local = Run(folder)  # the run folder itself, except on non-chief workers
        with strategy.scope():
            gan = build_gan(preset, _cluster_shares(preset, labels))
            seconds = tf.Variable(0.0, dtype=tf.float64, trainable=False, name="seconds")
        checkpoint = tf.train.Checkpoint(**_tracked(gan, seconds))
        if resume:
            restored = local.restore(checkpoint, log=log)
            if log:
                log(f"resumed {run.folder} from {restored.name}: step {gan.step}, epoch {gan.step // per_epoch}")
        if gan.step >= target:
            if log:
                log(f"already at step {gan.step} (target step {target}): nothing to train"
                    + ("" if resume else "; no run folder written"))
            return RunResult(run.folder, gan.step, gan.step // per_epoch, float(seconds.numpy()), "nothing to train")
        if not resume and distribute.is_chief(strategy):
            run.check_writable()
        if not resume or epochs is not None:  # a resume may raise the epochs: later resumes keep them
            local.write_preset(preset)
        if new_clusters:  # k-means ran: keep its labels for the next resume
            local.write_cluster_labels(new_clusters, labels)

        watch = _Callbacks(gan, preset, local, checkpoint, seconds, per_epoch, target, max_seconds, strategy,
                           resume, clock, tensorboard, verbose)
        if log:
            log(f"training {preset.name} on {dataset_label(preset.dataset)} into {run.folder}: step {gan.step} -> {target} "
                f"({per_epoch} steps/epoch" + (f", max_seconds {max_seconds:g}" if max_seconds is not None else "")
                + (f", labels: {preset.clusters} k-means clusters of the images" if preset.clusters else "")
                + (f", labels: {preset.class_clusters} k-means clusters per class" if preset.class_clusters else "")
                + ")")
        with watch.stopper:
            watch.write_state("running")
            try:
                gan.fit(training_batches(images, preset.batch_size, preset.output, preset.seed, labels, gan.step),
                        steps_per_epoch=per_epoch, initial_epoch=gan.step // per_epoch,
                        epochs=math.ceil(target / per_epoch), callbacks=[*watch.all, *callbacks],
                        verbose=0 if verbose == 1 else verbose,  # 1: our bar over the whole run, not per epoch
                        shuffle=False)  # training_batches orders the data (seeded, by step)
                status, reason = _outcome(watch, gan.step, target, max_steps)
                watch.final_checkpoint(reason, log)
                seconds.assign(watch.history.seconds())
                write_outputs(gan, preset, local)
                watch.write_state(status, reason)
            except KeyboardInterrupt as exc:  # a second Ctrl-C / SIGTERM while saving
                watch.write_state("interrupted", f"{exc}; resume from the last checkpoint with --resume {run.folder}")
                raise
            except cb.CheckpointWriteError as exc:
                watch.write_state("interrupted", str(exc))
                raise RunError(str(exc)) from None
            finally:
                watch.history.close()

    if log:
        log(f"{status}: {reason}. step {gan.step}, {watch.history.seconds():.1f} s of training. Outputs in "
            f"{run.folder}" + ("" if distribute.is_chief(strategy) else " (written by the chief)"))
        log(f"generator weights fingerprint: {weights_fingerprint(gan.generator, trainable_only=True)} "
            f"(trainable), {weights_fingerprint(gan.generator)} (all, with BatchNorm statistics)")
    if status == "diverged":
        raise cb.DivergenceError(reason + f" The last good checkpoint is kept in {run.checkpoint_dir}.")
    return RunResult(run.folder, gan.step, gan.step // per_epoch, watch.history.seconds(), status, reason, gan)


def _open_run(preset, out_dir, resume, epochs) -> tuple[Run, Preset]:
    """The run folder and the preset to train: a new run's (validated; the folder must not hold a run), or
    the stored one of the run to resume (``epochs`` may be raised, nothing else changed)."""
    if resume:
        run = Run(out_dir)
        return run, run.preset_for_resume(preset, {} if epochs is None else {"epochs": epochs})
    preset.validate()
    run = Run(out_dir if out_dir is not None else Run.default_folder(preset))
    run.refuse_existing()
    return run, preset


class _Callbacks:
    """The callbacks that watch a run — history, divergence guard, sample grids, budget, checkpoints,
    signals (and TensorBoard) — in the order they must run, and the run-state and final-checkpoint rules
    that use them."""

    def __init__(self, gan, preset, run: Run, checkpoint, seconds, per_epoch, target, max_seconds, strategy,
                 resume, clock, tensorboard, verbose):
        self.gan, self.preset, self.run, self.checkpoint, self.per_epoch = gan, preset, run, checkpoint, per_epoch
        self.history = cb.HistoryCSV(run.history_path, time_offset=float(seconds.numpy()),
                                     resume_step=gan.step if resume else None, steps_per_epoch=per_epoch,
                                     clock=clock)
        self.guard = cb.DivergenceGuard(preset.loss)
        self.grids = cb.SampleGrid(uniform_noise(_grid_size(preset), preset.noise_dim, preset.seed),
                                   run.samples_dir, preset.sample_every, preset.sample_unit, preset.output,
                                   labels=_row_labels(preset, _grid_rows(preset), GRID_PER_CLASS),
                                   steps_per_epoch=per_epoch)
        self.budget = cb.TrainingBudget(max_steps=target, max_seconds=max_seconds, clock=clock)

        def before_save():
            self.history.flush()
            seconds.assign(self.history.seconds())

        self.saver = cb.PeriodicCheckpoint(run.checkpoint_manager(checkpoint, preset.keep_checkpoints),
                                           preset.checkpoint_every,
                                           distribute.checkpoint_seconds(strategy, preset.checkpoint_seconds),
                                           before_save, clock=clock,
                                           veto=lambda: self.guard.nonfinite or not weights_finite(gan))
        self.stopper = cb.StopOnSignal()
        # Order matters: the guard runs before the saver so a NaN step is never checkpointed.
        self.all = [self.history, self.guard, self.grids, self.budget, self.saver, self.stopper]
        if tensorboard and distribute.is_chief(strategy):
            self.all.append(cb.TensorBoardLogger(run.folder / "tensorboard", grids=self.grids))
        if verbose == 1:
            self.all.append(cb.ProgressBar(target))

    def write_state(self, status, reason=""):
        preset = self.preset
        self.run.write_state(status=status, reason=reason, step=self.gan.step, epoch=self.gan.step // self.per_epoch,
                             seconds=round(self.history.seconds(), 3), preset=preset.name, dataset=preset.dataset,
                             noise_dim=preset.noise_dim, output=preset.output,
                             precision=resolve_precision(preset.precision))

    def final_checkpoint(self, reason, log):
        """Save the last step, or after NaN/Inf losses go back to the last checkpoint (saved before them)."""
        if not self.guard.nonfinite:
            self.saver.save()
            return
        try:
            self.run.restore(self.checkpoint, log=log)
        except RunError:
            self.write_state("diverged", reason)
            raise cb.DivergenceError(reason + " No checkpoint had been written yet.") from None


def _check_budget(max_steps, max_seconds, epochs):
    if max_steps is not None and (isinstance(max_steps, bool) or max_steps < 0):
        raise ValueError(f"max_steps = {max_steps} is invalid: expected an integer >= 0")
    if max_seconds is not None and not (math.isfinite(max_seconds) and max_seconds > 0):
        raise ValueError(f"max_seconds = {max_seconds} is invalid: expected a finite number > 0")
    if epochs is not None and (isinstance(epochs, bool) or epochs < 0):
        raise ValueError(f"epochs = {epochs} is invalid: expected an integer >= 0")


def _training_data(preset: Preset, images, data_dir, verbose: bool = True, run: Run | None = None):
    """``(preset, images, labels, new_clusters)``: the data set's labels for a conditional preset (with
    ``class_clusters``: clusters within each class) and the preset with their class count
    (:func:`_with_data_classes`), the images' k-means clusters for a self-conditioned one (``clusters``), else
    None. k-means labels that ``run`` stored for the same data (its fingerprint: images, class labels, k, seed)
    are read instead of computed again, else those of the cache folder (:func:`_kmeans_labels`); ``new_clusters``
    is that fingerprint when the run folder lacked them (they are then to be stored there), else None."""
    if images is None:
        images, labels = load_dataset(preset.dataset, "train", data_dir=data_dir, image_size=preset.image_size,
                                      channels=preset.channels, verbose=verbose)
    elif isinstance(images, tuple):
        images, labels = images
    else:
        labels = None
    shape = np.shape(images)
    if tuple(shape[1:3]) != preset.image_shape[:2] or (shape[3:] or (1,))[0] != preset.channels:
        raise ValueError(f"the images have shape {tuple(shape)} but preset {preset.name!r} draws "
                         f"{'×'.join(map(str, preset.image_shape))} images: pass images of that shape or set "
                         "image_size / channels (--image-size, --channels) to the data's")
    if preset.conditional:
        preset = _with_data_classes(preset, labels)
    images = check_not_empty(images)
    if not (preset.clusters or preset.class_clusters):
        return preset, images, labels if preset.conditional else None, None
    # self-conditioned: the labels are k-means clusters of the images (the data's are unused), or of each class
    classes = labels if preset.class_clusters else None
    key = data_fingerprint(images, np.zeros(0) if classes is None else classes, seed=preset.seed,
                           clusters=preset.clusters, class_clusters=preset.class_clusters)
    stored = run.read_cluster_labels(key) if run else None
    if stored is not None:
        return preset, images, stored, None
    return preset, images, _kmeans_labels(images, preset, classes, key, verbose), key


def _kmeans_labels(images, preset: Preset, classes, key: str, verbose: bool = False):
    """:func:`cluster_labels` of the images, computed once per data, k and seed on this machine: kept in the cache
    folder (:func:`default_cache_dir`, beside decoded picture folders) as ``clusters-v<version>-<key>.npy``, so a
    new run on the same data starts without the seconds k-means takes (about 16 s for MNIST into 100 clusters on
    2 cores); a version of gan_lab whose k-means gives other labels (``LABELS_VERSION``) computes them anew."""
    path = default_cache_dir() / f"clusters-v{LABELS_VERSION}-{key}.npy"
    try:
        labels = np.load(path)
        if labels.shape == (len(images),):
            return labels
    except (OSError, ValueError, EOFError):
        pass  # not computed yet, or a damaged file: compute again
    if verbose:
        print(f"k-means: {preset.clusters or preset.class_clusters} clusters "
              f"{'within each class ' if classes is not None else ''}of {len(images):,} images, once for this "
              f"data, k and seed (kept in {path.parent})", flush=True)
    labels = cluster_labels(images, preset.clusters or preset.class_clusters, preset.seed, classes=classes)
    try:
        atomic_write(path, lambda tmp: np.save(tmp, labels))
    except OSError as exc:  # a read-only home: k-means runs again next time
        warnings.warn(f"cannot keep the k-means labels in {path.parent} ({exc.strerror or exc}); set "
                      "GAN_LAB_CACHE_DIR to a writable folder to compute them only once", stacklevel=2)
    return labels


def _with_data_classes(preset: Preset, labels) -> Preset:
    """The conditional ``preset`` with ``num_classes`` = the data's class count k (labels 0 .. k-1, k >= 2): its
    label embeddings, its fakes' labels and its grids use k. A preset (or a resumed run) that already names
    another count is refused: the models' label embeddings would not fit the data."""
    if labels is None:
        raise ValueError(f"preset {preset.name!r} is conditional: pass images=(images, labels)")
    classes = int(np.max(labels)) + 1 if len(labels) else 0
    data = dataset_label(preset.dataset)
    if classes < 2:
        raise ValueError(f"preset {preset.name!r} is conditional and needs at least 2 classes, but {data} has "
                         f"{classes}: for a folder, put the pictures in one sub-folder per class; without classes, "
                         "train an unconditional preset (fast64, fast32)")
    if preset.num_classes not in (0, classes):
        raise ValueError(f"preset {preset.name!r} has num_classes = {preset.num_classes} but {data} has {classes} "
                         "classes: a run keeps the classes it started with (train a new run on this data, or "
                         "set --num-classes 0 to count them)")
    updated = preset.replace(num_classes=classes)
    updated.validate()
    return updated


def _cluster_shares(preset: Preset, labels):
    """The clusters' shares of the training images (one row per class with ``class_clusters``), or None."""
    if preset.clusters:
        return cluster_frequencies(labels, preset.clusters)
    if preset.class_clusters:
        return cluster_frequencies(labels, preset.class_clusters, classes=preset.num_classes)
    return None


def _tracked(gan, seconds) -> dict:
    """What a checkpoint holds: every weight, both optimizers (their step counters: the global step), the
    random-generator states (``generate()``'s, and the dropout layers' — Keras keeps them out of a model's
    checkpoint, so without them a resumed run would drop other units) and the training time."""
    layer_rng = [v for model in (gan.generator, gan.discriminator) for v in model.non_trainable_variables
                 if v.path.endswith("seed_generator_state")]
    tracked = dict(generator=gan.generator, discriminator=gan.discriminator, g_optimizer=gan.g_optimizer,
                   d_optimizer=gan.d_optimizer, rng_state=gan.seed_generator.state, layer_rng_states=layer_rng,
                   seconds=seconds)
    if gan.ema_generator is not None:
        tracked["ema_generator"] = gan.ema_generator
    if gan.code_head is not None:
        tracked["code_head"] = gan.code_head
    if gan.recon_head is not None:
        tracked["recon_head"] = gan.recon_head
    return tracked


def _outcome(watch: _Callbacks, step, target, max_steps) -> tuple[str, str]:
    """``(status, reason)`` of a run that has stopped training."""
    if watch.guard.message:
        return "diverged", watch.guard.message
    if watch.stopper.received:
        return "interrupted", f"received {watch.stopper.received}"
    if step >= target and max_steps is None:
        return "finished", f"completed the epochs ({target} steps)"
    if step >= target:
        return "stopped", f"reached max_steps={max_steps}"
    return "stopped", watch.budget.reason or "a callback stopped training"


def _grid_size(preset: Preset) -> int:
    return _grid_rows(preset) * GRID_PER_CLASS if preset.conditional else GRID_SAMPLES


def _grid_rows(preset: Preset) -> int:
    """Rows of a conditional run's sample grids: one per class, at most GRID_ROWS (the first classes)."""
    return min(preset.num_classes, GRID_ROWS)


def _row_labels(preset: Preset, rows: int, per_row: int):
    """Labels of a grid of ``rows`` × ``per_row`` samples for a conditional preset (row r shows class r modulo
    the class count), else None."""
    return np.repeat(np.arange(rows) % preset.num_classes, per_row) if preset.conditional else None


def write_outputs(gan, preset: Preset, run: Run):
    """Final outputs: models, 100 final images and their grid, loss curves, the GIF of the sample grids."""
    atomic_save_model(gan.sampler, run.folder / "generator.keras")
    atomic_save_model(gan.discriminator, run.folder / "discriminator.keras")
    if gan.ema_generator is not None:
        atomic_save_model(gan.generator, run.folder / "generator_raw.keras")
    noise = uniform_noise(FINAL_SAMPLES, preset.noise_dim, preset.seed + 1)
    final = to_unit_range(generate(gan.sampler, noise, _row_labels(preset, GRID_ROWS, FINAL_SAMPLES // GRID_ROWS)), preset.output)
    save_images(final, run.folder / "final_generated_images")
    save_grid(final, run.folder / "final_grid.png", ncols=10)
    hist = cb.history_arrays(run.history_path)
    if len(hist.get("step", [])):
        plot_losses(hist, run.folder / "losses.png", title=f"{preset.name} on {dataset_label(preset.dataset)}",
                    smooth=max(1, min(50, len(hist["step"]) // 20)))
    save_gif(sorted(run.samples_dir.glob("*.png")), run.folder / "samples.gif")


def weights_finite(gan) -> bool:
    """True when every weight of the generator and the discriminator is finite (checked before each save, so a
    checkpoint never stores weights that have already blown up even if the losses still look finite)."""
    return all(bool(np.isfinite(np.asarray(w.numpy(), dtype=np.float64)).all())
               for w in gan.generator.weights + gan.discriminator.weights)


def weights_fingerprint(model, trainable_only: bool = False) -> str:
    """A short hash of a model's weights: equal fingerprints mean bitwise-equal weights (compare workers)."""
    h = hashlib.sha256()
    for w in (model.trainable_weights if trainable_only else model.weights):
        h.update(np.ascontiguousarray(np.asarray(w.numpy())).tobytes())
    return h.hexdigest()[:16]
