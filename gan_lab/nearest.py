"""The training pictures nearest to a generator's samples: what the samples resemble, and whether they are copies.

The scores of :mod:`gan_lab.evaluation` compare the samples with real pictures as two sets; none of them can
tell a generator that draws new pictures from one that returns its training pictures (the reference pictures
of a folder are training pictures too). Looking at each sample beside the training pictures nearest to it is
how GAN papers check that (e.g. Brock et al. 2019, BigGAN, appendix; Karras et al. 2018, ProGAN, figure
with nearest neighbours), and Alaa et al. 2022's *authenticity* turns it into a number
(:func:`gan_lab.metrics.authenticity`), read against the same number for real pictures
(:func:`gan_lab.metrics.authenticity_floor`).

- :func:`training_pictures` — a data set's training pictures at a run's image shape, with their names (the
  file names of a folder, so the neighbours of an emoji sample read "red heart").
- :func:`nearest_training` — samples, their k nearest training pictures and distances, and authenticity.
- :func:`save_nearest_grid` — one row per sample: the sample, then its neighbours, nearest first.
- ``gan-lab nearest RUN --out nearest.png`` — :func:`run_nearest_command`.

Distances are Euclidean, between pixels (``space="pixels"``: what the eye compares, as the papers show them)
or between the features of gan_lab's fixed random network (``space="features"``, :mod:`gan_lab.embeddings`:
pooled statistics, blind to where things are in the picture).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from gan_lab import sampling
from gan_lab.data import (dataset_label, find_celeba, folder_picture_names, is_folder, load_dataset,
                          normalize_name)
from gan_lab.embeddings import random_features
from gan_lab.files import atomic_write_json
from gan_lab.metrics import authenticity, authenticity_floor, nearest_neighbours
from gan_lab.plots import image_grid
from gan_lab.runs import load_generator

SPACES = ("pixels", "features")
FLOOR_QUERIES = 1000      # training pictures left out in turn for the real-data floor (all of a smaller set)
MAX_SAMPLE_BYTES = 4 * 10**9  # the samples held at once (float32): n is refused beyond this
GAP = 6                   # pixels between the samples and their neighbours in the grid (before scaling)
SPACE_WORDS = {"pixels": "pixels", "features": "random-network features"}
SCORE_LABELS = (("authenticity", "authenticity"), ("median_distance", "distance to nearest"),
                ("median_ratio", "distance / neighbour's own"))


@dataclass
class Nearest:
    """What :func:`nearest_training` found (pictures float32 in [0, 1], (N, H, W, C))."""

    samples: np.ndarray          # (M, H, W, C) the samples, the first ``rows`` of which are shown
    neighbours: np.ndarray       # (rows, k) indices into the training pictures, nearest first
    distances: np.ndarray        # (rows, k) their distances
    names: list                  # the training pictures' names (file names of a folder, else "#i (label y)")
    train: np.ndarray            # (N, H, W, C) uint8 training pictures
    scores: dict                 # {"authenticity", "median_ratio", "median_distance"} of all M samples
    floor: dict                  # the same for training pictures each left out in turn


def training_pictures(dataset: str, image_shape) -> tuple[np.ndarray, list]:
    """``(pictures uint8 (N, H, W, C), names)``: the training split of ``dataset`` fitted to ``image_shape``
    (H, W, C) as a run trains on it, and a name for each (a folder's file names relative to it when all of
    its files could be read, else ``"#i"``; data with labels: ``"#i (label y)"``)."""
    dataset = normalize_name(dataset)
    size, channels = int(image_shape[0]), int(image_shape[-1])
    images, labels = load_dataset(dataset, "train", image_size=size, channels=channels, verbose=False)
    names = None
    if is_folder(dataset) or dataset == "celeba":
        folder = find_celeba() if dataset == "celeba" else Path(dataset.split(":", 1)[1])
        names = folder_picture_names(folder)
        names = names if len(names) == len(images) else None  # some files were unreadable: no names
    if names is None:
        has_labels = len(np.unique(labels)) > 1
        names = [f"#{i} (label {y})" if has_labels else f"#{i}" for i, y in enumerate(labels)]
    return images, names


def _embed(pictures, space: str) -> np.ndarray:
    """Pictures in [0, 1] → the rows distances are measured between."""
    if space == "pixels":
        return np.asarray(pictures, np.float32).reshape(len(pictures), -1)
    return random_features(pictures)


def _check(name, value, least):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise ValueError(f"{name} = {value!r} is invalid: expected a whole number >= {least}")


def nearest_training(generator, dataset: str, output: str = "tanh", n: int = 1000, rows: int = 8, k: int = 5,
                     space: str = "pixels", seed: int = 0) -> Nearest:
    """Draw ``n`` samples from a Keras ``generator`` (uniform noise from ``seed``; a conditional one cycles
    its classes), find the ``k`` training pictures of ``dataset`` nearest to the first ``rows`` of them, and
    score all ``n`` with :func:`gan_lab.metrics.authenticity` against the floor of real pictures
    (:func:`gan_lab.metrics.authenticity_floor`, up to :data:`FLOOR_QUERIES` of them left out in turn).

    ``output`` is the generator's last activation (``preset.output``); ``space`` is ``"pixels"`` or
    ``"features"`` (see the module docstring). Raises ValueError for a bad value, naming it."""
    if space not in SPACES:
        raise ValueError(f"space = {space!r} is invalid: expected one of {', '.join(SPACES)}")
    for name, value, least in (("n", n, 1), ("rows", rows, 1), ("k", k, 1)):
        _check(name, value, least)
    if rows > n:
        raise ValueError(f"rows = {rows} is invalid: expected at most n = {n} (the rows show the first samples)")
    pixels = int(np.prod(generator.outputs[0].shape[1:]))
    if n * pixels * 4 > MAX_SAMPLE_BYTES:
        raise ValueError(f"n = {n} is invalid: {n:,} samples of {pixels:,} values take {n * pixels * 4 / 1e9:.1f} GB; "
                         f"expected at most {MAX_SAMPLE_BYTES // (pixels * 4):,} for this generator (a few "
                         "thousand are plenty for authenticity)")
    samples = sampling.as_image_batch(sampling.sample(generator, n, seed=seed, output=output))
    samples = samples.reshape(samples.shape[:3] + (-1,))
    train, names = training_pictures(dataset, samples.shape[1:])
    if k >= len(train):
        raise ValueError(f"k = {k} is invalid: expected fewer than the {len(train)} training pictures")
    train_rows, sample_rows = _embed(train.astype(np.float32) / 255.0, space), _embed(samples, space)
    neighbours, distances = nearest_neighbours(sample_rows[:rows], train_rows, k)
    queries = np.sort(np.random.default_rng(seed).permutation(len(train))[:FLOOR_QUERIES])
    return Nearest(samples=samples, neighbours=neighbours, distances=distances, names=names, train=train,
                   scores=authenticity(train_rows, sample_rows), floor=authenticity_floor(train_rows, queries))


def save_nearest_grid(found: Nearest, path, scale: int = 2) -> Path:
    """A PNG with one row per shown sample: the sample, a gap, then its ``k`` nearest training pictures,
    nearest first."""
    rows, k = found.neighbours.shape
    left = image_grid(found.samples[:rows], ncols=1, scale=scale)
    right = image_grid(found.train[found.neighbours].reshape((-1,) + found.train.shape[1:]) / 255.0, ncols=k,
                       scale=scale)
    gap = np.full((left.shape[0], GAP * scale) + left.shape[2:], 255, np.uint8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate([left, gap, right], axis=1)).save(path)
    return path


def nearest_run(run_dir, out, n: int = 1000, rows: int = 8, k: int = 5, space: str = "pixels",
                seed: int = 0) -> dict:
    """:func:`nearest_training` for a run folder's generator: writes the grid to ``out`` (a .png) and
    ``<out>.json`` beside it (each shown sample's neighbours with names and distances, the scores and their
    floor); returns that JSON payload with ``"grid"`` and ``"path"``."""
    out = Path(out)
    if out.suffix.lower() != ".png":
        raise ValueError(f"--out {out} is invalid: expected a .png file for the grid (its .json is written beside it)")
    preset, generator = load_generator(run_dir)
    start = time.perf_counter()
    found = nearest_training(generator, preset.dataset, preset.output, n, rows, k, space, seed)
    payload = {
        "run": str(run_dir), "dataset": preset.dataset, "space": space, "n": int(n), "k": int(k),
        "n_train": int(len(found.train)), "authenticity": found.scores, "floor": found.floor,
        "rows": [[{"index": int(i), "name": found.names[i], "distance": round(float(d), 4)}
                  for i, d in zip(idx, dist)] for idx, dist in zip(found.neighbours, found.distances)],
        "seconds": round(time.perf_counter() - start, 2),
        "grid": str(save_nearest_grid(found, out)),
    }
    payload["path"] = str(atomic_write_json(out.with_suffix(".json"), payload))
    return payload


def format_scores(scores: dict, floor: dict) -> str:
    """The three authenticity scores of samples beside those of real pictures, and how to read them."""
    return (f"{'':27s}{'samples':>9s}{'real':>9s}\n"
            + "\n".join(f"{label:27s}{scores[key]:9.3f}{floor[key]:9.3f}" for key, label in SCORE_LABELS)
            + "\n(real: training pictures, each left out in turn. Copies score all three far below real, at "
              "distance 0; look at the grid.)")


def run_nearest_command(args) -> int:
    """``gan-lab nearest RUN --out FILE.png``: write the grid and its JSON, print the scores and each shown
    sample's nearest training pictures."""
    print(f"drawing {args.n} samples and finding their nearest training pictures ({SPACE_WORDS[args.space]}; "
          "about 40 s for 60,000 pictures with --space features)", flush=True)
    payload = nearest_run(args.run_dir, args.out, n=args.n, rows=args.rows, k=args.k, space=args.space,
                          seed=args.seed)
    scores, floor = payload["authenticity"], payload["floor"]
    print(f"{payload['run']}: {payload['n']} samples against the {payload['n_train']} training pictures of "
          f"{dataset_label(payload['dataset'])}, distances between {SPACE_WORDS[payload['space']]}")
    print(format_scores(scores, floor))
    for i, row in enumerate(payload["rows"]):
        print(f"  sample {i}: " + ", ".join(f"{r['name']} ({r['distance']:.3g})" for r in row))
    print(f"wrote {payload['grid']} (each row: a sample, then its {payload['k']} nearest training pictures) and "
          f"{payload['path']} ({payload['seconds']:.1f} s)")
    return 0
