"""Run folders: where everything a training run produces lives, and the rules for starting and resuming one.

Layout of a run folder (``runs/<preset>-<dataset>-<time>/`` by default)::

    preset.json                  the preset used (every hyperparameter): enough to resume the run
    run_state.json               status, reason, step, epoch, seconds of training, precision
    history.csv                  one row per step: step, epoch, seconds, d_loss, g_loss, real_score, fake_score
    losses.png                   loss curves
    generated_samples/           grids of the same fixed noise: epoch_0005.png or step_000250.png
    samples.gif                  those grids as an animation
    final_generated_images/      img_000.png ... img_099.png
    final_grid.png               the 100 final images as one picture
    generator.keras, discriminator.keras   (generator.keras is the EMA generator when ema_decay > 0;
                                           the raw one is then generator_raw.keras)
    checkpoints/                 ckpt-<step>.*: models, optimizers (their step counter is the run's global
                                 step), the sampling RNG state, seconds of training
    cluster_labels.npz           self-conditioned runs (clusters, class_clusters): the images' k-means labels
                                 and the fingerprint of the data they were computed from, so a resume on the
                                 same data reads them instead of running k-means again

The rules: a new run never starts in a folder that holds one; a run resumes from its newest readable
checkpoint with the preset stored in ``preset.json`` (whatever preset or notebook made it); a damaged
checkpoint is skipped with a warning, and when none is readable nothing in the folder is changed.
``status`` in ``run_state.json`` is one of ``running``, ``finished`` (all epochs), ``stopped`` (``max_steps``
or ``max_seconds`` reached), ``interrupted`` (a signal), ``diverged``.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

import gan_lab.models  # noqa: F401  registers gan_lab's own layers, which saved .keras files may hold
from gan_lab.data import class_names, dataset_label
from gan_lab.files import atomic_write, atomic_write_json
from gan_lab.presets import Preset
from gan_lab.sampling import noise_dim_of, num_classes_of, sample as sample_images

MAX_SAMPLES = 1_000_000  # `gan-lab sample --n`: more would not fit in memory as float32 28×28 images


class RunError(ValueError):
    """A run folder is missing, not a run, damaged, or incompatible with what was asked."""


@dataclass
class RunResult:
    run_dir: Path
    step: int
    epoch: int
    seconds: float
    status: str                 # finished | stopped | interrupted | diverged | nothing to train
    reason: str = ""
    gan: object = field(default=None, repr=False)


class Run:
    """A run folder (see the module docstring): its paths, its preset and state files, its checkpoints."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.preset_path = self.folder / "preset.json"
        self.state_path = self.folder / "run_state.json"
        self.history_path = self.folder / "history.csv"
        self.samples_dir = self.folder / "generated_samples"
        self.checkpoint_dir = self.folder / "checkpoints"
        self.cluster_labels_path = self.folder / "cluster_labels.npz"

    def __repr__(self):
        return f"Run({str(self.folder)!r})"

    @staticmethod
    def default_folder(preset: Preset, root="runs") -> Path:
        return Path(root) / f"{preset.name}-{dataset_label(preset.dataset)}-{time.strftime('%Y%m%d-%H%M%S')}"

    # --- the rules ------------------------------------------------------------------------------------
    def refuse_existing(self):
        """A new run must not start on top of another one."""
        if self.preset_path.exists() or self.checkpoint_prefixes():
            raise RunError(f"{self.folder} already holds a run: resume it with --resume {self.folder}, "
                           "or choose another folder with --out")

    def read_preset(self) -> Preset:
        """The validated preset in ``preset.json``; errors name the file and what to do."""
        if not self.folder.is_dir():
            raise RunError(f"run folder {self.folder} does not exist: pass the folder a `train` command wrote "
                           "(--out)")
        if not self.preset_path.is_file():
            raise RunError(f"{self.folder} is not a gan_lab run folder: it has no preset.json. "
                           "Pass the folder a `train` command wrote (--out)")
        try:
            return Preset.from_dict(json.loads(self.preset_path.read_text(encoding="utf-8"))).validate()
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError, ValueError) as exc:
            raise RunError(f"{self.preset_path} is damaged ({str(exc).splitlines()[0]}); this run cannot be "
                           "resumed or sampled") from None

    def preset_for_resume(self, asked: Preset | None = None, changes: dict | None = None) -> Preset:
        """The stored preset with ``changes`` (the fields a resume may change: ``epochs``); ``asked``, when given,
        must equal the stored preset but for ``epochs``."""
        stored = self.read_preset()
        if asked is not None and asked.replace(epochs=stored.epochs) != stored:
            diff = [k for k, v in asked.to_dict().items() if k != "epochs" and stored.to_dict().get(k) != v]
            raise RunError(f"{self.folder} was trained with preset {stored.name!r}; the settings asked for "
                           f"differ in {', '.join(diff)}. Resume without changing the preset, or start a new run")
        return stored.replace(**(changes or {}))

    def check_writable(self):
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            probe = self.folder / ".write_test"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise RunError(f"cannot write to the output folder {self.folder} ({exc.strerror or exc}): "
                           "choose another folder with --out") from None

    # --- files ----------------------------------------------------------------------------------------
    def write_preset(self, preset: Preset):
        atomic_write_json(self.preset_path, preset.to_dict())

    def write_state(self, **state):
        atomic_write_json(self.state_path, state)

    def read_cluster_labels(self, fingerprint: str):
        """The k-means labels stored for the data with this fingerprint (:func:`data_fingerprint`), or None when
        there are none, they were computed from other data, or the file is damaged."""
        try:
            with np.load(self.cluster_labels_path) as stored:
                return stored["labels"] if str(stored["fingerprint"]) == fingerprint else None
        except (OSError, KeyError, ValueError, EOFError):
            return None

    def write_cluster_labels(self, fingerprint: str, labels):
        atomic_write(self.cluster_labels_path,
                     lambda tmp: np.savez(tmp, labels=np.asarray(labels), fingerprint=fingerprint))

    # --- checkpoints ----------------------------------------------------------------------------------
    def checkpoint_prefixes(self) -> list[Path]:
        """Every ``ckpt-<step>`` this folder holds (an ``.index`` file is written last), newest first."""
        found = []
        for index in self.checkpoint_dir.glob("ckpt-*.index"):
            match = re.fullmatch(r"ckpt-(\d+)\.index", index.name)
            if match:
                found.append((int(match.group(1)), index.with_suffix("")))
        return [prefix for _, prefix in sorted(found, reverse=True)]

    def checkpoint_manager(self, checkpoint, keep: int):
        return tf.train.CheckpointManager(checkpoint, str(self.checkpoint_dir), max_to_keep=keep,
                                          checkpoint_name="ckpt")

    def restore(self, checkpoint, log=print) -> Path:
        """Restore the newest checkpoint that loads. Damaged ones (truncated files, a corrupt index) are
        skipped and named; when none loads, RunError names them and nothing in the folder has changed."""
        prefixes = self.checkpoint_prefixes()
        if not prefixes:
            raise RunError(f"{self.folder} has no checkpoint to resume from (checkpoints/ is missing or empty)")
        errors = []
        for prefix in prefixes:
            try:
                checkpoint.restore(str(prefix)).assert_existing_objects_matched()
            except Exception as exc:  # DataLossError, NotFoundError, OpError, AssertionError, ...
                errors.append(f"{prefix.name} ({type(exc).__name__}: {str(exc).strip().splitlines()[0][:120]})")
                continue
            if errors and log:
                log(f"warning: skipped unusable checkpoint(s): {'; '.join(errors)}; resumed from {prefix.name}")
            return prefix
        raise RunError(f"no usable checkpoint in {self.checkpoint_dir}: " + "; ".join(errors)
                       + ". The run cannot be resumed; start a new run (nothing in the folder was changed)")


def data_fingerprint(*arrays, **settings) -> str:
    """A SHA-256 of the arrays' shapes, dtypes and bytes and of ``settings``: the same data and settings give the
    same string."""
    digest = hashlib.sha256(repr(sorted(settings.items())).encode())
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.shape}{array.dtype}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


# --- using a finished (or interrupted) run ----------------------------------------------------------------

def load_generator(run_dir):
    """``(preset, generator)`` of a run folder, checking the saved generator matches the preset's noise size."""
    run = Run(run_dir)
    preset = run.read_preset()
    path = run.folder / "generator.keras"
    if not path.is_file():
        raise RunError(f"{run.folder} has no generator.keras yet: the run has not finished writing outputs "
                       f"(resume it with `gan-lab train --resume {run.folder}` to finish)")
    try:
        generator = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:
        raise RunError(f"{path} cannot be loaded ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); "
                       "the file is corrupt: resume the run to write it again") from None
    got = noise_dim_of(generator)
    if got != preset.noise_dim:
        raise RunError(f"{path} takes noise of size {got} but preset.json says noise_dim={preset.noise_dim}; "
                       "the generator file does not belong to this run")
    return preset, generator


def sample(run_dir, n: int = 64, seed: int | None = None, label=None) -> np.ndarray:
    """``n`` images float32 in [0, 1] from a run folder's saved generator.

    For a conditional run of K classes, ``label`` (0 .. K-1) draws that class; without it the labels cycle
    0, 1, ..., K-1."""
    if isinstance(n, bool) or not 0 < n <= MAX_SAMPLES:
        raise ValueError(f"n = {n} is invalid: expected a number of images from 1 to {MAX_SAMPLES:,}")
    preset, generator = load_generator(run_dir)
    if label is not None:
        if not preset.conditional:
            raise ValueError(f"--label needs a conditional run (presets cgan, fast, cgan32, cgan64); {run_dir} was "
                             f"trained with {preset.name!r}, which draws images without labels")
        label = class_index(preset, num_classes_of(generator), label)
    return sample_images(generator, n, seed=seed, labels=label, output=preset.output)


def class_index(preset: Preset, classes: int, label) -> int:
    """The class number of ``label`` for a conditional run of ``classes`` classes: a number 0 .. classes-1 (an
    int, or text of digits), or the name of one of its data's classes (a class folder's sub-folder name, see
    :func:`gan_lab.data.class_names`)."""
    names = class_names(preset.dataset)
    names = names if len(names) == classes else []  # the folder changed since: its names may not match
    known = f" or one of its class names ({', '.join(names)})" if names else ""
    text = str(label).strip()
    if text in names:
        return names.index(text)
    if not re.fullmatch(r"\d+", text) or int(text) >= classes:
        raise ValueError(f"label = {label!r} is invalid: expected a class from 0 to {classes - 1}{known} (the run "
                         f"was trained on {classes} classes)")
    return int(text)
